using System.Threading.Channels;
using PortSentinel.Capture;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;
using PortSentinel.Respond;

namespace PortSentinel;

/// <summary>A line for the log: what happened, in a form fail2ban and people can read.</summary>
public delegate void SensorLog(string line);

/// <summary>
/// The live sensor, and the one place where the stages are wired together: a capture thread per
/// interface decodes and detects inline; detections leave it through a bounded channel for the
/// one worker that decides, changes the firewall and records. Nothing on a capture thread waits
/// for I/O.
/// </summary>
public sealed class Sensor : IAsyncDisposable
{
    private const int ChannelCapacity = 10_000;

    private readonly IReadOnlyList<string> _interfaces;
    private readonly LiveCaptureOptions _capture;
    private readonly TrapOptions _trapOptions;
    private readonly DetectorOptions _detection;
    private readonly Decider _decider;
    private readonly IFirewall _firewall;
    private readonly SqliteStore _store;
    private readonly SensorLog _log;
    private readonly TimeProvider _time;
    private readonly Channel<(Detection Detection, bool Final)> _detections =
        Channel.CreateBounded<(Detection, bool)>(new BoundedChannelOptions(ChannelCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    private readonly List<(PcapLive Capture, Thread Thread, Detector Detector)> _captures = [];
    private ConnectTrap? _trap;
    private Task? _worker;
    private long _overflow;
    private bool _stopped;

    public Sensor(IReadOnlyList<string> interfaces, LiveCaptureOptions capture, TrapOptions trap, DetectorOptions detection, Decider decider, IFirewall firewall, SqliteStore store, SensorLog log, TimeProvider? time = null)
    {
        _interfaces = interfaces;
        _capture = capture;
        _trapOptions = trap;
        _detection = detection;
        _decider = decider;
        _firewall = firewall;
        _store = store;
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Detections that found the channel full and were counted instead of queued (logged at stop).</summary>
    public long Overflow => Interlocked.Read(ref _overflow);

    /// <summary>Sets up the firewall, puts back the bans still in force, and starts capturing.</summary>
    public void Start()
    {
        _firewall.Initialize();
        DateTimeOffset now = _time.GetUtcNow();
        IReadOnlyList<BanRecord> active = _store.ActiveBans(now);
        var failures = _firewall.Block([.. active.Select(b => new FirewallEntry(b.Network, b.Expires - now))]);
        _log($"RESTORED {active.Count - failures.Count} bans into {_firewall.Name}" + (failures.Count > 0 ? $", {failures.Count} refused: {string.Join("; ", failures.Select(f => $"{f.Network} {f.Reason}"))}" : ""));

        _worker = Task.Run(RespondAsync);
        foreach (string device in _interfaces)
        {
            PcapLive live = PcapLive.Open(device, _capture);
            if (live.Warning is not null)
            {
                _log($"WARNING {device}: {live.Warning}");
            }
            var sink = new ChannelSink(this);
            var detector = new Detector(_detection, sink);
            var processor = new CaptureProcessor(detector, live.LinkType);
            var thread = new Thread(() => RunCapture(live, processor)) { Name = $"capture {device}", IsBackground = true };
            _captures.Add((live, thread, detector));
            thread.Start();
            _log($"CAPTURING on {device} ({live.LinkType}, filter \"{_capture.Filter}\")");
        }
        if (_trapOptions.TcpPorts.Count + _trapOptions.UdpPorts.Count > 0)
        {
            _trap = new ConnectTrap(_trapOptions, OnTrap, line => _log(line));
            _trap.Start();
            _log($"TRAP listening on {string.Join(", ", _trap.Listening)}");
        }
    }

    /// <summary>A contact with a trap port: a tripwire hit, decided like any detection.</summary>
    private void OnTrap(NetAddress source, NetAddress target, ushort port, byte protocol)
    {
        DateTimeOffset now = _time.GetUtcNow();
        bool tcp = protocol == IpProtocol.Tcp;
        var detection = new Detection
        {
            Source = source,
            Kinds = ScanKinds.Tripwire | (tcp ? ScanKinds.TcpConnect : ScanKinds.Udp),
            Targets = [target],
            TargetCount = 1,
            Ports = 1,
            PortRanges = $"{(tcp ? "tcp" : "udp")} {port}",
            Protocols = 0,
            Probes = 1,
            First = now,
            Last = now,
            Trigger = "trap",
            Confidence = 1,
            Outcomes = new DetectionOutcomes(tcp ? 1 : 0, 0, 0, tcp ? 0 : 1, 0),
            Final = false,
        };
        if (!_detections.Writer.TryWrite((detection, false)))
        {
            Interlocked.Increment(ref _overflow);
        }
    }

    /// <summary>Statistics of each interface, for logs and health.</summary>
    /// <summary>Stops capturing, then lets the worker finish what is queued. Bans stay in the firewall.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        _trap?.Dispose();
        foreach (var (capture, _, _) in _captures)
        {
            capture.Stop();
        }
        foreach (var (capture, thread, detector) in _captures)
        {
            thread.Join();
            detector.Flush(); // the capture thread has ended: scans still open are reported now
            CaptureStatistics stats = capture.Statistics();
            _log($"STOPPED {capture.Device}: {stats.Received} received, {stats.Dropped} dropped by the kernel, {stats.InterfaceDropped} by the interface");
        }
        _detections.Writer.TryComplete();
        if (_worker is not null)
        {
            await _worker.ConfigureAwait(false);
        }
        if (Overflow > 0)
        {
            _log($"WARNING {Overflow} detections found the queue full and were not decided");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        foreach (var (capture, _, _) in _captures)
        {
            capture.Dispose();
        }
        _captures.Clear();
    }

    private void RunCapture(PcapLive live, CaptureProcessor processor)
    {
        try
        {
            live.Run(processor);
        }
#pragma warning disable CA1031 // A capture thread must report, not take the process down.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _log($"ERROR capture on {live.Device} stopped: {e.Message}");
        }
    }

    private async Task RespondAsync()
    {
        await foreach (var (detection, final) in _detections.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                Respond(detection, final);
            }
#pragma warning disable CA1031 // One failed decision must not stop the worker: it is logged, the next one proceeds.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _log($"ERROR deciding on {detection.Source}: {e.Message}");
            }
        }
    }

    private void Respond(Detection detection, bool final)
    {
        string kinds = string.Join(',', ScanKindNames.Names(detection.Kinds));
        if (final)
        {
            _store.AddDetections([(detection, null)]);
            _log($"ENDED {detection.Source} kinds={kinds} targets={detection.TargetCount} ports={detection.Ports} probes={detection.Probes}");
            return;
        }
        NetPrefix network = NetPrefix.Host(detection.Source);
        DateTimeOffset now = _time.GetUtcNow();
        Decision decision = _decider.Decide(detection, _store.PreviousBans(network), now);
        // fail2ban matches "DETECTED <HOST>" (deploy/fail2ban/filter.d/portsentinel.conf).
        _log($"DETECTED {detection.Source} kinds={kinds} severity={decision.Severity.ToString().ToLowerInvariant()} action={decision.Action.ToString().ToLowerInvariant()} trigger={detection.Trigger} ports={detection.Ports} targets={detection.TargetCount}: {decision.Reason}");
        if (decision.Action != DecisionAction.Block)
        {
            return;
        }
        var failures = _firewall.Block([new FirewallEntry(network, decision.BanFor)]);
        if (failures.Count > 0)
        {
            _log($"ERROR {_firewall.Name} refused to block {network}: {failures[0].Reason}");
            return;
        }
        // Reaction: from the first probe's capture timestamp to the element in the firewall.
        double reaction = (_time.GetUtcNow() - detection.First).TotalMilliseconds;
        _store.AddBans([new BanRecord(network, kinds, now, now + decision.BanFor, decision.Offence)]);
        _log($"BANNED {network} for {(decision.BanFor is { } d ? $"{(long)d.TotalSeconds}s" : "ever")} offence={decision.Offence} firewall={_firewall.Name} reaction={reaction:0.000}ms");
    }

    private sealed class ChannelSink(Sensor sensor) : IDetectionSink
    {
        public void Raised(Detection detection) => Enqueue(detection, final: false);

        public void Closed(Detection detection) => Enqueue(detection, final: true);

        private void Enqueue(Detection detection, bool final)
        {
            if (!sensor._detections.Writer.TryWrite((detection, final)))
            {
                Interlocked.Increment(ref sensor._overflow);
            }
        }
    }
}
