using System.Buffers.Binary;

namespace PortSentinel.Decode;

/// <summary>The network-layer decoder a link-layer header hands its payload to.</summary>
internal enum NetworkProtocol : byte
{
    None = 0,
    Ipv4,
    Ipv6,
}

/// <summary>
/// Reads the link-layer header of each <see cref="LinkType"/> far enough to know where the IP
/// header starts and which IP version it is. Sets nothing in the packet.
/// </summary>
internal static class LinkLayer
{
    private const int EthernetTypeOffset = 12;
    private const int EthernetHeaderLength = 14;
    private const int SllTypeOffset = 14;
    private const int SllHeaderLength = 16;
    private const int Sll2TypeOffset = 0;
    private const int Sll2HeaderLength = 20;
    private const int NullHeaderLength = 4;

    // A tag is the 2-byte TPID (read where the EtherType would be) and a 2-byte TCI, then the
    // inner EtherType (IEEE 802.1Q §9.3).
    private const int VlanTagLength = 4;

    // QinQ rarely stacks beyond two tags; a cap keeps a frame of repeated TPIDs from being walked.
    private const int MaxVlanTags = 3;

    private const ushort EtherTypeIpv4 = 0x0800;
    private const ushort EtherTypeIpv6 = 0x86DD;
    private const ushort EtherTypeVlan = 0x8100;       // IEEE 802.1Q
    private const ushort EtherTypeQinQ = 0x88A8;       // IEEE 802.1ad service tag
    private const ushort EtherTypeQinQLegacy = 0x9100; // pre-802.1ad QinQ

    // BSD socket address families as they appear in DLT_NULL/DLT_LOOP headers (pcap-linktype(7)).
    private const uint FamilyInet = 2;
    private const uint FamilyInet6NetBsd = 24; // also OpenBSD and BSD/OS
    private const uint FamilyInet6FreeBsd = 28;
    private const uint FamilyInet6Darwin = 30;

    /// <summary>
    /// Finds the network header: <paramref name="headerLength"/> bytes of link header precede it.
    /// Returns <see cref="DecodeEvent.Ok"/>, <see cref="DecodeEvent.IgnoredNotIp"/>,
    /// <see cref="DecodeEvent.IgnoredLinkType"/>, <see cref="DecodeEvent.LinkTruncated"/> or
    /// <see cref="DecodeEvent.VlanTooDeep"/>.
    /// </summary>
    internal static DecodeEvent Decode(
        ReadOnlySpan<byte> frame, LinkType link, out int headerLength, out NetworkProtocol network) => link switch
        {
            LinkType.Ethernet => Tagged(frame, EthernetTypeOffset, EthernetHeaderLength, out headerLength, out network),
            LinkType.LinuxSll => Tagged(frame, SllTypeOffset, SllHeaderLength, out headerLength, out network),
            LinkType.LinuxSll2 => Tagged(frame, Sll2TypeOffset, Sll2HeaderLength, out headerLength, out network),
            LinkType.Null => Family(frame, hostOrder: true, out headerLength, out network),
            LinkType.Loop => Family(frame, hostOrder: false, out headerLength, out network),
            LinkType.Raw or LinkType.RawDlt or LinkType.RawDltBsd => NoHeader(ByVersion(frame), out headerLength, out network),
            LinkType.Ipv4 => NoHeader(NetworkProtocol.Ipv4, out headerLength, out network),
            LinkType.Ipv6 => NoHeader(NetworkProtocol.Ipv6, out headerLength, out network),
            _ => NoHeader(NetworkProtocol.None, out headerLength, out network),
        };

    /// <summary>Raw IP: the packet starts at the first byte; <see cref="NetworkProtocol.None"/> means an unknown link type.</summary>
    private static DecodeEvent NoHeader(NetworkProtocol protocol, out int headerLength, out NetworkProtocol network)
    {
        headerLength = 0;
        network = protocol;
        return protocol == NetworkProtocol.None ? DecodeEvent.IgnoredLinkType : DecodeEvent.Ok;
    }

    /// <summary>
    /// A header with an EtherType at <paramref name="typeOffset"/> and its payload at
    /// <paramref name="payloadOffset"/>, followed by up to <see cref="MaxVlanTags"/> VLAN tags.
    /// Linux cooked captures carry a tag the same way when libpcap re-inserts an offloaded one.
    /// </summary>
    private static DecodeEvent Tagged(
        ReadOnlySpan<byte> frame, int typeOffset, int payloadOffset, out int headerLength, out NetworkProtocol network)
    {
        headerLength = 0;
        network = NetworkProtocol.None;
        if (frame.Length < payloadOffset)
        {
            return DecodeEvent.LinkTruncated;
        }
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[typeOffset..]);
        for (int tags = 0; IsVlanTag(etherType); tags++)
        {
            if (tags == MaxVlanTags)
            {
                return DecodeEvent.VlanTooDeep;
            }
            if (frame.Length < payloadOffset + VlanTagLength)
            {
                return DecodeEvent.LinkTruncated;
            }
            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[(payloadOffset + 2)..]);
            payloadOffset += VlanTagLength;
        }
        headerLength = payloadOffset;
        network = etherType switch
        {
            EtherTypeIpv4 => NetworkProtocol.Ipv4,
            EtherTypeIpv6 => NetworkProtocol.Ipv6,
            _ => NetworkProtocol.None,
        };
        return network == NetworkProtocol.None ? DecodeEvent.IgnoredNotIp : DecodeEvent.Ok;
    }

    private static bool IsVlanTag(ushort etherType) =>
        etherType is EtherTypeVlan or EtherTypeQinQ or EtherTypeQinQLegacy;

    /// <summary>
    /// BSD loopback: a 4-byte address family. DLT_NULL writes it in the byte order of the host
    /// that captured, which a reader cannot know, so both orders are tried; the families are all
    /// below 256, so the two readings never collide. DLT_LOOP writes it in network order.
    /// </summary>
    private static DecodeEvent Family(
        ReadOnlySpan<byte> frame, bool hostOrder, out int headerLength, out NetworkProtocol network)
    {
        headerLength = 0;
        network = NetworkProtocol.None;
        if (frame.Length < NullHeaderLength)
        {
            return DecodeEvent.LinkTruncated;
        }
        network = FromFamily(BinaryPrimitives.ReadUInt32BigEndian(frame));
        if (network == NetworkProtocol.None && hostOrder)
        {
            network = FromFamily(BinaryPrimitives.ReadUInt32LittleEndian(frame));
        }
        headerLength = NullHeaderLength;
        return network == NetworkProtocol.None ? DecodeEvent.IgnoredNotIp : DecodeEvent.Ok;
    }

    private static NetworkProtocol FromFamily(uint family) => family switch
    {
        FamilyInet => NetworkProtocol.Ipv4,
        FamilyInet6NetBsd or FamilyInet6FreeBsd or FamilyInet6Darwin => NetworkProtocol.Ipv6,
        _ => NetworkProtocol.None,
    };

    /// <summary>
    /// Raw IP has no link header: the version nibble decides. Anything but 6 goes to the IPv4
    /// decoder, which reports an empty frame as truncated and a bad nibble as a bad version.
    /// </summary>
    private static NetworkProtocol ByVersion(ReadOnlySpan<byte> frame) =>
        frame.Length > 0 && frame[0] >> 4 == 6 ? NetworkProtocol.Ipv6 : NetworkProtocol.Ipv4;
}
