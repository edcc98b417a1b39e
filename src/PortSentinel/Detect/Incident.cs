using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>
/// The exact evidence of one recognised scan, kept while it lasts. One exists per scanning source,
/// so it may hold sets and bitmaps (about 25 KB) that the per-source table cannot afford.
/// </summary>
internal sealed class Incident
{
    private const int PortWords = 65536 / 64;

    private readonly ulong[] _tcpPorts = new ulong[PortWords];
    private readonly ulong[] _udpPorts = new ulong[PortWords];
    private readonly ulong[] _sctpPorts = new ulong[PortWords];
    private readonly HashSet<NetAddress> _targets = [];
    private readonly int _maxTargets;
    private readonly int[] _kindContacts = new int[ProbeKinds.Count];

    // A MinHash signature of the probed ports (Broder 1997): the share of equal slots between two
    // signatures estimates the Jaccard index of the two port sets (±0.12 at 16 slots), so
    // correlating scans costs 16 comparisons a pair instead of 3 × 8 KB of bitmaps.
    private const int SignatureSlots = 16;
    private readonly ulong[] _signature = CreateSignature();
    private Sketch256 _protocols;
    private int _targetsBeyond;

    public Incident(NetAddress source, string trigger, long now, int maxTargets)
    {
        Source = source;
        Trigger = trigger;
        First = now;
        Last = now;
        _maxTargets = maxTargets;
    }

    public NetAddress Source { get; }

    public string Trigger { get; }

    public long First { get; private set; }

    public long Last { get; private set; }

    public long Probes { get; set; }

    public int TcpPortCount { get; private set; }

    public int UdpPortCount { get; private set; }

    public int SctpPortCount { get; private set; }

    public int PortCount => TcpPortCount + UdpPortCount + SctpPortCount;

    public int TargetCount => _targets.Count + _targetsBeyond;

    public int ProtocolCount => _protocols.PopCount();

    /// <summary>Kinds that are facts about the incident rather than derived from counts: tripwire, slow, distributed, ip-protocol.</summary>
    public ScanKinds Flags { get; set; }

    public double MaxTrw { get; set; }

    public bool ThresholdCrossed { get; set; }

    public bool IsClosed { get; set; }

    /// <summary>The source answered a SYN-ACK sent to it (<see cref="Detection.Verified"/>).</summary>
    public bool Verified { get; set; }

    public int Open { get; private set; }

    public int Closed { get; private set; }

    public int Unreachable { get; private set; }

    public int Unanswered { get; private set; }

    public int Dropped { get; private set; }

    public IEnumerable<NetAddress> Targets => _targets;

    public void AddContact(in NetAddress target, ushort port, byte protocol, ProbeKind kind, long at)
    {
        if (at < First)
        {
            First = at;
        }
        if (at > Last)
        {
            Last = at;
        }
        _kindContacts[(int)kind]++;
        int added = protocol switch
        {
            IpProtocol.Tcp => SetBit(_tcpPorts, port),
            IpProtocol.Udp => SetBit(_udpPorts, port),
            IpProtocol.Sctp => SetBit(_sctpPorts, port),
            _ => 0,
        };
        if (added != 0)
        {
            switch (protocol)
            {
                case IpProtocol.Tcp:
                    TcpPortCount++;
                    break;
                case IpProtocol.Udp:
                    UdpPortCount++;
                    break;
                default:
                    SctpPortCount++;
                    break;
            }
            AddToSignature(SketchHash.Port(protocol, port));
        }
        if (_targets.Count < _maxTargets)
        {
            _targets.Add(target);
        }
        else if (!_targets.Contains(target))
        {
            // Beyond the cap the count is an upper bound: a repeat target beyond it is counted again.
            _targetsBeyond++;
        }
    }

    public void Touch(long at)
    {
        if (at > Last)
        {
            Last = at;
        }
    }

    public void AddProtocol(byte protocol) => _protocols.Set(protocol);

    public void AddProtocols(in WindowedSketch protocols)
    {
        for (int i = 0; i < 4; i++)
        {
            _protocols[i] |= protocols.Current[i] | protocols.Previous[i];
        }
    }

    /// <summary>Tallies a contact's outcome; <paramref name="previous"/> is the outcome it replaces, if any (open, then dropped).</summary>
    public void AddOutcome(FlowState outcome, FlowState previous = FlowState.Empty)
    {
        if (previous == FlowState.Open)
        {
            Open--;
        }
        switch (outcome)
        {
            case FlowState.Open:
                Open++;
                break;
            case FlowState.Closed:
                Closed++;
                break;
            case FlowState.Unreachable:
                Unreachable++;
                break;
            case FlowState.Silent:
                Unanswered++;
                break;
            case FlowState.Dropped:
                Dropped++;
                break;
        }
    }

    /// <summary>The estimated Jaccard index of the two incidents' probed ports (0 when either probed none).</summary>
    public double PortOverlap(Incident other)
    {
        if (PortCount == 0 || other.PortCount == 0)
        {
            return 0;
        }
        int equal = 0;
        for (int i = 0; i < SignatureSlots; i++)
        {
            if (_signature[i] == other._signature[i])
            {
                equal++;
            }
        }
        return (double)equal / SignatureSlots;
    }

    private static ulong[] CreateSignature()
    {
        var signature = new ulong[SignatureSlots];
        Array.Fill(signature, ulong.MaxValue);
        return signature;
    }

    private void AddToSignature(ulong portHash)
    {
        for (int i = 0; i < SignatureSlots; i++)
        {
            // Slot i uses its own hash function: the port hash remixed with a per-slot constant.
            ulong h = SketchHash.Mix(portHash ^ (0x9E37_79B9_7F4A_7C15UL * (ulong)(i + 1)));
            if (h < _signature[i])
            {
                _signature[i] = h;
            }
        }
    }

    /// <summary>Probe kinds and shapes from the evidence, with <see cref="Flags"/>; never none while the evidence holds a probe.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ScanKinds Kinds(DetectorOptions options)
    {
        ScanKinds kinds = Flags;
        for (int k = (int)ProbeKind.TcpSyn; k <= (int)ProbeKind.SctpInit; k++)
        {
            if (_kindContacts[k] >= options.MinProbesPerKind)
            {
                kinds |= ((ProbeKind)k).ToScanKind();
            }
        }
        int tcpPings = _kindContacts[(int)ProbeKind.TcpSyn] + _kindContacts[(int)ProbeKind.TcpAck];
        if (tcpPings >= options.HorizontalHosts && TcpPortCount <= options.PingSweepMaxPorts)
        {
            kinds = (kinds | ScanKinds.TcpPingSweep) & ~(ScanKinds.TcpSyn | ScanKinds.TcpAck);
        }
        int icmp = Math.Max(_kindContacts[(int)ProbeKind.IcmpEcho], Math.Max(_kindContacts[(int)ProbeKind.IcmpTimestamp], _kindContacts[(int)ProbeKind.IcmpMask]));
        if (icmp >= options.HorizontalHosts)
        {
            kinds |= ScanKinds.IcmpSweep;
        }
        if (ProtocolCount >= options.IpProtocols)
        {
            kinds |= ScanKinds.IpProtocol;
        }
        bool manyPorts = PortCount >= options.VerticalPorts;
        bool manyHosts = TargetCount >= options.HorizontalHosts;
        if (manyPorts && manyHosts)
        {
            kinds |= ScanKinds.Block;
        }
        else if (manyPorts)
        {
            kinds |= ScanKinds.Vertical;
        }
        else if (manyHosts)
        {
            kinds |= ScanKinds.Horizontal;
        }
        if (kinds == ScanKinds.None)
        {
            // Too few probes of any one kind to name it (a scanner that changes kind with each
            // probe): the port-probing kinds it used, rather than none.
            for (int k = (int)ProbeKind.TcpSyn; k <= (int)ProbeKind.SctpInit; k++)
            {
                if (_kindContacts[k] > 0)
                {
                    kinds |= ((ProbeKind)k).ToScanKind();
                }
            }
        }
        return kinds;
    }

    // Runs once per scanner on its way to a ban, too seldom for tiered compilation to optimise it:
    // at tier 0, with the port ranges written out, it took 0.1–0.35 ms of the first ban. So it and
    // what it calls are compiled optimised from the start.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Detection ToDetection(DetectorOptions options, bool final)
    {
        var targets = _targets.ToList();
        targets.Sort(static (a, b) => a.High != b.High ? a.High.CompareTo(b.High) : a.Low.CompareTo(b.Low));
        ScanKinds kinds = Kinds(options);
        double confidence = 1 / (1 + Math.Exp(-MaxTrw));
        if (ThresholdCrossed || (kinds & (ScanKinds.Slow | ScanKinds.IpProtocol)) != 0)
        {
            confidence = Math.Max(confidence, 0.9);
        }
        if ((kinds & ScanKinds.Tripwire) != 0)
        {
            confidence = 1;
        }
        return new Detection
        {
            Source = Source,
            Kinds = kinds,
            Targets = targets,
            TargetCount = TargetCount,
            Ports = PortCount,
            PortRanges = DescribePorts(),
            Protocols = ProtocolCount,
            Probes = Probes,
            First = FromMicros(First),
            Last = FromMicros(Last),
            Trigger = Trigger,
            Confidence = Math.Round(confidence, 4),
            Outcomes = new DetectionOutcomes(Open, Closed, Unreachable, Unanswered, Dropped),
            Final = final,
            Verified = Verified,
        };
    }

    internal static DateTimeOffset FromMicros(long micros) =>
        DateTimeOffset.UnixEpoch.AddTicks(micros * (TimeSpan.TicksPerMillisecond / 1000));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string DescribePorts()
    {
        var text = new StringBuilder();
        Describe(text, "tcp", _tcpPorts);
        Describe(text, "udp", _udpPorts);
        Describe(text, "sctp", _sctpPorts);
        return text.ToString();
    }

    // At most this many ranges per protocol are written out; the rest is summarised as "…".
    private const int MaxRanges = 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Describe(StringBuilder text, string name, ulong[] bits)
    {
        int ranges = 0;
        for (int port = Next(bits, 0, set: true); port < 65536; port = Next(bits, port, set: true))
        {
            int start = port;
            port = Next(bits, port, set: false);
            if (ranges == 0)
            {
                text.Append(text.Length == 0 ? "" : "; ").Append(name).Append(' ');
            }
            else
            {
                text.Append(',');
            }
            if (ranges == MaxRanges)
            {
                text.Append('…');
                return;
            }
            text.Append(start);
            if (port - 1 > start)
            {
                text.Append('-').Append(port - 1);
            }
            ranges++;
        }
    }

    /// <summary>The first port from <paramref name="from"/> on whose bit is <paramref name="set"/>, or 65536: a word at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Next(ulong[] bits, int from, bool set)
    {
        int w = from >> 6;
        if (w >= bits.Length)
        {
            return 65536;
        }
        ulong flip = set ? 0 : ulong.MaxValue;
        ulong word = (bits[w] ^ flip) & (ulong.MaxValue << (from & 63));
        while (word == 0)
        {
            if (++w == bits.Length)
            {
                return 65536;
            }
            word = bits[w] ^ flip;
        }
        return (w << 6) + BitOperations.TrailingZeroCount(word);
    }

    private static int SetBit(ulong[] bits, ushort port)
    {
        ref ulong word = ref bits[port >> 6];
        ulong mask = 1UL << (port & 63);
        if ((word & mask) != 0)
        {
            return 0;
        }
        word |= mask;
        return 1;
    }
}
