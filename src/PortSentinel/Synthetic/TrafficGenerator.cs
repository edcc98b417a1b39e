using System.Numerics;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Synthetic;

/// <summary>What a synthetic capture contains.</summary>
public enum TrafficMix
{
    /// <summary>Benign traffic with the planted scans and the spoofed-source noise.</summary>
    Full,

    /// <summary>Benign traffic only: TCP connections, DNS, ping, ARP.</summary>
    BenignOnly,
}

/// <summary>
/// A deterministic generator of a large mixed Ethernet capture (IPv4 and IPv6), for benchmarks
/// and for tests of the whole engine. The same packet count and seed give the same bytes.
/// </summary>
/// <remarks>
/// <para>
/// Benign traffic is 256 interleaved sessions, each replaced by a new one when it ends: TCP
/// connections (handshake with the options a Linux stack sends, a request, 1–12 full-size
/// response segments with delayed ACKs, FIN both ways) between 350 clients and 56 servers, DNS
/// over UDP with replies, ping with replies, and ARP; 15% of the IP sessions are IPv6. Packets
/// are about 1 µs apart (a 1 Mpps link). Frames are cut at a 128-byte snaplen, so full-size
/// segments are 128 bytes captured and 1514 on the wire, with every length field as the real
/// packet had it.
/// </para>
/// <para>
/// Planted, each spread over its own stretch of the capture and answered as a Linux host
/// answers: three SYN scans of 1000 ports (one over IPv6), a UDP scan of 1000 ports answered by
/// ICMP port unreachables that quote the probe, a FIN scan of 1000 ports and an ICMP echo sweep
/// of a /24. Noise that must not raise a detection: a SYN flood against one web server from 127
/// spoofed IPv4 sources (answered with SYN-ACK), and SYNs from random spoofed IPv6 sources, one
/// each (answered with RST).
/// </para>
/// <para>
/// Addresses are all documentation ranges (RFC 5737: 192.0.2.0/24 servers, 198.51.100.0/24
/// clients, 203.0.113.0/24 scanners and spoofed sources; RFC 3849: 2001:db8::/32).
/// </para>
/// </remarks>
public sealed partial class TrafficGenerator
{
    /// <summary>The snaplen of generated captures: headers are always whole within it.</summary>
    public const int SnapLength = 128;

    /// <summary>The fewest packets of a <see cref="TrafficMix.Full"/> capture: below it the planted scans would crowd out the benign traffic.</summary>
    public const long MinimumPackets = 100_000;

    // 2025-01-01T00:00:00Z: a fixed start so that the same seed gives the same file.
    private const long Epoch = 1_735_689_600L * 1_000_000;

    private const int SessionSlots = 256;
    private const int Ipv4ServerCount = 40;
    private const int Ipv6ServerCount = 16;
    private const int Ipv4ClientCount = 250;
    private const int Ipv6ClientCount = 100;
    private const int ScanPorts = 1000;
    private const int SweepHosts = 256;
    private const int FloodSources = 127;

    // Steps through 0..n-1 in a scrambled order without a table: odd and prime, so coprime to
    // both 1000 and 256.
    private const int Stride = 7919;

    // 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737) as host-order integers.
    private const uint ServerNet = 0xC000_0200;
    private const uint ClientNet = 0xC633_6400;
    private const uint ScannerNet = 0xCB00_7100;

    // 2001:db8:0:1::/64 servers, 2001:db8:0:2::/64 clients, 2001:db8:bad::/48 scanner,
    // 2001:db8:ffff::/48 spoofed sources (RFC 3849).
    private const ulong ServerNet6 = 0x2001_0DB8_0000_0001UL;
    private const ulong ClientNet6 = 0x2001_0DB8_0000_0002UL;
    private const ulong ScannerNet6 = 0x2001_0DB8_0BAD_0000UL;
    private const ulong SpoofedNet6 = 0x2001_0DB8_FFFF_0000UL;

    private const ushort Resolver = 53;
    private static readonly NetAddress _resolver1 = NetAddress.FromV4(ServerNet | 53);
    private static readonly NetAddress _resolver2 = NetAddress.FromV4(ServerNet | 54);
    private static readonly NetAddress _resolver6 = new(ServerNet6, 0x53);
    private static readonly NetAddress _gateway = NetAddress.FromV4(ClientNet | 254);

    private readonly long _packets;
    private readonly int _seed;
    private readonly TrafficMix _mix;
    private readonly Session[] _sessions = new Session[SessionSlots];
    private readonly ScanRun[] _runs;
    private readonly ulong[] _floodSourcesSeen = new ulong[2];
    private SplitMix64 _rng;
    private long _generated;
    private long _now = Epoch;
    private ushort _ipId;

    private long _benign;
    private long _scan;
    private long _noise;
    private long _ipv6;
    private long _nonIp;
    private long _bytes;
    private int _spoofedIpv6Sources;

    /// <param name="packets">How many frames to generate.</param>
    /// <param name="seed">Any value; the same seed gives the same capture.</param>
    public TrafficGenerator(long packets, int seed, TrafficMix mix = TrafficMix.Full)
    {
        long minimum = mix == TrafficMix.Full ? MinimumPackets : 1;
        if (packets < minimum)
        {
            throw new ArgumentOutOfRangeException(nameof(packets), packets, $"A {mix} synthetic capture needs at least {minimum} packets.");
        }
        _packets = packets;
        _seed = seed;
        _mix = mix;
        _rng = new SplitMix64((ulong)(uint)seed * 0x9E37_79B9_7F4A_7C15UL + 1);
        _runs = mix == TrafficMix.Full ? PlanRuns(packets, ref _rng) : [];
    }

    public long Packets => _packets;

    /// <summary>Frames generated so far.</summary>
    public long Generated => _generated;

    /// <summary>
    /// Writes <paramref name="packets"/> frames to a pcap savefile at <paramref name="path"/>
    /// (created or overwritten) and returns what was written.
    /// </summary>
    public static TrafficSummary Write(string path, long packets, int seed, TrafficMix mix = TrafficMix.Full)
    {
        var generator = new TrafficGenerator(packets, seed, mix);
        long length;
        using (var writer = new PcapWriter(path, SnapLength, LinkType.Ethernet))
        {
            Span<byte> frame = stackalloc byte[SnapLength];
            while (generator.TryNext(frame, out long timestamp, out int wireLength, out int captured))
            {
                writer.Write(timestamp, frame[..captured], wireLength);
            }
            writer.Flush();
            length = writer.Length;
        }
        return generator.Summary() with { Bytes = length };
    }

    /// <summary>Generates <paramref name="packets"/> frames into memory.</summary>
    public static MemoryCapture Generate(int packets, int seed, TrafficMix mix = TrafficMix.Full) =>
        MemoryCapture.From(new TrafficGenerator(packets, seed, mix));

    /// <summary>
    /// Writes the next frame into <paramref name="frame"/> (at least <see cref="SnapLength"/>
    /// bytes); false when all frames have been generated.
    /// </summary>
    /// <param name="timestamp">Microseconds since the Unix epoch.</param>
    /// <param name="wireLength">The frame's length on the wire.</param>
    /// <param name="captured">How many bytes of <paramref name="frame"/> were written (at most <see cref="SnapLength"/>).</param>
    public bool TryNext(Span<byte> frame, out long timestamp, out int wireLength, out int captured)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frame.Length, SnapLength, nameof(frame));
        if (_generated >= _packets)
        {
            timestamp = 0;
            wireLength = 0;
            captured = 0;
            return false;
        }
        frame = frame[..SnapLength];
        // Mostly 1 µs apart, sometimes 0 or 2: a busy 1 Mpps link.
        _now += _rng.Below(3);
        timestamp = _now;

        int due = DueRun();
        if (due >= 0)
        {
            ref ScanRun run = ref _runs[due];
            captured = EmitRun(ref run, frame, out wireLength);
            if (run.Emitted == 1)
            {
                run.FirstTimestamp = _now;
            }
            run.LastTimestamp = _now;
            if (run.Noise)
            {
                _noise++;
            }
            else
            {
                _scan++;
            }
        }
        else
        {
            captured = EmitSession(ref _sessions[_rng.Below(SessionSlots)], frame, out wireLength);
            _benign++;
        }
        if (frame[12] == 0x86 && frame[13] == 0xDD)
        {
            _ipv6++;
        }
        _generated++;
        _bytes += captured;
        return true;
    }

    /// <summary>What has been generated so far (all of it once <see cref="TryNext"/> returned false).</summary>
    public TrafficSummary Summary()
    {
        IReadOnlyList<PlantedScan> scans = Describe(_runs);
        int floodSources = BitOperations.PopCount(_floodSourcesSeen[0]) + BitOperations.PopCount(_floodSourcesSeen[1]);
        return new TrafficSummary
        {
            Packets = _generated,
            Bytes = _bytes,
            Seed = _seed,
            Mix = _mix,
            First = Epoch,
            Last = _now,
            BenignPackets = _benign,
            ScanPackets = _scan,
            NoisePackets = _noise,
            NoiseSources = floodSources + _spoofedIpv6Sources,
            Ipv6Packets = _ipv6,
            NonIpPackets = _nonIp,
            Scans = scans,
        };
    }

    private static List<PlantedScan> Describe(ScanRun[] runs)
    {
        var scans = new List<PlantedScan>();
        foreach (ScanRun run in runs)
        {
            if (run.Noise)
            {
                continue;
            }
            (string name, ScanKinds kind, string targets, int probes) = run.Kind switch
            {
                RunKind.SynScan => ($"tcp-syn {ScanPorts} ports", ScanKinds.TcpSyn, run.Target.ToString(), ScanPorts),
                RunKind.FinScan => ($"tcp-fin {ScanPorts} ports", ScanKinds.TcpFin, run.Target.ToString(), ScanPorts),
                RunKind.UdpScan => ($"udp {ScanPorts} ports", ScanKinds.Udp, run.Target.ToString(), ScanPorts),
                _ => ($"icmp-sweep {SweepHosts} hosts", ScanKinds.IcmpSweep, run.Target + "/24", SweepHosts),
            };
            scans.Add(new PlantedScan
            {
                Name = name,
                Kind = kind,
                Source = run.Source,
                Targets = targets,
                Probes = probes,
                Packets = run.Emitted,
                First = run.FirstTimestamp,
                Last = run.LastTimestamp,
            });
        }
        return scans;
    }
}
