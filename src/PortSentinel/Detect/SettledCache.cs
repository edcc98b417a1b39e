using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>
/// Remembers 5-tuples (both endpoints, protocol, either direction) whose contact has reached a
/// final state: an established connection, a refused or unanswered probe, an answered datagram or
/// echo. No later packet of such a 5-tuple can change what the detector knows, so it skips the
/// tables. Most packets on a link are such, and each would otherwise cost one or two random reads
/// of the flow table (on the bench capture, 56% of packets hit when only established segments were
/// cached per direction; see docs/performance.md for the figures with this rule). Direct-mapped,
/// 256 KB. A collision only evicts; a false hit needs two 5-tuples with equal 64-bit fingerprints.
/// </summary>
internal sealed class SettledCache
{
    private const int Size = 32768;

    /// <summary>The memory the cache takes, whatever the options.</summary>
    public const long Bytes = Size * sizeof(ulong);

    private readonly ulong[] _fingerprints = ResidentMemory.Touch(new ulong[Size]);

    /// <summary>The fingerprint of a packet's 5-tuple, the same in both directions; 0 for packets that must always be examined.</summary>
    public static ulong Fingerprint(in Packet p)
    {
        ushort sourcePort;
        ushort destinationPort;
        switch (p.Protocol)
        {
            case IpProtocol.Tcp:
            case IpProtocol.Udp:
                sourcePort = p.SourcePort;
                destinationPort = p.DestinationPort;
                break;
            case IpProtocol.Icmp:
            case IpProtocol.Ipv6Icmp:
                // A request and its reply share a fingerprint; errors always need examining.
                int family = IcmpFamily(p.IcmpType, p.Protocol == IpProtocol.Ipv6Icmp);
                if (family < 0)
                {
                    return 0;
                }
                sourcePort = destinationPort = (ushort)family;
                break;
            default:
                return 0;
        }
        // Each endpoint is mixed on its own, then the two are added: addition commutes, so both
        // directions give one value. The sum of two mixed values needs no mixing of its own.
        ulong sum = Endpoint(p.Source, sourcePort) + Endpoint(p.Destination, destinationPort);
        return (sum ^ (p.Protocol * 0x27D4_EB2F_1656_67C5UL)) | 1;
    }

    /// <summary>The request type of an echo, timestamp or address-mask request or reply; -1 for other types.</summary>
    public static int IcmpFamily(byte type, bool v6) => (v6, type) switch
    {
        (false, 8) or (false, 0) => 8,
        (false, 13) or (false, 14) => 13,
        (false, 17) or (false, 18) => 17,
        (true, 128) or (true, 129) => 128,
        _ => -1,
    };

    // 0 is no fingerprint (a packet the cache cannot hold), and it is what an empty slot holds:
    // it is never contained and never added.
    public bool Contains(ulong fingerprint) => fingerprint != 0 && _fingerprints[SketchHash.Index(fingerprint, Size - 1)] == fingerprint;

    public void Add(ulong fingerprint)
    {
        if (fingerprint != 0)
        {
            _fingerprints[SketchHash.Index(fingerprint, Size - 1)] = fingerprint;
        }
    }

    /// <summary>Asks the CPU to bring the fingerprint's line in ahead of <see cref="Contains"/>.</summary>
    public void Prefetch(ulong fingerprint) => ResidentMemory.Prefetch(ref _fingerprints[SketchHash.Index(fingerprint, Size - 1)]);

    private static ulong Endpoint(in NetAddress address, ushort port) =>
        SketchHash.Mix((address.High * 0x9E37_79B9_7F4A_7C15UL) ^ (address.Low * 0xC2B2_AE3D_27D4_EB4FUL) ^ port);
}
