using PortSentinel.Decode;

namespace PortSentinel.Synthetic;

// The planted scans and the spoofed-source noise: the plan, the runs and their probe and answer frames.
public sealed partial class TrafficGenerator
{
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
}
