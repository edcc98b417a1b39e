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
public sealed class TrafficGenerator
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

    // ---- Planted scans and noise -------------------------------------------------------------

    private enum RunKind : byte
    {
        SynScan,
        FinScan,
        UdpScan,
        IcmpSweep,
        SynFlood,
        SpoofedSyn,
    }

    /// <summary>
    /// A scan (or noise stream) spread evenly over its share of the capture: each of its packets
    /// is due <see cref="Interval"/> packets after the previous one, and a probe's answers follow
    /// it on the next due slots (tens to hundreds of microseconds later, by the capture's size).
    /// </summary>
    private struct ScanRun
    {
        public RunKind Kind;
        public bool Noise;
        public NetAddress Source;
        public NetAddress Target;
        public byte Ttl;
        public ushort SourcePort;
        public ushort EchoId;
        public int Order;
        public int Probes;
        public int TotalPackets;
        public double Interval;
        public double NextDue;

        public int Probe;
        public int Phase;
        public int Emitted;
        public long FirstTimestamp;
        public long LastTimestamp;

        // The probe under way, kept for its answers.
        public NetAddress ProbeSource;
        public NetAddress ProbeTarget;
        public ushort ProbeSourcePort;
        public ushort ProbePort;
        public uint ProbeSequence;
        public ushort ProbeIpId;
        public int Answers;
    }

    // The plan: what runs, from where, against what, and over which share of the capture.
    private static readonly ScanRun[] _plan =
    [
        Run(RunKind.SynScan, Scanner(11), Server(10), ttl: 47, 0.05, 0.30),
        Run(RunKind.SynScan, Scanner(12), Server(20), ttl: 52, 0.40, 0.55),
        Run(RunKind.SynScan, new NetAddress(ScannerNet6, 0x13), new NetAddress(ServerNet6, 5), ttl: 55, 0.60, 0.85),
        Run(RunKind.UdpScan, Scanner(21), _resolver1, ttl: 44, 0.10, 0.45),
        Run(RunKind.FinScan, Scanner(31), Server(30), ttl: 58, 0.50, 0.70),
        Run(RunKind.IcmpSweep, Scanner(41), NetAddress.FromV4(ServerNet), ttl: 49, 0.20, 0.30),
        Run(RunKind.SynFlood, default, Server(1), ttl: 60, 0.02, 0.98),
        Run(RunKind.SpoofedSyn, default, default, ttl: 61, 0.01, 0.99),
    ];

    /// <summary>
    /// The scans every <see cref="TrafficMix.Full"/> capture holds, whatever its size and seed
    /// (<see cref="PlantedScan.Packets"/>, <see cref="PlantedScan.First"/> and
    /// <see cref="PlantedScan.Last"/> are 0 here; <see cref="Summary"/> fills them in).
    /// </summary>
    public static IReadOnlyList<PlantedScan> PlannedScans => Describe(_plan);

    private static ScanRun[] PlanRuns(long packets, ref SplitMix64 rng)
    {
        ScanRun[] runs = (ScanRun[])_plan.Clone();
        for (int i = 0; i < runs.Length; i++)
        {
            ref ScanRun run = ref runs[i];
            run.Order = rng.Below(1 << 16);
            run.SourcePort = (ushort)rng.Between(32768, 65535);
            run.EchoId = (ushort)rng.Below(1 << 16);
            long start = (long)(run.NextDue * packets);
            long end = (long)(run.Interval * packets);
            if (run.Noise)
            {
                // A SYN flood at 0.2% of the packets, spoofed IPv6 SYNs at 0.1%; each with one answer.
                double share = run.Kind == RunKind.SynFlood ? 0.002 : 0.001;
                run.Probes = (int)Math.Max(1, packets * share / 2);
                run.TotalPackets = 2 * run.Probes;
            }
            else
            {
                run.Probes = run.Kind == RunKind.IcmpSweep ? SweepHosts : ScanPorts;
                int total = 0;
                for (int k = 0; k < run.Probes; k++)
                {
                    ProbeTarget(run, k, out NetAddress target, out ushort port);
                    total += 1 + AnswersTo(run.Kind, target, port);
                }
                run.TotalPackets = total;
            }
            run.Interval = (double)(end - start) / run.TotalPackets;
            run.NextDue = start;
        }
        return runs;
    }

    // Start and end are parked in NextDue and Interval until PlanRuns scales them to packets.
    private static ScanRun Run(RunKind kind, NetAddress source, NetAddress target, byte ttl, double start, double end) => new()
    {
        Kind = kind,
        Noise = kind is RunKind.SynFlood or RunKind.SpoofedSyn,
        Source = source,
        Target = target,
        Ttl = ttl,
        NextDue = start,
        Interval = end,
    };

    /// <summary>The run whose next packet is most overdue, or −1 when none is due.</summary>
    private int DueRun()
    {
        int best = -1;
        double bestDue = _generated;
        ScanRun[] runs = _runs;
        for (int i = 0; i < runs.Length; i++)
        {
            if (runs[i].NextDue <= bestDue)
            {
                best = i;
                bestDue = runs[i].NextDue;
            }
        }
        return best;
    }

    private static void ProbeTarget(in ScanRun run, int k, out NetAddress target, out ushort port)
    {
        if (run.Kind == RunKind.IcmpSweep)
        {
            target = NetAddress.FromV4(run.Target.V4 | (uint)(((long)k * Stride + run.Order) % SweepHosts));
            port = 0;
            return;
        }
        target = run.Target;
        port = (ushort)((((long)k * Stride) + run.Order) % ScanPorts + 1);
    }

    /// <summary>How many packets answer a probe, as a Linux target answers it.</summary>
    private static int AnswersTo(RunKind kind, in NetAddress target, ushort port) => kind switch
    {
        // Open: SYN-ACK, then the scanner's RST. Closed: RST. Every 97th port is filtered (silent).
        RunKind.SynScan => TcpOpen(target, port) ? 2 : port % 97 == 0 ? 0 : 1,
        // RFC 9293 §3.10.7.1: a closed port answers a FIN with RST; an open one says nothing.
        RunKind.FinScan => TcpOpen(target, port) ? 0 : 1,
        // Open: a reply. Closed: port unreachable, except that Linux rate-limits ICMP errors
        // (net.ipv4.icmp_ratelimit), modelled as every fifth port unanswered.
        RunKind.UdpScan => UdpOpen(target, port) ? 1 : port % 5 == 0 ? 0 : 1,
        RunKind.IcmpSweep => Alive(target) ? 1 : 0,
        _ => 1,
    };

    private int EmitRun(ref ScanRun run, Span<byte> frame, out int wireLength)
    {
        int captured;
        if (run.Phase == 0)
        {
            StartProbe(ref run);
            captured = EmitProbe(ref run, frame, out wireLength);
            if (run.Answers == 0)
            {
                run.Probe++;
            }
            else
            {
                run.Phase = 1;
            }
        }
        else
        {
            captured = EmitAnswer(ref run, frame, out wireLength);
            if (run.Phase == run.Answers)
            {
                run.Phase = 0;
                run.Probe++;
            }
            else
            {
                run.Phase++;
            }
        }
        run.Emitted++;
        run.NextDue = run.Emitted >= run.TotalPackets ? double.PositiveInfinity : run.NextDue + run.Interval;
        return captured;
    }

    private void StartProbe(ref ScanRun run)
    {
        run.ProbeSequence = _rng.NextUInt32();
        run.ProbeIpId = NextIpId();
        run.ProbeSourcePort = run.SourcePort;
        switch (run.Kind)
        {
            case RunKind.SynFlood:
                {
                    int host = _rng.Below(FloodSources);
                    _floodSourcesSeen[host >> 6] |= 1UL << (host & 63);
                    run.ProbeSource = NetAddress.FromV4(ScannerNet | (uint)(128 + host));
                    run.ProbeTarget = run.Target;
                    run.ProbePort = 80;
                    run.ProbeSourcePort = (ushort)_rng.Between(1024, 65535);
                    run.Answers = 1;
                    break;
                }
            case RunKind.SpoofedSyn:
                run.ProbeSource = new NetAddress(SpoofedNet6 | (ushort)_rng.Next(), _rng.Next());
                run.ProbeTarget = new NetAddress(ServerNet6, (ulong)_rng.Between(1, Ipv6ServerCount));
                run.ProbePort = (ushort)_rng.Between(1024, 65535);
                run.ProbeSourcePort = (ushort)_rng.Between(1024, 65535);
                run.Answers = 1;
                _spoofedIpv6Sources++;
                break;
            default:
                ProbeTarget(run, run.Probe, out run.ProbeTarget, out run.ProbePort);
                run.ProbeSource = run.Source;
                run.Answers = AnswersTo(run.Kind, run.ProbeTarget, run.ProbePort);
                break;
        }
    }

    private static int EmitProbe(ref ScanRun run, Span<byte> frame, out int wireLength)
    {
        ref readonly NetAddress s = ref run.ProbeSource;
        ref readonly NetAddress t = ref run.ProbeTarget;
        return run.Kind switch
        {
            // nmap -sS: window 1024, MSS only.
            RunKind.SynScan => FrameComposer.Tcp(frame, s, t, run.Ttl, run.ProbeIpId, run.ProbeSourcePort, run.ProbePort,
                run.ProbeSequence, 0, TcpFlags.Syn, 1024, TcpOptionSet.MssOnly, 0, 0, out wireLength),
            RunKind.FinScan => FrameComposer.Tcp(frame, s, t, run.Ttl, run.ProbeIpId, run.ProbeSourcePort, run.ProbePort,
                run.ProbeSequence, 0, TcpFlags.Fin, 1024, TcpOptionSet.None, 0, 0, out wireLength),
            RunKind.UdpScan => FrameComposer.Udp(frame, s, t, run.Ttl, run.ProbeIpId, run.ProbeSourcePort, run.ProbePort, 0, out wireLength),
            RunKind.IcmpSweep => FrameComposer.Echo(frame, s, t, run.Ttl, run.ProbeIpId, reply: false, run.EchoId, (ushort)run.Probe, 0, out wireLength),
            // hping3-style flood SYNs: no options, small window.
            _ => FrameComposer.Tcp(frame, s, t, run.Ttl, run.ProbeIpId, run.ProbeSourcePort, run.ProbePort,
                run.ProbeSequence, 0, TcpFlags.Syn, 512, TcpOptionSet.None, 0, 0, out wireLength),
        };
    }

    private int EmitAnswer(ref ScanRun run, Span<byte> frame, out int wireLength)
    {
        ref readonly NetAddress s = ref run.ProbeSource;
        ref readonly NetAddress t = ref run.ProbeTarget;
        const byte ttl = 64;
        ushort id = NextIpId();
        switch (run.Kind)
        {
            case RunKind.SynScan when run.Answers == 2:
                if (run.Phase == 1)
                {
                    return FrameComposer.Tcp(frame, t, s, ttl, id, run.ProbePort, run.ProbeSourcePort, _rng.NextUInt32(),
                        run.ProbeSequence + 1, TcpFlags.Syn | TcpFlags.Ack, 64240, TcpOptionSet.MssOnly, 0, 0, out wireLength);
                }
                // The scanner's kernel knows no such connection and resets it.
                return FrameComposer.Tcp(frame, s, t, run.Ttl, id, run.ProbeSourcePort, run.ProbePort, run.ProbeSequence + 1,
                    0, TcpFlags.Rst, 0, TcpOptionSet.None, 0, 0, out wireLength);
            case RunKind.SynScan:
            case RunKind.FinScan:
            case RunKind.SpoofedSyn:
                return FrameComposer.Tcp(frame, t, s, ttl, id, run.ProbePort, run.ProbeSourcePort, 0,
                    run.ProbeSequence + 1, TcpFlags.Rst | TcpFlags.Ack, 0, TcpOptionSet.None, 0, 0, out wireLength);
            case RunKind.SynFlood:
                return FrameComposer.Tcp(frame, t, s, ttl, id, run.ProbePort, run.ProbeSourcePort, _rng.NextUInt32(),
                    run.ProbeSequence + 1, TcpFlags.Syn | TcpFlags.Ack, 64240, TcpOptionSet.MssOnly, 0, 0, out wireLength);
            case RunKind.UdpScan when UdpOpen(t, run.ProbePort):
                return FrameComposer.Udp(frame, t, s, ttl, id, run.ProbePort, run.ProbeSourcePort, 40, out wireLength);
            case RunKind.UdpScan:
                return FrameComposer.PortUnreachable(frame, s, t, ttl, id, run.Ttl, run.ProbeIpId, run.ProbeSourcePort,
                    run.ProbePort, 0, out wireLength);
            default:
                return FrameComposer.Echo(frame, t, s, ttl, id, reply: true, run.EchoId, (ushort)run.Probe, 0, out wireLength);
        }
    }

    // ---- Benign sessions ---------------------------------------------------------------------

    private enum SessionKind : byte
    {
        Finished,
        Tcp,
        Dns,
        Ping,
        Arp,
    }

    private struct Session
    {
        public SessionKind Kind;
        public int Step;
        public NetAddress Client;
        public NetAddress Server;
        public ushort ClientPort;
        public ushort ServerPort;
        public uint ClientSequence;
        public uint ServerSequence;
        public uint ClientClock;
        public uint ServerClock;
        public int Request;
        public int Response;
        public int Segments;
        public int Unacknowledged;
        public ushort Identifier;
        public int Exchanges;
    }

    private int EmitSession(ref Session session, Span<byte> frame, out int wireLength)
    {
        if (session.Kind == SessionKind.Finished)
        {
            StartSession(ref session);
        }
        int captured = session.Kind switch
        {
            SessionKind.Tcp => TcpStep(ref session, frame, out wireLength),
            SessionKind.Dns => DnsStep(ref session, frame, out wireLength),
            SessionKind.Ping => PingStep(ref session, frame, out wireLength),
            _ => ArpStep(ref session, frame, out wireLength),
        };
        session.Step++;
        return captured;
    }

    private void StartSession(ref Session s)
    {
        int roll = _rng.Below(100);
        bool v6 = _rng.Below(100) < 15;
        s = default;
        s.Client = v6
            ? new NetAddress(ClientNet6, (ulong)_rng.Between(1, Ipv6ClientCount))
            : NetAddress.FromV4(ClientNet | (uint)_rng.Between(1, Ipv4ClientCount));
        s.ClientPort = (ushort)_rng.Between(32768, 60999); // Linux ip_local_port_range
        s.ClientClock = _rng.NextUInt32();
        s.ServerClock = _rng.NextUInt32();
        if (roll < 45)
        {
            s.Kind = SessionKind.Tcp;
            s.Server = RandomServer(v6);
            s.ServerPort = RandomService(s.Server);
            s.ClientSequence = _rng.NextUInt32();
            s.ServerSequence = _rng.NextUInt32();
            s.Request = _rng.Between(80, 700);
            s.Segments = _rng.Between(1, 12);
            s.Response = _rng.Between(100, MaxSegment(v6));
        }
        else if (roll < 83)
        {
            s.Kind = SessionKind.Dns;
            s.Server = v6 ? _resolver6 : _rng.Below(4) == 0 ? _resolver2 : _resolver1;
            s.ServerPort = Resolver;
            s.Identifier = (ushort)_rng.Below(1 << 16);
            s.Request = _rng.Between(20, 50);
            s.Response = s.Request + _rng.Between(16, 160);
        }
        else if (roll < 97)
        {
            s.Kind = SessionKind.Ping;
            s.Server = RandomServer(v6);
            s.Identifier = (ushort)_rng.Below(1 << 16);
            s.Exchanges = _rng.Between(1, 4);
        }
        else
        {
            s.Kind = SessionKind.Arp;
            s.Client = NetAddress.FromV4(ClientNet | (uint)_rng.Between(1, Ipv4ClientCount));
            s.Server = _gateway;
        }
    }

    private NetAddress RandomServer(bool v6) => v6
        ? new NetAddress(ServerNet6, (ulong)_rng.Between(1, Ipv6ServerCount))
        : Server(_rng.Between(1, Ipv4ServerCount));

    /// <summary>A service the server offers: mostly HTTPS, then HTTP, SSH and SMTP where they run.</summary>
    private ushort RandomService(in NetAddress server)
    {
        int roll = _rng.Below(100);
        ushort port = roll switch
        {
            < 70 => 443,
            < 90 => 80,
            < 97 => 22,
            _ => 25,
        };
        return TcpOpen(server, port) ? port : (ushort)443;
    }

    private int TcpStep(ref Session s, Span<byte> frame, out int wireLength)
    {
        const byte clientTtl = 64;
        const byte serverTtl = 57;
        bool v6 = !s.Client.IsV4;
        ushort id = NextIpId();
        switch (s.Step)
        {
            case 0:
                return FrameComposer.Tcp(frame, s.Client, s.Server, clientTtl, id, s.ClientPort, s.ServerPort,
                    s.ClientSequence++, 0, TcpFlags.Syn, 64240, TcpOptionSet.LinuxSyn, s.ClientClock++, 0, out wireLength);
            case 1:
                return FrameComposer.Tcp(frame, s.Server, s.Client, serverTtl, id, s.ServerPort, s.ClientPort,
                    s.ServerSequence++, s.ClientSequence, TcpFlags.Syn | TcpFlags.Ack, 65160, TcpOptionSet.LinuxSyn, s.ServerClock++, 0, out wireLength);
            case 2:
                return ClientSegment(ref s, frame, id, TcpFlags.Ack, 0, out wireLength);
            case 3:
                return ClientSegment(ref s, frame, id, TcpFlags.Psh | TcpFlags.Ack, s.Request, out wireLength);
            case 4:
                // The response, with the client's delayed ACK after every second segment (RFC 9293 §3.8.6.3).
                if (s.Segments > 0 && s.Unacknowledged < 2)
                {
                    s.Step--;
                    s.Segments--;
                    s.Unacknowledged++;
                    int payload = s.Segments == 0 ? s.Response : MaxSegment(v6);
                    TcpFlags flags = s.Segments == 0 ? TcpFlags.Psh | TcpFlags.Ack : TcpFlags.Ack;
                    return ServerSegment(ref s, frame, id, flags, payload, out wireLength);
                }
                if (s.Segments > 0)
                {
                    s.Step--;
                }
                s.Unacknowledged = 0;
                return ClientSegment(ref s, frame, id, TcpFlags.Ack, 0, out wireLength);
            case 5:
                return ClientSegment(ref s, frame, id, TcpFlags.Fin | TcpFlags.Ack, 0, out wireLength);
            case 6:
                return ServerSegment(ref s, frame, id, TcpFlags.Fin | TcpFlags.Ack, 0, out wireLength);
            default:
                s.Kind = SessionKind.Finished;
                return ClientSegment(ref s, frame, id, TcpFlags.Ack, 0, out wireLength);
        }
    }

    private static int ClientSegment(ref Session s, Span<byte> frame, ushort id, TcpFlags flags, int payload, out int wireLength)
    {
        uint sequence = s.ClientSequence;
        s.ClientSequence += (uint)payload + ((flags & TcpFlags.Fin) != 0 ? 1u : 0u);
        return FrameComposer.Tcp(frame, s.Client, s.Server, 64, id, s.ClientPort, s.ServerPort, sequence,
            s.ServerSequence, flags, 502, TcpOptionSet.Timestamps, s.ClientClock++, payload, out wireLength);
    }

    private static int ServerSegment(ref Session s, Span<byte> frame, ushort id, TcpFlags flags, int payload, out int wireLength)
    {
        uint sequence = s.ServerSequence;
        s.ServerSequence += (uint)payload + ((flags & TcpFlags.Fin) != 0 ? 1u : 0u);
        return FrameComposer.Tcp(frame, s.Server, s.Client, 57, id, s.ServerPort, s.ClientPort, sequence,
            s.ClientSequence, flags, 509, TcpOptionSet.Timestamps, s.ServerClock++, payload, out wireLength);
    }

    private int DnsStep(ref Session s, Span<byte> frame, out int wireLength)
    {
        ushort id = NextIpId();
        if (s.Step == 0)
        {
            return FrameComposer.Udp(frame, s.Client, s.Server, 64, id, s.ClientPort, Resolver, s.Request, out wireLength);
        }
        s.Kind = SessionKind.Finished;
        return FrameComposer.Udp(frame, s.Server, s.Client, 63, id, Resolver, s.ClientPort, s.Response, out wireLength);
    }

    private int PingStep(ref Session s, Span<byte> frame, out int wireLength)
    {
        ushort id = NextIpId();
        bool reply = (s.Step & 1) != 0;
        ushort sequence = (ushort)(s.Step / 2 + 1);
        if (reply && s.Step / 2 + 1 == s.Exchanges)
        {
            s.Kind = SessionKind.Finished;
        }
        // ping's default: 56 data bytes.
        return reply
            ? FrameComposer.Echo(frame, s.Server, s.Client, 57, id, reply: true, s.Identifier, sequence, 56, out wireLength)
            : FrameComposer.Echo(frame, s.Client, s.Server, 64, id, reply: false, s.Identifier, sequence, 56, out wireLength);
    }

    private int ArpStep(ref Session s, Span<byte> frame, out int wireLength)
    {
        _nonIp++;
        if (s.Step == 0)
        {
            return FrameComposer.Arp(frame, s.Client, s.Server, reply: false, out wireLength);
        }
        s.Kind = SessionKind.Finished;
        return FrameComposer.Arp(frame, s.Server, s.Client, reply: true, out wireLength);
    }

    // ---- Hosts ---------------------------------------------------------------------------------

    private static NetAddress Server(int host) => NetAddress.FromV4(ServerNet | (uint)host);

    private static NetAddress Scanner(int host) => NetAddress.FromV4(ScannerNet | (uint)host);

    private static bool IsServer(in NetAddress host, out int number)
    {
        if (host.IsV4 && (host.V4 & 0xFFFF_FF00) == ServerNet && (host.V4 & 0xFF) is >= 1 and <= Ipv4ServerCount)
        {
            number = (int)(host.V4 & 0xFF);
            return true;
        }
        if (!host.IsV4 && host.High == ServerNet6 && host.Low is >= 1 and <= Ipv6ServerCount)
        {
            number = (int)host.Low;
            return true;
        }
        number = 0;
        return false;
    }

    private static bool IsResolver(in NetAddress host) => host == _resolver1 || host == _resolver2 || host == _resolver6;

    /// <summary>Every server runs HTTP and HTTPS; every fourth SSH, every tenth SMTP; resolvers DNS over TCP.</summary>
    private static bool TcpOpen(in NetAddress host, ushort port)
    {
        if (IsResolver(host))
        {
            return port == 53;
        }
        return IsServer(host, out int n) && (port is 80 or 443 || (port == 22 && n % 4 == 0) || (port == 25 && n % 10 == 0));
    }

    /// <summary>Resolvers answer DNS and NTP.</summary>
    private static bool UdpOpen(in NetAddress host, ushort port) => IsResolver(host) && port is 53 or 123;

    private static bool Alive(in NetAddress host) => IsResolver(host) || IsServer(host, out _);

    private static int MaxSegment(bool v6) => v6 ? 1500 - 40 - 32 : 1500 - 20 - 32; // MTU − IP − TCP with timestamps

    private ushort NextIpId() => ++_ipId;
}
