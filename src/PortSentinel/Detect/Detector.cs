using System.Runtime.CompilerServices;
using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>What the detector did, for health and metrics. Single-writer (the capture thread).</summary>
public sealed class DetectorCounters
{
    public long Packets { get; internal set; }

    /// <summary>First contacts: new (source, target, port or ICMP type, protocol) probes.</summary>
    public long FirstContacts { get; internal set; }

    /// <summary>Packets whose 5-tuple's contact was already final, which skipped the tables (<see cref="SettledCache"/>).</summary>
    public long SettledSkips { get; internal set; }

    /// <summary>UDP traceroute probes recognised and left out of detection.</summary>
    public long Traceroute { get; internal set; }

    public long Raised { get; internal set; }

    public long Closed { get; internal set; }
}

/// <summary>
/// Recognises scans in a stream of decoded packets (both directions), on packet time: the same
/// input always gives the same detections. Not thread-safe: one detector per capture thread.
/// Allocates nothing per packet; only recognising a scanner (rare) allocates its evidence.
/// </summary>
public sealed class Detector
{
    private const long Second = 1_000_000;

    // Expired waits are resolved, idle scans closed and distributed scans correlated this often.
    private const long SweepInterval = Second;

    private const int CorrelationPeers = 256;

    private readonly DetectorOptions _options;
    private readonly IDetectionSink _sink;
    private readonly FlowTable _flows;
    private readonly SourceTable _sources;
    private readonly SettledCache _settled = new();
    private readonly Dictionary<NetAddress, Incident> _active = [];
    private readonly List<Incident> _activeList = [];
    private readonly ulong[] _tripwireTcp = new ulong[1024];
    private readonly ulong[] _tripwireUdp = new ulong[1024];

    private readonly long _halfWindow;
    private readonly long _window;
    private readonly long _halfSlowWindow;
    private readonly long _slowWindow;
    private readonly long _outcomeTimeout;
    private readonly long _idle;

    // TRW (Jung, Paxson, Berger, Balakrishnan 2004, §4): each first-contact outcome multiplies the
    // likelihood ratio by θ1/θ0 (success) or (1−θ1)/(1−θ0) (failure); the walk decides "scanner"
    // at β/α and "benign" at (1−β)/(1−α). Kept as logarithms. With the published defaults a
    // failure adds ln 4 and a success ln ¼, so four straight failures reach ln 99.
    private readonly double _trwSuccess;
    private readonly double _trwFailure;
    private readonly double _trwUpper;
    private readonly double _trwLower;

    private long _now;
    private long _lastSweep;
    private int _pending;
    private bool _correlate;

    public Detector(DetectorOptions options, IDetectionSink sink)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        IReadOnlyList<string> errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(Environment.NewLine, errors), nameof(options));
        }
        _options = options;
        _sink = sink;
        _window = options.WindowSeconds * Second;
        _halfWindow = _window / 2;
        _slowWindow = options.SlowWindowSeconds * Second;
        _halfSlowWindow = _slowWindow / 2;
        _outcomeTimeout = options.OutcomeTimeoutMilliseconds * 1000L;
        _idle = options.IdleSeconds * Second;
        _flows = new FlowTable(options.FlowCapacity);
        _sources = new SourceTable(options.SourceCapacity, _window);
        _trwSuccess = Math.Log(options.TrwTheta1 / options.TrwTheta0);
        _trwFailure = Math.Log((1 - options.TrwTheta1) / (1 - options.TrwTheta0));
        _trwUpper = Math.Log(options.TrwBeta / options.TrwAlpha);
        _trwLower = Math.Log((1 - options.TrwBeta) / (1 - options.TrwAlpha));
        foreach (int port in options.TripwireTcpPorts)
        {
            _tripwireTcp[port >> 6] |= 1UL << (port & 63);
        }
        foreach (int port in options.TripwireUdpPorts)
        {
            _tripwireUdp[port >> 6] |= 1UL << (port & 63);
        }
    }

    public DetectorCounters Counters { get; } = new();

    public long SourcesEvicted => _sources.Evicted;

    public int ActiveDetections => _activeList.Count;

    /// <summary>Feeds one decoded packet (of either direction).</summary>
    public void Process(in Packet packet) => Process(packet, Prepare(packet));

    /// <summary>
    /// Starts bringing in the line of the settled cache that <see cref="Process(in Packet, ulong)"/>
    /// will read for this packet, and returns the token to pass it. Called some packets ahead, it
    /// hides that latency behind the work on the packets between (see <see cref="CaptureProcessor"/>).
    /// </summary>
    internal ulong Prepare(in Packet packet)
    {
        if (!packet.HasTransport)
        {
            return 0;
        }
        ulong fingerprint = SettledCache.Fingerprint(packet);
        if (fingerprint != 0)
        {
            _settled.Prefetch(fingerprint);
        }
        return fingerprint;
    }

    /// <summary>
    /// Once the settled cache's line has arrived: when the packet will need the tables, starts
    /// bringing in the flow-table sets that its handler looks up, for either direction (not for
    /// ICMP errors, which are rare). A hint only: it changes nothing the detector knows.
    /// </summary>
    internal void Anticipate(in Packet p, ulong fingerprint)
    {
        if (!p.HasTransport || _settled.Contains(fingerprint))
        {
            return;
        }
        switch (p.Protocol)
        {
            case IpProtocol.Tcp:
                _flows.Prefetch(p.Source, p.Destination, p.DestinationPort, p.Protocol);
                if ((p.TcpFlags & (TcpFlags.Syn | TcpFlags.Ack)) != TcpFlags.Syn)
                {
                    _flows.Prefetch(p.Destination, p.Source, p.SourcePort, p.Protocol);
                }
                break;
            case IpProtocol.Udp:
            case IpProtocol.Sctp:
                _flows.Prefetch(p.Source, p.Destination, p.DestinationPort, p.Protocol);
                _flows.Prefetch(p.Destination, p.Source, p.SourcePort, p.Protocol);
                break;
            case IpProtocol.Icmp:
            case IpProtocol.Ipv6Icmp:
                int family = SettledCache.IcmpFamily(p.IcmpType, p.Protocol == IpProtocol.Ipv6Icmp);
                if (family >= 0)
                {
                    _flows.Prefetch(p.Source, p.Destination, (ushort)family, p.Protocol);
                    _flows.Prefetch(p.Destination, p.Source, (ushort)family, p.Protocol);
                }
                break;
        }
    }

    /// <summary>
    /// Moves the detector's clock to <paramref name="now"/> (microseconds since the Unix epoch) when
    /// no packet has: a live capture with nothing to read calls it, so probes met by silence are
    /// settled, and scanners raised, without waiting for the next packet.
    /// </summary>
    public void Advance(long now)
    {
        if (now > _now)
        {
            _now = now;
        }
        if (_now - _lastSweep >= SweepInterval)
        {
            Sweep(expireAll: false);
        }
    }

    internal void Process(in Packet packet, ulong fingerprint)
    {
        Counters.Packets++;
        if (packet.IpVersion == 0)
        {
            return;
        }
        if (packet.Timestamp > _now)
        {
            _now = packet.Timestamp;
        }
        if (_now - _lastSweep >= SweepInterval)
        {
            Sweep(expireAll: false);
        }
        if (!packet.HasTransport)
        {
            if (!packet.IsFragment && !IsTransport(packet.Protocol))
            {
                OnOtherProtocol(packet);
            }
            return;
        }
        if (_settled.Contains(fingerprint))
        {
            Counters.SettledSkips++;
            return;
        }
        bool settled = packet.Protocol switch
        {
            IpProtocol.Tcp => OnTcp(packet),
            IpProtocol.Udp => OnUdp(packet),
            IpProtocol.Icmp or IpProtocol.Ipv6Icmp => OnIcmp(packet),
            IpProtocol.Sctp => OnSctp(packet),
            _ => false,
        };
        if (settled)
        {
            _settled.Add(fingerprint);
        }
    }

    /// <summary>
    /// The input has ended: probes still waiting count as unanswered, and every open detection is
    /// closed and reported.
    /// </summary>
    public void Flush()
    {
        Sweep(expireAll: true);
        Correlate();
        _activeList.Sort(static (a, b) => a.First != b.First ? a.First.CompareTo(b.First) : a.Source.High != b.Source.High ? a.Source.High.CompareTo(b.Source.High) : a.Source.Low.CompareTo(b.Source.Low));
        foreach (Incident incident in _activeList.ToArray())
        {
            Close(incident);
        }
    }

    private static bool IsTransport(byte protocol) =>
        protocol is IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Icmp or IpProtocol.Ipv6Icmp or IpProtocol.Sctp;

    private static bool IsGroupAddress(in NetAddress address) =>
        address.IsV4 ? (address.V4 >> 28) == 0xE || address.V4 == uint.MaxValue : (address.High >> 56) == 0xFF;

    // Each handler returns true when the contact the packet belongs to has reached a final state,
    // so that no later packet of the same 5-tuple, in either direction, can change anything: the
    // caller then remembers the 5-tuple in the settled cache.

    private static bool IsFinal(FlowState state, byte protocol) =>
        state is FlowState.Established or FlowState.MidStream or FlowState.Closed or FlowState.Unreachable
            or FlowState.Silent or FlowState.Dropped
        // An answered TCP contact may still be dropped unused; an answered datagram or echo is done.
        || (state == FlowState.Open && protocol != IpProtocol.Tcp);

    private bool OnTcp(in Packet p)
    {
        const TcpFlags core = TcpFlags.Fin | TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Psh | TcpFlags.Ack | TcpFlags.Urg;
        TcpFlags f = p.TcpFlags & core;
        ProbeKind kind = ProbeKinds.ClassifyTcp(p.TcpFlags, p.TcpOptions);

        if (kind is ProbeKind.TcpSyn or ProbeKind.TcpConnect)
        {
            return NewContact(p.Source, p.Destination, p.DestinationPort, IpProtocol.Tcp, kind, FlowState.Pending);
        }
        if (kind.IsStealth())
        {
            return NewContact(p.Source, p.Destination, p.DestinationPort, IpProtocol.Tcp, kind, FlowState.Judged);
        }

        // An answer from the responder of a contact we saw opened, or more from its initiator?
        int slot = _flows.Find(p.Destination, p.Source, p.SourcePort, IpProtocol.Tcp, _now);
        if (slot >= 0)
        {
            return OnTcpAnswer(slot, f);
        }
        slot = _flows.Find(p.Source, p.Destination, p.DestinationPort, IpProtocol.Tcp, _now);
        if (slot >= 0)
        {
            return OnTcpContinuation(slot, p, f);
        }

        if ((f & TcpFlags.Rst) != 0 || (f & TcpFlags.Syn) != 0)
        {
            return false; // a stray RST or unsolicited SYN-ACK (backscatter): nobody's probe
        }
        // Nothing known either way: a probe (nmap -sA/-sW/-sM) if the answer is RST, else a
        // connection that began before we were watching. Judge when the answer comes.
        ref Flow fresh = ref _flows.At(AddFlow(p.Source, p.Destination, p.DestinationPort, IpProtocol.Tcp, out _));
        fresh.State = kind != ProbeKind.None && p.PayloadLength == 0 ? FlowState.Unsolicited : FlowState.MidStream;
        fresh.Kind = kind;
        return false;
    }

    /// <summary>A segment from the responder of a contact we saw opened.</summary>
    private bool OnTcpAnswer(int slot, TcpFlags f)
    {
        ref Flow reply = ref _flows.At(slot);
        if ((f & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack))
        {
            if (reply.State == FlowState.Pending)
            {
                Resolve(slot, FlowState.Open);
            }
        }
        else if ((f & TcpFlags.Rst) != 0)
        {
            if (reply.State == FlowState.Pending)
            {
                Resolve(slot, FlowState.Closed);
            }
            else if (reply.State == FlowState.Judged)
            {
                // Already counted as a failure; the RST only tells the evidence the port is closed.
                reply.State = FlowState.Closed;
                Source(_flows.Ends(slot).Initiator).Incident?.AddOutcome(FlowState.Closed);
            }
            else if (reply.State == FlowState.Unsolicited)
            {
                // The RST confirms the unsolicited ACK or FIN/ACK was a probe: count it now.
                ref FlowEnds ends = ref _flows.Ends(slot);
                FirstContact(ends.Initiator, ends.Responder, ends.Port, IpProtocol.Tcp, reply.Kind);
                Resolve(slot, FlowState.Closed);
            }
        }
        else if (reply.State == FlowState.Unsolicited)
        {
            reply.State = FlowState.MidStream;
        }
        return IsFinal(reply.State, IpProtocol.Tcp);
    }

    /// <summary>A further segment from the initiator of a known contact.</summary>
    private bool OnTcpContinuation(int slot, in Packet p, TcpFlags f)
    {
        ref Flow own = ref _flows.At(slot);
        if (own.State is FlowState.Open or FlowState.Handshaken)
        {
            if (p.PayloadLength > 0)
            {
                own.State = FlowState.Established;
            }
            else if ((f & (TcpFlags.Rst | TcpFlags.Fin)) != 0)
            {
                Resolve(slot, FlowState.Dropped);
            }
            else if (f == TcpFlags.Ack)
            {
                own.State = FlowState.Handshaken;
            }
        }
        else if (own.State == FlowState.Unsolicited && p.PayloadLength > 0)
        {
            own.State = FlowState.MidStream;
        }
        return IsFinal(own.State, IpProtocol.Tcp);
    }

    private bool OnUdp(in Packet p)
    {
        if (IsGroupAddress(p.Destination))
        {
            return true;
        }
        int replySlot = _flows.Find(p.Destination, p.Source, p.SourcePort, IpProtocol.Udp, _now);
        if (replySlot >= 0)
        {
            if (_flows.At(replySlot).State == FlowState.Pending)
            {
                Resolve(replySlot, FlowState.Open);
            }
            return IsFinal(_flows.At(replySlot).State, IpProtocol.Udp);
        }
        // Traceroute (Van Jacobson's UDP mode, the Linux and BSD default) probes ports 33434 and up
        // with TTLs of at most 30: a vertical scan in shape, a path measurement in fact.
        if (p.DestinationPort is >= 33434 and <= 33534 && p.Ttl <= 30)
        {
            Counters.Traceroute++;
            return false; // counted per probe
        }
        return NewContact(p.Source, p.Destination, p.DestinationPort, IpProtocol.Udp, ProbeKind.Udp, FlowState.Pending);
    }

    private bool OnIcmp(in Packet p)
    {
        bool v6 = p.Protocol == IpProtocol.Ipv6Icmp;
        byte type = p.IcmpType;
        ProbeKind request = (v6, type) switch
        {
            (false, 8) or (true, 128) => ProbeKind.IcmpEcho,
            (false, 13) => ProbeKind.IcmpTimestamp,
            (false, 17) => ProbeKind.IcmpMask,
            _ => ProbeKind.None,
        };
        if (request != ProbeKind.None)
        {
            return IsGroupAddress(p.Destination)
                || NewContact(p.Source, p.Destination, type, p.Protocol, request, FlowState.Pending);
        }
        int answered = (v6, type) switch
        {
            (false, 0) => 8,
            (false, 14) => 13,
            (false, 18) => 17,
            (true, 129) => 128,
            _ => -1,
        };
        if (answered >= 0)
        {
            int replySlot = _flows.Find(p.Destination, p.Source, (ushort)answered, p.Protocol, _now);
            if (replySlot < 0)
            {
                return false;
            }
            if (_flows.At(replySlot).State == FlowState.Pending)
            {
                Resolve(replySlot, FlowState.Open);
            }
            return IsFinal(_flows.At(replySlot).State, p.Protocol);
        }
        bool unreachable = v6 ? type == 1 : type == 3;
        if (unreachable && p.HasEmbedded)
        {
            // The error quotes the probe (RFC 792, RFC 4443 §3.1): match it to the contact it answers.
            ushort port = p.EmbeddedHasPorts ? p.EmbeddedDestinationPort : p.EmbeddedIcmpType;
            int probeSlot = _flows.Find(p.EmbeddedSource, p.EmbeddedDestination, port, p.EmbeddedProtocol, _now);
            if (probeSlot >= 0 && _flows.At(probeSlot).State == FlowState.Pending)
            {
                Resolve(probeSlot, FlowState.Unreachable);
            }
        }
        return false;
    }

    private bool OnSctp(in Packet p)
    {
        // RFC 9260 §3.2: chunk types 1 INIT, 2 INIT ACK, 6 ABORT.
        switch (p.SctpChunkType)
        {
            case 1:
                NewContact(p.Source, p.Destination, p.DestinationPort, IpProtocol.Sctp, ProbeKind.SctpInit, FlowState.Pending);
                break;
            case 2:
            case 6:
                int replySlot = _flows.Find(p.Destination, p.Source, p.SourcePort, IpProtocol.Sctp, _now);
                if (replySlot >= 0 && _flows.At(replySlot).State == FlowState.Pending)
                {
                    Resolve(replySlot, p.SctpChunkType == 2 ? FlowState.Open : FlowState.Closed);
                }
                break;
        }
        return false;
    }

    private void OnOtherProtocol(in Packet p)
    {
        ref SourceState source = ref Source(p.Source);
        Rotate(ref source);
        source.Protocols.Current.Set(p.Protocol);
        source.Incident?.AddProtocol(p.Protocol);
        if (source.Protocols.CountExact() >= _options.IpProtocols)
        {
            Raise(ref source, ScanKinds.IpProtocol, "ip-protocol");
        }
    }

    /// <summary>
    /// A packet that opens a contact: counted once per (source, target, port, protocol). Returns
    /// whether the contact is already final (a repeat of a judged probe).
    /// </summary>
    private bool NewContact(in NetAddress from, in NetAddress to, ushort port, byte protocol, ProbeKind kind, FlowState state)
    {
        ref Flow flow = ref _flows.At(AddFlow(from, to, port, protocol, out bool added));
        if (!added)
        {
            return IsFinal(flow.State, protocol);
        }
        flow.Kind = kind;
        flow.State = state;
        if (state == FlowState.Pending)
        {
            _pending++;
        }
        FirstContact(from, to, port, protocol, kind);
        if (state == FlowState.Judged)
        {
            Judge(from, to, port, protocol);
        }
        return false;
    }

    /// <summary>Finds or adds a contact, keeping the count of contacts that await an answer right when one is evicted.</summary>
    private int AddFlow(in NetAddress from, in NetAddress to, ushort port, byte protocol, out bool added)
    {
        long evictedPending = _flows.EvictedPending;
        int slot = _flows.FindOrAdd(from, to, port, protocol, _now, out added);
        _pending -= (int)(_flows.EvictedPending - evictedPending);
        return slot;
    }

    private void FirstContact(in NetAddress from, in NetAddress to, ushort port, byte protocol, ProbeKind kind)
    {
        Counters.FirstContacts++;
        ref SourceState source = ref Source(from);
        source.Contacts++;
        if (source.Incident is { } incident)
        {
            incident.Probes++;
            incident.AddContact(to, port, protocol, kind, _now);
        }
        ulong[]? tripwire = protocol switch
        {
            IpProtocol.Tcp => _tripwireTcp,
            IpProtocol.Udp => _tripwireUdp,
            _ => null,
        };
        if (tripwire is not null && (tripwire[port >> 6] & (1UL << (port & 63))) != 0)
        {
            Raise(ref source, ScanKinds.Tripwire, "tripwire");
        }
    }

    private void Resolve(int slot, FlowState outcome)
    {
        ref Flow flow = ref _flows.At(slot);
        ref FlowEnds ends = ref _flows.Ends(slot);
        FlowState previous = flow.State;
        if (previous == FlowState.Pending)
        {
            _pending--;
        }
        flow.State = outcome;
        ref SourceState source = ref Source(ends.Initiator);
        source.Incident?.AddOutcome(outcome, previous);
        Rotate(ref source);
        switch (outcome)
        {
            case FlowState.Open:
                source.ShortOutcomes.Successes++;
                source.LongOutcomes.Successes++;
                Walk(ref source, success: true);
                break;
            case FlowState.Dropped:
                // The contact succeeded (already walked) but was abandoned unused: scanner-like,
                // so it counts towards the thresholds as a failure.
                source.ShortOutcomes.Demote();
                source.LongOutcomes.Demote();
                Fail(ref source, ends.Responder, ends.Port, ends.Protocol);
                break;
            default:
                source.ShortOutcomes.Failures++;
                source.LongOutcomes.Failures++;
                Walk(ref source, success: false);
                Fail(ref source, ends.Responder, ends.Port, ends.Protocol);
                break;
        }
    }

    /// <summary>A probe that is a failure by its nature (illegal flags): no answer is awaited.</summary>
    private void Judge(in NetAddress from, in NetAddress to, ushort port, byte protocol)
    {
        ref SourceState source = ref Source(from);
        Rotate(ref source);
        source.ShortOutcomes.Failures++;
        source.LongOutcomes.Failures++;
        Walk(ref source, success: false);
        Fail(ref source, to, port, protocol);
    }

    private void Walk(ref SourceState source, bool success)
    {
        source.Trw += success ? _trwSuccess : _trwFailure;
        if (source.Trw >= _trwUpper)
        {
            Raise(ref source, ScanKinds.None, "trw");
            source.Trw = _trwUpper;
        }
        else if (source.Trw <= _trwLower)
        {
            source.Trw = 0; // benign so far: start a fresh walk so that later scanning is still seen
        }
    }

    /// <summary>A failed (or abandoned) first contact: into the short and long windows, then the thresholds.</summary>
    private void Fail(ref SourceState source, in NetAddress target, ushort port, byte protocol)
    {
        ulong host = target.Hash64();
        source.FailedHosts.Current.Add(host);
        source.SlowHosts.Current.Add(host);
        if (protocol is IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Sctp)
        {
            ulong portHash = SketchHash.Port(protocol, port);
            source.FailedPorts.Current.Add(portHash);
            source.SlowPorts.Current.Add(portHash);
        }
        double ratio = _options.MinFailureRatio;
        if ((source.FailedPorts.Estimate() >= _options.VerticalPorts || source.FailedHosts.Estimate() >= _options.HorizontalHosts)
            && source.ShortOutcomes.FailuresAtLeast(ratio))
        {
            source.ShortCrossed = true;
            Raise(ref source, ScanKinds.None, "threshold");
            source.Incident!.ThresholdCrossed = true;
        }
        else if ((source.SlowPorts.Estimate() >= _options.SlowPorts || source.SlowHosts.Estimate() >= _options.SlowHosts)
            && source.LongOutcomes.FailuresAtLeast(ratio))
        {
            Raise(ref source, source.ShortCrossed ? ScanKinds.None : ScanKinds.Slow, "slow");
        }
    }

    private void Rotate(ref SourceState source)
    {
        long age = _now - source.ShortGeneration;
        if (age >= _halfWindow)
        {
            bool whole = age >= _window;
            source.FailedPorts.Rotate(whole);
            source.FailedHosts.Rotate(whole);
            source.Protocols.Rotate(whole);
            source.ShortOutcomes.Rotate(whole);
            source.ShortGeneration = _now;
        }
        age = _now - source.LongGeneration;
        if (age >= _halfSlowWindow)
        {
            bool whole = age >= _slowWindow;
            source.SlowPorts.Rotate(whole);
            source.SlowHosts.Rotate(whole);
            source.LongOutcomes.Rotate(whole);
            source.LongGeneration = _now;
        }
    }

    private ref SourceState Source(in NetAddress address)
    {
        NetAddress key = address.MaskV6(_options.Ipv6Prefix);
        ref SourceState source = ref _sources.FindOrAdd(key, _now, out bool added);
        if (added)
        {
            // The source may have been evicted while its scan was still open.
            source.Incident = _active.GetValueOrDefault(key);
        }
        else if (source.Incident is { IsClosed: true })
        {
            source.Incident = null;
            source.ShortCrossed = false;
        }
        source.LastSeen = _now;
        source.Incident?.Touch(_now);
        return ref source;
    }

    /// <summary>Recognises the source as a scanner: opens its incident (once) and adds <paramref name="flags"/>.</summary>
    private void Raise(ref SourceState source, ScanKinds flags, string trigger)
    {
        Incident? incident = source.Incident;
        if (incident is null)
        {
            _sink.Raising(source.Key);
            incident = new Incident(source.Key, trigger, _now, _options.MaxTargetsPerDetection);
            Seed(incident);
            incident.Probes = Math.Max(incident.Probes, source.Contacts);
            incident.AddProtocols(source.Protocols);
            incident.MaxTrw = source.Trw;
            incident.Flags |= flags;
            source.Incident = incident;
            _active[source.Key] = incident;
            _activeList.Add(incident);
            _correlate = true;
            Counters.Raised++;
            _sink.Raised(incident.ToDetection(_options, final: false));
            return;
        }
        incident.Flags |= flags;
        incident.MaxTrw = Math.Max(incident.MaxTrw, source.Trw);
    }

    /// <summary>
    /// Gives a new incident the source's earlier contacts, which the flow table still holds; not
    /// those older than the idle time, which belonged to an earlier scan if to any.
    /// </summary>
    // Runs once per scanner, over the whole flow table: at tier 0 (no inlining) that loop alone
    // delayed the first ban by milliseconds, so it is compiled optimised from the start.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Seed(Incident incident)
    {
        uint recent = FlowTable.Seconds(_now - _idle);
        Span<Flow> flows = _flows.Slots;
        for (int i = 0; i < flows.Length; i++)
        {
            // The age first: it rules out nearly every slot with one comparison.
            ref Flow f = ref flows[i];
            if (f.LastSeen < recent || f.Tag == 0 || f.Kind == ProbeKind.None || f.State is FlowState.Unsolicited or FlowState.MidStream)
            {
                continue;
            }
            ref FlowEnds ends = ref _flows.Ends(i);
            if (ends.Initiator.MaskV6(_options.Ipv6Prefix) != incident.Source)
            {
                continue;
            }
            incident.AddContact(ends.Responder, ends.Port, ends.Protocol, f.Kind, ends.Created);
            incident.AddOutcome(f.State);
        }
        incident.Touch(_now);
    }

    private void Sweep(bool expireAll)
    {
        _lastSweep = _now;
        if (_pending > 0)
        {
            for (int i = 0; i < _flows.Capacity && _pending > 0; i++)
            {
                if (_flows.At(i).State == FlowState.Pending && (expireAll || _now - _flows.Ends(i).Created >= _outcomeTimeout))
                {
                    Resolve(i, FlowState.Silent);
                }
            }
        }
        if (_correlate)
        {
            Correlate();
        }
        for (int i = _activeList.Count - 1; i >= 0; i--)
        {
            if (_now - _activeList[i].Last >= _idle)
            {
                Close(_activeList[i]);
            }
        }
    }

    /// <summary>
    /// Marks as distributed the scans of sources that probe the same host and much the same ports
    /// at the same time (nmap -D decoys; a botnet sharing out a port range).
    /// </summary>
    private void Correlate()
    {
        _correlate = false;
        if (_activeList.Count < _options.DistributedSources)
        {
            return;
        }
        var byTarget = new Dictionary<NetAddress, List<Incident>>();
        foreach (Incident incident in _activeList)
        {
            if (incident.PortCount == 0)
            {
                continue;
            }
            foreach (NetAddress target in incident.Targets.Take(16))
            {
                if (!byTarget.TryGetValue(target, out List<Incident>? group))
                {
                    byTarget[target] = group = [];
                }
                group.Add(incident);
            }
        }
        foreach (List<Incident> group in byTarget.Values)
        {
            if (group.Count < _options.DistributedSources)
            {
                continue;
            }
            foreach (Incident incident in group)
            {
                // Compared with at most CorrelationPeers others: a host scanned by hundreds of
                // sources at once is plainly a distributed scan, and the cost must stay bounded.
                int alike = 1;
                foreach (Incident other in group.Take(CorrelationPeers))
                {
                    if (!ReferenceEquals(other, incident) && incident.PortOverlap(other) >= _options.DistributedOverlap)
                    {
                        alike++;
                    }
                }
                if (alike >= _options.DistributedSources)
                {
                    incident.Flags |= ScanKinds.Distributed;
                }
            }
        }
    }

    private void Close(Incident incident)
    {
        incident.IsClosed = true;
        _active.Remove(incident.Source);
        _activeList.Remove(incident);
        Counters.Closed++;
        _sink.Closed(incident.ToDetection(_options, final: true));
    }
}
