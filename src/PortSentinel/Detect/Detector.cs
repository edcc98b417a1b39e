using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>
/// Recognises scans in a stream of decoded packets (both directions), on packet time: the same
/// input always gives the same detections. Not thread-safe: one detector per capture thread.
/// Allocates nothing per packet; only recognising a scanner (rare) allocates its evidence.
/// </summary>
public sealed partial class Detector
{
    private const long Second = 1_000_000;

    // Expired waits are resolved, idle scans closed and distributed scans correlated this often.
    private const long SweepInterval = Second;

    internal const int CorrelationPeers = 256;

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

    /// <summary>
    /// The memory the tables of one detector take with <paramref name="options"/>: sources, first
    /// contacts, the settled cache and the tripwire bitmaps. Allocated, and made resident, when the
    /// detector is made; what grows later (open detections' evidence) is small beside it.
    /// </summary>
    public static long TableBytes(DetectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return TableBytes(options.SourceCapacity, options.FlowCapacity);
    }

    internal static long TableBytes(long sources, long flows) =>
        (sources * SourceTable.BytesPerEntry) + (flows * FlowTable.BytesPerEntry) + FlowTable.FixedBytes + SettledCache.Bytes + (2 * 1024 * sizeof(ulong));

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
}
