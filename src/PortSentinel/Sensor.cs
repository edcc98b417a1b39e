using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime;
using PortSentinel.Capture;
using PortSentinel.Common;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;
using PortSentinel.Respond;
using PortSentinel.Synthetic;

namespace PortSentinel;

/// <summary>
/// The live sensor, and the one place where the stages are wired together: a capture thread per
/// interface decodes and detects inline; detections leave it through a bounded queue for the
/// one worker that decides, changes the firewall and records. Nothing on a capture thread waits
/// for I/O.
/// </summary>
public sealed class Sensor : IDisposable
{
    private const int QueueCapacity = 10_000;

    private readonly IReadOnlyList<string> _interfaces;
    private readonly LiveCaptureOptions _capture;
    private TrapOptions _trapOptions;
    private Decider _decider; // read and replaced on the respond thread only
    private Reconfiguration? _reconfiguration; // set by Reconfigure, taken by the respond thread
    private readonly DetectorOptions _detection;
    private readonly IFirewall _firewall;
    private readonly FirewallOptions _firewallOptions;
    private readonly SqliteStore _store;
    private readonly SensorLog _log;
    private readonly TimeProvider _time;
    // A blocking queue read by a thread of its own, not a channel read on the thread pool: waking a
    // pool thread cost 7–10 ms per detection here, waking a waiting thread microseconds.
    private readonly BlockingCollection<(Detection? Detection, Item Kind, Action? Command)> _detections = new(QueueCapacity);

    private readonly List<(PcapLive Capture, Thread Thread, CaptureProcessor Processor)> _captures = [];
    private readonly Lock _trapLock = new();
    private ConnectTrap? _trap;
    private (PcapLive Capture, CaptureProcessor Processor)[] _monitored = []; // the captures, once all are started: read from any thread
    private readonly Dictionary<PcapLive, CaptureStatistics> _lastStatistics = []; // respond thread only
    private Thread? _worker;
    private long _overflow;
    private bool _stopped;

    public Sensor(IReadOnlyList<string> interfaces, LiveCaptureOptions capture, TrapOptions trap, DetectorOptions detection, Decider decider, IFirewall firewall, FirewallOptions firewallOptions, SqliteStore store, SensorLog log, TimeProvider? time = null)
    {
        _interfaces = interfaces;
        _capture = capture;
        _trapOptions = trap;
        _detection = detection;
        _decider = decider;
        _firewall = firewall;
        _firewallOptions = firewallOptions;
        _store = store;
        _log = log;
        _time = time ?? TimeProvider.System;
        _started = _time.GetUtcNow();
    }

    /// <summary>Detections that found the queue full and were counted instead of queued (logged at stop).</summary>
    public long Overflow => Interlocked.Read(ref _overflow);

    /// <summary>AbuseIPDB lookups, when configured: the caller owns it (and disposes it after the sensor).</summary>
    public ReputationService? Reputation { get; init; }

    /// <summary>Alerts and bans as they happen, for the dashboard's live pages.</summary>
    public SensorFeed Feed { get; } = new();

    /// <summary>The decider in force (replaced on reload): its allowlist and ban policy.</summary>
    public Decider Decider => Volatile.Read(ref _decider);

    /// <summary>The firewall backend's name.</summary>
    public string FirewallName => _firewall.Name;

    private readonly DateTimeOffset _started;
    private readonly Counters _counters = new();

    /// <summary>What the respond thread counts; written there, read anywhere.</summary>
    private sealed class Counters
    {
        public long BansAdded;
        public long FirewallErrors;
        public readonly long[] Kinds = new long[32]; // by bit of ScanKinds
        public readonly long[] Latency = new long[SensorStatistics.LatencyBuckets.Length + 1]; // the last: above every bucket
        public long LatencyMicros;
        public long LatencyCount;

        public void Detected(ScanKinds kinds, double ms)
        {
            for (int bit = 0; bit < Kinds.Length; bit++)
            {
                if (((uint)kinds & (1u << bit)) != 0)
                {
                    Interlocked.Increment(ref Kinds[bit]);
                }
            }
            int bucket = Array.FindIndex(SensorStatistics.LatencyBuckets, upper => ms <= upper);
            Interlocked.Increment(ref Latency[bucket < 0 ? Latency.Length - 1 : bucket]);
            Interlocked.Add(ref LatencyMicros, (long)(ms * 1000));
            Interlocked.Increment(ref LatencyCount);
        }
    }

    /// <summary>The counters since start, read now; safe from any thread.</summary>
    public SensorStatistics Statistics()
    {
        var interfaces = new List<InterfaceStatistics>();
        foreach (var (capture, processor) in Volatile.Read(ref _monitored))
        {
            CaptureStatistics pcap = capture.Statistics();
            var (tcp, udp, icmp, other) = processor.Protocols;
            interfaces.Add(new InterfaceStatistics(capture.Device, pcap.Received, pcap.Dropped, pcap.InterfaceDropped, tcp, udp, icmp, other, processor.Decoded.Malformed));
        }
        var kinds = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int bit = 0; bit < _counters.Kinds.Length; bit++)
        {
            if (Interlocked.Read(ref _counters.Kinds[bit]) is > 0 and long count && ScanKindNames.Names((ScanKinds)(1u << bit)) is [var name])
            {
                kinds[name] = count;
            }
        }
        long cumulative = 0;
        var latency = new List<(double, long)>();
        for (int i = 0; i < SensorStatistics.LatencyBuckets.Length; i++)
        {
            cumulative += Interlocked.Read(ref _counters.Latency[i]);
            latency.Add((SensorStatistics.LatencyBuckets[i], cumulative));
        }
        return new SensorStatistics(_started, interfaces, kinds, Interlocked.Read(ref _counters.BansAdded), Interlocked.Read(ref _counters.FirewallErrors), Overflow,
            latency, Interlocked.Read(ref _counters.LatencyMicros) / 1000.0, Interlocked.Read(ref _counters.LatencyCount));
    }

    /// <summary>
    /// Bans <paramref name="network"/> by hand (dashboard, API), on the respond thread that owns the
    /// firewall: refused when allowlisted or too wide, as on the CLI. <paramref name="length"/>
    /// null: until lifted.
    /// </summary>
    public Task<(BanRecord? Ban, string? Refusal)> Block(NetPrefix network, TimeSpan? length, string reason, string by) => Run(() =>
    {
        _offencesAhead = null;
        var (ban, refusal) = ManualBans.Block(_store, _firewall, _decider, network, length, reason, _time.GetUtcNow());
        if (ban is null)
        {
            _log($"REFUSED manual ban of {network} by {by}: {refusal}");
            return (ban, refusal);
        }
        Release(network);
        Interlocked.Increment(ref _counters.BansAdded);
        Feed.Publish(new BanEvent(ban.Created, ban, Lifted: false, by));
        _log($"BANNED {network} for {Length(length)} offence={ban.Offence} firewall={_firewall.Name} by {by}: {reason}");
        return (ban, refusal);
    });

    /// <summary>
    /// Bans a blocklist ahead of any scan, on the respond thread, in one firewall batch: the
    /// allowlisted and the too wide (as for manual bans) are refused, those banned already left as
    /// they are.
    /// </summary>
    public Task<PreemptResult> Preempt(IReadOnlyList<NetPrefix> networks, TimeSpan length, string reason) => Run(() =>
    {
        DateTimeOffset now = _time.GetUtcNow();
        HashSet<NetPrefix> active = [.. _store.ActiveBans(now).Select(b => b.Network)];
        var fresh = new List<NetPrefix>();
        int already = 0, refused = 0;
        foreach (NetPrefix network in networks.Distinct())
        {
            if (active.Contains(network))
            {
                already++;
            }
            else if (_decider.RefuseManual(network) is not null)
            {
                refused++;
            }
            else
            {
                fresh.Add(network);
            }
        }
        IReadOnlyList<FirewallFailure> failures = fresh.Count == 0 ? [] : _firewall.Block([.. fresh.Select(n => new FirewallEntry(n, length, Mode: "blocklist"))]);
        HashSet<NetPrefix> failed = [.. failures.Select(f => f.Network)];
        List<BanRecord> bans = [.. fresh.Where(n => !failed.Contains(n)).Select(n => new BanRecord(n, reason, now, now + length, 1))];
        Recorded(bans);
        if (failures.Count > 0)
        {
            Interlocked.Add(ref _counters.FirewallErrors, failures.Count);
            _log($"ERROR {_firewall.Name} refused {failures.Count} blocklist bans, e.g. {failures[0].Network}: {failures[0].ReasonLine}");
        }
        _log($"BLOCKLIST {reason}: {bans.Count} banned for {Length(length)}, {already} banned already, {refused} refused (allowlisted or too wide)");
        return new PreemptResult(bans.Count, already, refused, failures.Count);
    });

    /// <summary>Lifts the bans of <paramref name="networks"/> by hand, on the respond thread.</summary>
    public Task<(int Lifted, IReadOnlyList<FirewallFailure> Failures)> Unblock(IReadOnlyList<NetPrefix> networks, string by) => Run(() =>
    {
        DateTimeOffset now = _time.GetUtcNow();
        var (lifted, failures) = ManualBans.Unblock(_store, _firewall, networks, by, now);
        foreach (NetPrefix network in networks.Except(failures.Select(f => f.Network)))
        {
            Feed.Publish(new BanEvent(now, new BanRecord(network, "", now, null, 0, now, by), Lifted: true, by));
            _log($"UNBANNED {network} by {by}");
        }
        foreach (FirewallFailure failure in failures)
        {
            Interlocked.Increment(ref _counters.FirewallErrors);
            _log($"ERROR {_firewall.Name} refused to lift {failure.Network} for {by}: {failure.ReasonLine}");
        }
        return (lifted, failures);
    });

    /// <summary>Runs <paramref name="work"/> on the respond thread; fails when the sensor is stopped or its queue is full.</summary>
    private Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Command()
        {
            try
            {
                done.SetResult(work());
            }
#pragma warning disable CA1031 // handed to the caller, who reports it
            catch (Exception e)
#pragma warning restore CA1031
            {
                done.SetException(e);
            }
        }
        try
        {
            if (!_detections.TryAdd((null, Item.Command, Command)))
            {
                done.SetException(new InvalidOperationException("the sensor's queue is full; try again in a moment"));
            }
        }
        catch (InvalidOperationException)
        {
            done.SetException(new InvalidOperationException("the sensor is stopping"));
        }
        return done.Task;
    }

    /// <summary>Sets up the firewall, puts back the bans still in force, and starts capturing.</summary>
    public void Start()
    {
        SetUpFirewall();

        _worker = new Thread(RespondLoop) { Name = "respond", IsBackground = true };
        _worker.Start();
        WarmUp();
        foreach (string device in _interfaces)
        {
            PcapLive live = PcapLive.Open(device, _capture);
            if (live.Warning is not null)
            {
                _log($"WARNING {device}: {live.Warning}");
            }
            var sink = new QueueSink(this);
            var detector = new Detector(_detection, sink);
            var processor = new CaptureProcessor(detector, live.LinkType);
            var thread = new Thread(() => RunCapture(live, processor)) { Name = $"capture {device}", IsBackground = true };
            _captures.Add((live, thread, processor));
            thread.Start();
            _log($"CAPTURING on {device} ({live.LinkType}, filter \"{_capture.Filter}\")");
        }
        StartTrap();
        if (Reputation is { } reputation)
        {
            // Onto the respond thread; lost only when the sensor stops or its queue is full.
            reputation.Looked = known => _ = Run(() =>
            {
                OnReputation(known);
                return true;
            });
            reputation.Start();
        }
        Volatile.Write(ref _monitored, [.. _captures.Select(c => (c.Capture, c.Processor))]);
    }

    /// <summary>Sets the firewall up, puts back the bans still in force, lifts those that ran out (while the sensor was down) and arms the guard.</summary>
    private void SetUpFirewall()
    {
        _firewall.Initialize();
        DateTimeOffset now = _time.GetUtcNow();
        IReadOnlyList<BanRecord> active = _store.ActiveBans(now);
        var failures = _firewall.Block([.. active.Select(b => new FirewallEntry(b.Network, b.Expires - now, Mode: "restore"))]);
        _log($"RESTORED {active.Count - failures.Count} bans into {_firewall.Name}" + (failures.Count > 0 ? $", {failures.Count} refused: {string.Join("; ", failures.Select(f => $"{f.Network} {f.ReasonLine}"))}" : ""));
        BanExpiry.Lift(_store, _firewall, now, _log);
        ArmGuard();
    }

    /// <summary>On the respond thread: when the firewall's setup was removed from outside, sets it up again with the bans.</summary>
    private void CheckFirewall()
    {
        if (!_firewall.Intact())
        {
            _log($"WARNING the {_firewall.Name} setup is gone (removed from outside, e.g. by nft flush ruleset or a reload of the rules); setting it up again");
            SetUpFirewall();
        }
    }

    private void StartTrap()
    {
        if (_trapOptions.TcpPorts.Count + _trapOptions.UdpPorts.Count > 0)
        {
            _trap = new ConnectTrap(_trapOptions, OnTrap, line => _log(line));
            _trap.Start();
            _log($"TRAP listening on {string.Join(", ", _trap.Listening)}");
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
        Volatile.Write(ref _reconfiguration, new Reconfiguration(allowlist, decide));
        if (detection is not null)
        {
            foreach (var (_, _, processor) in _captures)
            {
                processor.Replace(new Detector(detection, new QueueSink(this)));
            }
        }
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

    private sealed record Reconfiguration(Allowlist Allowlist, DecideOptions Decide);

    /// <summary>On the respond thread: a new configuration from <see cref="Reconfigure"/> takes effect, the guard's allowlist with it.</summary>
    private void ApplyReconfiguration()
    {
        if (Interlocked.Exchange(ref _reconfiguration, null) is { } change)
        {
            Volatile.Write(ref _decider, _decider.Reconfigured(change.Allowlist, change.Decide));
            Guarded("arming the kernel guard", ArmGuard);
        }
    }

    /// <summary>Arms the firewall's kernel guard, if it has one, with the allowlist and ban cap the decisions use.</summary>
    private void ArmGuard()
    {
        GuardRules? rules = _firewallOptions.Guard(_decider.Allowlist.Entries, _decider.Options.MaxBansPerMinute);
        if (_firewall is not IKernelGuard guard)
        {
            if (rules is not null)
            {
                _log($"GUARD off: the {_firewall.Name} backend has no kernel guard (nftables has)");
            }
            return;
        }
        guard.Arm(rules);
        _log(rules is null
            ? $"GUARD off ({FirewallOptions.Section}:{nameof(FirewallOptions.GuardPorts)} is 0)"
            : $"GUARD holds for {rules.Hold.TotalSeconds:0}s a source refused on more than {rules.Ports} closed TCP ports within {rules.Window.TotalSeconds:0}s, at most {rules.HoldsPerMinute} a minute; {rules.Allowed.Count} allowed networks never held");
    }

    // The warm-up's detector: the real code on small tables, which every pass allocates anew.
    private static readonly DetectorOptions _warmUpDetection = new() { SourceCapacity = 1024, FlowCapacity = 4096 };

    // Passes of the warm-up, a pause apart that is longer than the runtime's tiering delay (it
    // counts calls only once 100 ms have gone by without a method compiled for the first time).
    private const int WarmUpPasses = 6;
    private static readonly TimeSpan _warmUpPause = TimeSpan.FromMilliseconds(200);

    // The warm-up raises eight scanners a pass; each is rehearsed this many times, so that the
    // code that runs once per scanner on the respond thread is called as often as it must be to
    // be optimised within the passes (30 calls, twice).
    private const int RehearsalsPerDetection = 6;
    private int _rehearsals; // for the log: how many the warm-up handed to the respond thread

    /// <summary>
    /// Has the path of a ban compiled and optimised before capture starts, so that the first
    /// scanners do not wait for the JIT. Synthetic traffic, written to a savefile in the data
    /// directory, goes through libpcap, the capture processor and the queue as rehearsals, which
    /// the respond thread decides on throwaway instances; an in-kernel firewall also blocks and
    /// lifts a documentation address. The runtime compiles a method quickly at first and again,
    /// optimised, in the background once it has been called often enough after start-up settled
    /// (tier 0, then instrumented, then tier 1): one pass only compiled the first tier, and the
    /// first scan then ran that slow code and had it recompiled under it
    /// (docs/performance.md, reaction time).
    /// </summary>
    private void WarmUp()
    {
        var clock = Stopwatch.StartNew();
        long compiled = JitInfo.GetCompiledMethodCount();
        string file = Path.Join(Path.GetDirectoryName(_store.Path), $"warm-up-{Environment.ProcessId}.pcap");
        TrafficGenerator.Write(file, TrafficGenerator.MinimumPackets, seed: 1);
        try
        {
            for (int pass = 0; pass < WarmUpPasses; pass++)
            {
                using (PcapFile capture = PcapFile.Open(file))
                {
                    var processor = new CaptureProcessor(new Detector(_warmUpDetection, new QueueSink(this, RehearsalsPerDetection)), capture.LinkType);
                    capture.ReadAll(processor);
                    processor.Flush();
                }
                if (_firewall.ExpiresByItself)
                {
                    // 192.0.2.254, a documentation address, never a real source. Not the other
                    // backends: a command backend would run the administrator's command.
                    NetPrefix nobody = NetPrefix.Host(NetAddress.FromV4(0xC000_02FE));
                    _ = _firewall.Block([new FirewallEntry(nobody, TimeSpan.FromSeconds(1), Mode: "warm-up")]);
                    _ = _firewall.Unblock([nobody]);
                }
                Run(static () => true).Wait(); // the pass's rehearsals are decided
                Thread.Sleep(_warmUpPause);
            }
        }
        finally
        {
            File.Delete(file);
        }
        _log($"WARMED UP in {clock.ElapsedMilliseconds} ms: {WarmUpPasses} passes of {TrafficGenerator.MinimumPackets} synthetic frames, {_rehearsals} rehearsals, {JitInfo.GetCompiledMethodCount() - compiled} methods compiled");
    }

    /// <summary>What goes through the queue to the respond thread.</summary>
    private enum Item
    {
        /// <summary>A scanner recognised: decide, block, log.</summary>
        Raised,

        /// <summary>A scan over: record its evidence.</summary>
        Ended,

        /// <summary>A made-up detection at start, decided and "blocked" on throwaway instances: warms the path, changes nothing.</summary>
        Rehearsal,

        /// <summary>A manual action (<see cref="Block"/>, <see cref="Unblock"/>) to run on the respond thread, which owns the firewall.</summary>
        Command,
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
            Final = true, // one contact is the whole evidence: the alert is complete when raised
        };
        Enqueue(detection, Item.Raised);
    }

    /// <summary>
    /// From a capture thread, as it starts gathering a new scanner's evidence (0.2–0.6 ms under a
    /// scan): the respond thread is woken now, reads the source's offence count and stays awake for
    /// the detection, so that its wake-up and the database read overlap the evidence instead of
    /// following it. Only a head start: when the queue is full it is skipped.
    /// </summary>
    private void GetReadyFor(NetAddress source) =>
        _detections.TryAdd((null, Item.Command, () => Guarded($"reading the offences of {source}", () => ReadAhead(source))));

    // How long the respond thread, woken ahead of a detection, waits for it awake.
    private static readonly long _awakeFor = Stopwatch.Frequency / 500; // 2 ms

    /// <summary>On the respond thread: the offence count of a scanner about to be raised, then a short busy wait for its detection.</summary>
    private void ReadAhead(NetAddress source)
    {
        NetPrefix network = NetPrefix.Host(source);
        _offencesAhead = (network, _store.PreviousBans(network));
        long until = Stopwatch.GetTimestamp() + _awakeFor;
        var spin = new SpinWait();
        while (_detections.Count == 0 && Stopwatch.GetTimestamp() < until)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    // A source's offence count read ahead of its detection; respond thread only. Dropped when a
    // ban is recorded or any detection is decided, so it is never older than the next decision.
    private (NetPrefix Network, int Bans)? _offencesAhead;

    /// <summary>A detection from elsewhere than a capture or the trap (tests feed made-up ones), decided like theirs.</summary>
    internal void Detected(Detection detection) => Enqueue(detection, Item.Raised);

    private void Enqueue(Detection detection, Item kind)
    {
        if (!_detections.TryAdd((detection, kind, null)))
        {
            Interlocked.Increment(ref _overflow);
        }
    }

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
        foreach (var (capture, _, _) in _captures)
        {
            capture.Stop();
        }
        foreach (var (capture, thread, processor) in _captures)
        {
            thread.Join();
            processor.Flush(); // the capture thread has ended: scans still open are reported now
            CaptureStatistics stats = capture.Statistics();
            _log($"STOPPED {capture.Device}: {stats.Received} received, {stats.Dropped} dropped by the kernel, {stats.InterfaceDropped} by the interface");
        }
        _detections.CompleteAdding();
        _worker?.Join();
        if (Overflow > 0)
        {
            _log($"WARNING {Overflow} detections found the queue full and were not decided");
        }
    }

    public void Dispose()
    {
        Stop();
        foreach (var (capture, _, _) in _captures)
        {
            capture.Dispose();
        }
        _captures.Clear();
        _detections.Dispose();
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

    // Ended scans are recorded in batches: whatever is queued, up to this many, in one transaction.
    private const int RecordBatch = 1000;

    // How often bans that ran out are lifted from a firewall without timeouts.
    private static readonly TimeSpan _sweepEvery = TimeSpan.FromSeconds(1);

    // How often the captures' drop counters and the firewall's setup are looked at while running.
    private static readonly TimeSpan _checkEvery = TimeSpan.FromSeconds(5);

    private void RespondLoop()
    {
        var ended = new List<(long?, Detection)>();
        long nextSweep = 0;
        long nextCheck = Environment.TickCount64 + (long)_checkEvery.TotalMilliseconds;
        while (!_detections.IsCompleted)
        {
            if (_detections.TryTake(out var item, _sweepEvery))
            {
                do
                {
                    var (detection, kind, command) = item;
                    if (kind == Item.Command)
                    {
                        command!();
                    }
                    else if (kind == Item.Ended)
                    {
                        ended.Add((_openAlerts.Remove(detection!.Source, out long id) ? id : null, detection));
                        _log($"ENDED {detection.Source} kinds={string.Join(',', ScanKindNames.Names(detection.Kinds))} targets={detection.TargetCount} ports={detection.Ports} probes={detection.Probes}");
                    }
                    else
                    {
                        ApplyReconfiguration();
                        Guarded($"deciding on {detection!.Source}", () => Respond(detection, kind == Item.Rehearsal));
                    }
                }
                while (ended.Count < RecordBatch && _detections.TryTake(out item));
                if (ended.Count > 0)
                {
                    DateTimeOffset at = _time.GetUtcNow();
                    Guarded("recording detections", () => _store.EndAlerts(ended, at));
                    foreach (var (id, detection) in ended)
                    {
                        Feed.Publish(new AlertEvent(at, AlertRecord.From(id ?? 0, detection, null, at), Ended: true));
                    }
                    ended.Clear();
                }
            }
            ApplyReconfiguration();
            if (Environment.TickCount64 >= nextSweep)
            {
                Guarded("retrying refused bans", RetryRefused);
                Guarded("lifting expired bans", () => BanExpiry.Lift(_store, _firewall, _time.GetUtcNow(), _log));
                nextSweep = Environment.TickCount64 + (long)_sweepEvery.TotalMilliseconds;
            }
            if (Environment.TickCount64 >= nextCheck)
            {
                Guarded("reading capture statistics", ReportDrops);
                Guarded("checking the firewall", CheckFirewall);
                nextCheck = Environment.TickCount64 + (long)_checkEvery.TotalMilliseconds;
            }
        }
    }

    /// <summary>Logs a warning for each capture that lost packets since the last look: what is dropped is never seen.</summary>
    private void ReportDrops()
    {
        foreach (var (capture, _) in Volatile.Read(ref _monitored))
        {
            CaptureStatistics now = capture.Statistics();
            CaptureStatistics before = _lastStatistics.GetValueOrDefault(capture);
            _lastStatistics[capture] = now;
            long kernel = now.Dropped - before.Dropped;
            long device = now.InterfaceDropped - before.InterfaceDropped;
            if (kernel > 0 || device > 0)
            {
                _log($"WARNING {capture.Device}: {kernel} packets dropped by the kernel and {device} by the interface in the last {_checkEvery.TotalSeconds:0}s ({now.Dropped} and {now.InterfaceDropped} since start); raise {LiveCaptureOptions.Section}:{nameof(LiveCaptureOptions.BufferBytes)} or give the sensor more CPU");
            }
        }
    }

    /// <summary>One failed decision or write must not stop the worker: it is logged, the next one proceeds.</summary>
    private void Guarded(string what, Action action)
    {
        try
        {
            action();
        }
#pragma warning disable CA1031 // logged and carried on, by design
        catch (Exception e)
#pragma warning restore CA1031
        {
            _log($"ERROR {what}: {e.Message}");
        }
    }

    /// <param name="detection">What was detected.</param>
    /// <param name="rehearsal">A made-up detection at start, on throwaway instances.</param>
    /// <param name="raised">The alert already recorded for it, when it is decided again (its reputation came).</param>
    private void Respond(Detection detection, bool rehearsal, long? raised = null)
    {
        Decider decider = rehearsal ? new Decider(new Allowlist(new HostFacts([], [], []), []), new DecideOptions()) : _decider;
        IFirewall firewall = rehearsal ? new DryRunFirewall(_time) : _firewall;
        SensorLog log = rehearsal ? static _ => { } : _log;
        string kinds = string.Join(',', ScanKindNames.Names(detection.Kinds));
        NetPrefix network = NetPrefix.Host(detection.Source);
        DateTimeOffset now = _time.GetUtcNow();
        Reputation? known = rehearsal ? null : Reputation?.Known(detection.Source);
        int previous = _offencesAhead is { } ahead && ahead.Network == network ? ahead.Bans : _store.PreviousBans(network);
        _offencesAhead = null;
        Decision decision = decider.Decide(detection, previous, now, known is null ? null : Reputation!.Verdict(known));
        // The firewall first, the log after: writing a line can wait on a slow pipe.
        FirewallEntry entry = Entry(network, decision.BanFor, detection);
        IReadOnlyList<FirewallFailure> failures = decision.Action == DecisionAction.Block ? firewall.Block([entry]) : [];
        // Reaction: from the first probe's capture timestamp to the element in the firewall; of it,
        // the sensor's own part: from the capture of the probe that decided it.
        DateTimeOffset done = _time.GetUtcNow();
        double reaction = (done - detection.First).TotalMilliseconds;
        double own = (done - detection.Last).TotalMilliseconds;
        // fail2ban matches "DETECTED <HOST>" (deploy/fail2ban/filter.d/portsentinel.conf).
        log($"DETECTED {detection.Source} kinds={kinds} severity={decision.Severity.ToString().ToLowerInvariant()} action={decision.Action.ToString().ToLowerInvariant()} trigger={detection.Trigger} ports={detection.Ports} targets={detection.TargetCount}: {decision.Reason}");
        if (!rehearsal)
        {
            long alert;
            if (raised is { } id)
            {
                alert = id;
                _store.Redecide(id, decision);
            }
            else
            {
                alert = _store.RaiseAlert(detection, decision, now);
                if (!detection.Final)
                {
                    _openAlerts[detection.Source] = alert;
                }
                _counters.Detected(detection.Kinds, own);
            }
            Feed.Publish(new AlertEvent(now, AlertRecord.From(alert, detection, decision, now), Ended: false, known));
            if (known is null && Reputation is { } reputation)
            {
                AwaitReputation(reputation, detection, decision, alert);
            }
        }
        var ban = new BanRecord(network, kinds, now, now + decision.BanFor, decision.Offence);
        if (failures.Count > 0)
        {
            // The kernel guard's hold, if any, stays: it is all that stops the scanner now.
            log($"ERROR {firewall.Name} refused to block {network}: {failures[0].ReasonLine}; trying again in {_retryFirst.TotalSeconds:0}s");
            if (!rehearsal)
            {
                Interlocked.Increment(ref _counters.FirewallErrors);
                _refused.Add(new RefusedBan(entry, ban, 1, Environment.TickCount64 + (long)_retryFirst.TotalMilliseconds));
            }
            return;
        }
        if (!rehearsal)
        {
            Release(network);
        }
        if (decision.Action != DecisionAction.Block)
        {
            return;
        }
        if (!rehearsal)
        {
            Recorded([ban]);
            Reputation?.Report(detection);
        }
        log($"BANNED {network} for {Length(decision.BanFor)} offence={decision.Offence} firewall={firewall.Name} reaction={reaction:0.000}ms sensor={own:0.000}ms");
    }

    /// <summary>
    /// Asks for the reputation of a public source not known yet; a source only logged is kept
    /// (the latest detection of each, at most <see cref="AwaitingMost"/>) to be decided again when
    /// it comes: a known-bad scanner is then blocked.
    /// </summary>
    private void AwaitReputation(ReputationService reputation, Detection detection, Decision decision, long alert)
    {
        reputation.Request(detection.Source);
        if (decision.Action == DecisionAction.Log && PublicAddresses.IsPublic(detection.Source)
            && (_awaiting.Count < AwaitingMost || _awaiting.ContainsKey(detection.Source)))
        {
            _awaiting[detection.Source] = (detection, alert);
        }
    }

    /// <summary>On the respond thread: a lookup is done; the watchers are told, a source waiting for it is decided again.</summary>
    private void OnReputation(Reputation reputation)
    {
        _log($"REPUTATION {reputation.Address} score={reputation.Score} reports={reputation.TotalReports} country={reputation.CountryCode ?? "-"} isp={reputation.Isp ?? "-"}");
        Feed.Publish(new ReputationEvent(_time.GetUtcNow(), reputation));
        if (_awaiting.Remove(NetAddress.Parse(reputation.Address), out var waiting))
        {
            ApplyReconfiguration();
            Guarded($"deciding again on {waiting.Detection.Source}", () => Respond(waiting.Detection, rehearsal: false, waiting.Alert));
        }
    }

    private const int AwaitingMost = 4096;

    private readonly Dictionary<NetAddress, (Detection Detection, long Alert)> _awaiting = []; // respond thread only

    /// <summary>Records bans now in the firewall (in one transaction), counts them and tells the watchers.</summary>
    private void Recorded(List<BanRecord> bans)
    {
        _offencesAhead = null;
        _store.AddBans(bans);
        Interlocked.Add(ref _counters.BansAdded, bans.Count);
        foreach (BanRecord ban in bans)
        {
            Feed.Publish(new BanEvent(ban.Created, ban, Lifted: false));
        }
    }

    /// <summary>A ban's length as the BANNED line gives it: seconds, or "ever".</summary>
    private static string Length(TimeSpan? ban) => ban is { } b ? $"{(long)b.TotalSeconds}s" : "ever";

    /// <summary>
    /// The decision replaces the kernel guard's hold: a ban with its own length, anything else by
    /// letting the source go (its ban, if any, is already in place).
    /// </summary>
    private void Release(NetPrefix network)
    {
        if (_firewall is IKernelGuard guard)
        {
            guard.Release([network]);
        }
    }

    // A ban the firewall refused is tried again after 1 s, then 2, 4, … up to a minute, until it
    // goes in or its time would be up.
    private static readonly TimeSpan _retryFirst = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan _retryMost = TimeSpan.FromMinutes(1);

    private sealed record RefusedBan(FirewallEntry Entry, BanRecord Ban, int Attempts, long NextTry);

    private readonly List<RefusedBan> _refused = []; // respond thread only

    // The recorded alert of each source whose scan goes on, completed when it ends. Respond thread only.
    private readonly Dictionary<NetAddress, long> _openAlerts = [];

    /// <summary>
    /// Tries the refused bans that are due again. The firewall is checked and set up again first:
    /// what made it refuse may have been its setup vanishing, whole (then every ban comes back with
    /// it, <see cref="CheckFirewall"/>) or in part (a set or rule that <see cref="IFirewall.Initialize"/>
    /// puts back).
    /// </summary>
    private void RetryRefused()
    {
        long tick = Environment.TickCount64;
        List<RefusedBan> due = [.. _refused.Where(r => r.NextTry <= tick)];
        if (due.Count == 0)
        {
            return;
        }
        _refused.RemoveAll(due.Contains);
        DateTimeOffset now = _time.GetUtcNow();
        foreach (RefusedBan late in due.Where(r => r.Ban.Expires <= now))
        {
            _log($"ERROR gave up blocking {late.Ban.Network}: its ban ran out before {_firewall.Name} took it ({late.Attempts} attempts)");
        }
        due.RemoveAll(r => r.Ban.Expires <= now);
        IReadOnlyList<FirewallFailure> failures;
        try
        {
            CheckFirewall();
            _firewall.Initialize();
            failures = _firewall.Block([.. due.Select(r => r.Entry with { Timeout = r.Ban.Expires - now })]);
        }
        catch (FirewallException e)
        {
            failures = [.. due.Select(r => new FirewallFailure(r.Ban.Network, e.Message))];
        }
        foreach (RefusedBan retry in due)
        {
            if (failures.FirstOrDefault(f => f.Network == retry.Ban.Network) is { Reason: not null } failure)
            {
                TimeSpan wait = Backoff.After(retry.Attempts + 1, _retryFirst, _retryMost);
                Interlocked.Increment(ref _counters.FirewallErrors);
                _log($"ERROR {_firewall.Name} refused to block {retry.Ban.Network} again ({retry.Attempts + 1} attempts): {failure.ReasonLine}; trying again in {wait.TotalSeconds:0}s");
                _refused.Add(retry with { Attempts = retry.Attempts + 1, NextTry = tick + (long)wait.TotalMilliseconds });
                continue;
            }
            Release(retry.Ban.Network);
            Recorded([retry.Ban]);
            _log($"BANNED {retry.Ban.Network} for {Length(retry.Ban.Expires - now)} offence={retry.Ban.Offence} firewall={_firewall.Name} after {retry.Attempts + 1} attempts");
        }
    }

    /// <summary>
    /// The firewall entry for a detection, with what set it off: the first port probed and its
    /// protocol, from the ranges ("tcp 22,80-90; udp 53" gives 22 and tcp), else icmp or ip.
    /// </summary>
    private static FirewallEntry Entry(NetPrefix network, TimeSpan? banFor, Detection detection)
    {
        string ranges = detection.PortRanges;
        int space = ranges.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return new FirewallEntry(network, banFor, 0, (detection.Kinds & ScanKinds.IcmpSweep) != 0 ? "icmp" : "ip");
        }
        ReadOnlySpan<char> rest = ranges.AsSpan(space + 1);
        int end = rest.IndexOfAny(",-;…");
        return new FirewallEntry(network, banFor, ushort.TryParse(end < 0 ? rest : rest[..end], out ushort port) ? port : (ushort)0, ranges[..space]);
    }

    /// <summary>
    /// A capture's way to the respond thread. The warm-up's (<paramref name="rehearsals"/> above
    /// 0) hands each detection over that many times as a rehearsal, each after its read-ahead, and
    /// records nothing.
    /// </summary>
    private sealed class QueueSink(Sensor sensor, int rehearsals = 0) : IDetectionSink
    {
        public void Raising(NetAddress source) => sensor.GetReadyFor(source);

        public void Raised(Detection detection)
        {
            if (rehearsals == 0)
            {
                sensor.Enqueue(detection, Item.Raised);
                return;
            }
            for (int i = 0; i < rehearsals; i++)
            {
                if (i > 0)
                {
                    sensor.GetReadyFor(detection.Source);
                }
                sensor.Enqueue(detection, Item.Rehearsal);
                sensor._rehearsals++;
            }
        }

        public void Closed(Detection detection)
        {
            if (rehearsals == 0)
            {
                sensor.Enqueue(detection, Item.Ended);
            }
        }
    }
}
