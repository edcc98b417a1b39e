using PortSentinel.Capture;
using PortSentinel.Common;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Record;
using PortSentinel.Respond;

namespace PortSentinel;

/// <summary>What the sensor captures on and with, what it detects, and how its firewall guards.</summary>
public sealed record SensorOptions
{
    /// <summary>The interfaces to capture on, waited for when absent or down; none: see <see cref="EveryInterface"/>.</summary>
    public IReadOnlyList<string> Interfaces { get; init; } = [];

    /// <summary>
    /// With no <see cref="Interfaces"/> named, capture on every interface but loopback that is up,
    /// now or later (<c>run</c> without <c>--interface</c>); false: the sensor only decides what it
    /// is handed (the trap, tests).
    /// </summary>
    public bool EveryInterface { get; init; }

    public LiveCaptureOptions Capture { get; init; } = new();

    public TrapOptions Trap { get; init; } = new();

    public DetectorOptions Detection { get; init; } = new();

    public FirewallOptions Firewall { get; init; } = new();
}

/// <summary>
/// The live sensor: wires the stages and owns their threads. A capture thread per interface
/// decodes and detects inline (<see cref="LiveCaptures"/>); detections leave it through the
/// bounded queue of the one respond worker (<see cref="RespondWorker"/>), which decides, changes
/// the firewall and records (<see cref="Responder"/>), retries refused bans, lifts expired ones
/// and keeps the firewall's setup intact. On a fleet's store a thread follows the fleet's
/// blocklist and allowlist (<see cref="FleetSync"/>). Nothing on a capture thread waits for I/O.
/// </summary>
public sealed class Sensor : IDisposable
{
    // How often bans that ran out are lifted from a firewall without timeouts, and refused ones tried again.
    private static readonly TimeSpan _sweepEvery = TimeSpan.FromSeconds(1);

    private readonly SensorOptions _options;
    private readonly RespondContext _respond;
    private readonly Responder _responder;
    private readonly RespondWorker _worker;
    private readonly ManualCommands _manual;
    private readonly LiveCaptures _captures;
    private readonly FleetSync? _fleet;
    private readonly DateTimeOffset _started;
    private readonly Lock _trapLock = new();
    private TrapOptions _trapOptions;
    private ConnectTrap? _trap;
    private bool _stopped;

    /// <summary>Where the warm-up at <see cref="Start"/> writes its scratch capture and store, leaving nothing: <c>run</c> gives the data directory; else the system's temporary directory.</summary>
    public string WarmUpDirectory { get; init; } = Path.GetTempPath();

    public Sensor(SensorOptions options, Decider decider, IFirewall firewall, IStore store, SensorLog log, SensorFeed? feed = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        _options = options;
        _trapOptions = options.Trap;
        _respond = new RespondContext(firewall, store, feed ?? new SensorFeed(), log);
        _responder = new Responder(_respond, decider, options.Firewall);
        _worker = new RespondWorker(_responder);
        _manual = new ManualCommands(_worker, _responder);
        _captures = new LiveCaptures(options.Capture, log);
        if (store is IFleetStore fleet)
        {
            _fleet = new FleetSync(fleet, _worker, _responder);
        }
        _started = _respond.Time.GetUtcNow();
    }

    /// <summary>Detections that found the queue full and were counted instead of queued (logged at stop).</summary>
    public long Overflow => _worker.Overflow;

    /// <summary>AbuseIPDB lookups, when configured: the caller owns it (and disposes it after the sensor).</summary>
    public ReputationService? Reputation
    {
        get => _responder.Reputation;
        init => _responder.Reputation = value;
    }

    /// <summary>Alerts and bans as they happen, for the dashboard's live pages.</summary>
    public SensorFeed Feed => _respond.Feed;

    /// <summary>The decider in force (replaced on reload): its allowlist and ban policy.</summary>
    public Decider Decider => _responder.Decider;

    /// <summary>The firewall backend's name.</summary>
    public string FirewallName => _respond.Firewall.Name;

    /// <summary>The counters since start, read now; safe from any thread.</summary>
    public SensorStatistics Statistics()
    {
        RespondCounters counters = _respond.Counters;
        return new SensorStatistics(_started, _captures.Statistics(), counters.DetectionsByKind(), counters.BansAdded, counters.FirewallErrors, Overflow,
            counters.Latency(), counters.LatencySumMs, counters.LatencyCount);
    }

    /// <inheritdoc cref="ManualCommands.Block"/>
    public Task<(BanRecord? Ban, string? Refusal)> Block(NetPrefix network, TimeSpan? length, string reason, string by) => _manual.Block(network, length, reason, by);

    /// <inheritdoc cref="ManualCommands.Preempt"/>
    public Task<PreemptResult> Preempt(IReadOnlyList<NetPrefix> networks, TimeSpan length, string reason) => _manual.Preempt(networks, length, reason);

    /// <inheritdoc cref="ManualCommands.Unblock"/>
    public Task<(int Lifted, IReadOnlyList<FirewallFailure> Failures)> Unblock(IReadOnlyList<NetPrefix> networks, string by) => _manual.Unblock(networks, by);

    /// <summary>
    /// Sets up the firewall, puts back the bans still in force, follows the fleet's blocklist
    /// (on a fleet's store), warms the ban path up and starts capturing.
    /// </summary>
    public void Start()
    {
        _fleet?.FindPlace();
        _responder.Integrity.SetUp(_responder.Decider);
        _worker.Every(_sweepEvery, "retrying refused bans", _responder.Retries.RetryDue);
        _worker.Every(_sweepEvery, "deciding again what the ban cap refused", _responder.RedecideOverCap);
        _worker.Every(_sweepEvery, "lifting expired bans", () => BanExpiry.Lift(_respond.Store, _respond.Firewall, _respond.Time.GetUtcNow(), _respond.Log));
        _worker.Every(LiveCaptures.CheckEvery, "reading capture statistics", _captures.ReportDrops);
        _worker.Every(LiveCaptures.CheckEvery, "checking the firewall", _responder.Integrity.Check);
        _worker.Start();
        _fleet?.Start();
        WarmUp.Run(WarmUpDirectory, _worker, _respond.Firewall, _respond.Log);
        _captures.Start(_options.Interfaces, _options.EveryInterface, Detector);
        StartTrap();
        if (Reputation is { } reputation)
        {
            // Onto the respond thread; lost only when the sensor stops or its queue is full.
            reputation.Looked = known => _ = _worker.Run(() =>
            {
                _responder.OnReputation(known);
                return true;
            });
            reputation.Start();
        }
    }

    /// <summary>
    /// Applies a new configuration while running (SIGHUP), from any thread. New thresholds
    /// (<paramref name="detection"/>, null: unchanged) start fresh detectors from each capture's
    /// next packet on: scans still open are reported as ended, and counted anew. The allowlist and
    /// ban policy apply from the next decision on. New trap ports (<paramref name="trap"/>, null:
    /// unchanged) reopen the trap.
    /// </summary>
    public void Reconfigure(DetectorOptions? detection, Allowlist allowlist, DecideOptions decide, TrapOptions? trap)
    {
        // Detection first: it is what may fail (memory), and it fails before anything changed.
        if (detection is not null)
        {
            _captures.Replace(() => new Detector(detection, new QueueSink(_worker)));
        }
        _responder.Reconfigure(allowlist, decide);
        if (trap is not null)
        {
            lock (_trapLock)
            {
                if (_stopped)
                {
                    return;
                }
                _trap?.Dispose();
                _trap = null;
                _trapOptions = trap;
                StartTrap();
            }
        }
    }

    /// <summary>A detection from elsewhere than a capture or the trap (tests feed made-up ones), decided like theirs.</summary>
    internal void Detected(Detection detection) => _worker.Raised(detection);

    /// <summary>Stops capturing, then lets the worker finish what is queued. Bans stay in the firewall.</summary>
    public void Stop()
    {
        if (_stopped)
        {
            return;
        }
        lock (_trapLock)
        {
            _stopped = true;
            _trap?.Dispose();
        }
        _captures.Stop();
        _fleet?.Stop();
        _worker.Stop();
        if (Overflow > 0)
        {
            _respond.Log($"WARNING {Overflow} detections found the queue full and were not decided");
        }
    }

    public void Dispose()
    {
        Stop();
        _captures.Dispose();
        _fleet?.Dispose();
        _worker.Dispose();
    }

    private Detector Detector() => new(_options.Detection, new QueueSink(_worker));

    private void StartTrap()
    {
        if (_trapOptions.TcpPorts.Count + _trapOptions.UdpPorts.Count > 0)
        {
            _trap = new ConnectTrap(_trapOptions, (source, target, port, protocol) => _worker.Raised(Detection.Trapped(source, target, port, protocol, _respond.Time.GetUtcNow())), line => _respond.Log(line));
            _trap.Start();
            _respond.Log($"TRAP listening on {string.Join(", ", _trap.Listening)}");
        }
    }

    /// <summary>A capture's way to the respond worker.</summary>
    private sealed class QueueSink(RespondWorker worker) : IDetectionSink
    {
        public void Raising(NetAddress source) => worker.GetReadyFor(source);

        public void Raised(Detection detection) => worker.Raised(detection);

        public void Closed(Detection detection) => worker.Ended(detection);

        public void Verified(Detection detection) => worker.Verified(detection);
    }
}
