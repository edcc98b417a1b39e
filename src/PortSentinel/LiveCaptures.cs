using PortSentinel.Capture;
using PortSentinel.Common;
using PortSentinel.Detect;

namespace PortSentinel;

/// <summary>
/// The live captures: one thread per interface that decodes and detects inline, and each
/// interface's counters. The interfaces follow the host: a thread of their own watches the kernel's
/// link changes (<see cref="LinkWatch"/>) and captures on an interface as soon as it is there and
/// up, releases it when it goes down or away, and captures on it again when it comes back. Nothing
/// on a capture thread waits for I/O; a capture that fails reports and ends without taking the
/// process down, and is started again when its interface allows.
/// </summary>
internal sealed class LiveCaptures(LiveCaptureOptions options, SensorLog log) : IDisposable
{
    // How often the respond thread looks at the drop counters (ReportDrops), for its warning.
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(5);

    // How long the watch waits for the kernel at a time (and so how soon it sees a stop), and how
    // often it looks at the interfaces even when the kernel said nothing: a capture that failed to
    // open is tried again then, after its backoff.
    private static readonly TimeSpan _wait = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan _lookEvery = TimeSpan.FromSeconds(1);

    // Interfaces that went away are listed with their counters; beyond this many the oldest are
    // forgotten (a container host's veths come and go all day).
    private const int GoneKept = 64;

    private readonly Lock _gate = new(); // the slots, and every capture handle's opening, reading and disposal
    private readonly List<Slot> _slots = [];
    private IReadOnlyList<string> _named = [];
    private Func<Detector> _detector = () => throw new InvalidOperationException("not started");
    private LinkWatch? _watch;
    private Thread? _watcher;
    private volatile bool _stopping;
    private volatile bool _ended; // a capture ended by itself: the watch looks at once

    /// <summary>
    /// Starts capturing on <paramref name="named"/>, or with none named and
    /// <paramref name="everyInterface"/>, on every interface but loopback, detecting with what
    /// <paramref name="detector"/> makes; then follows the host. A named interface that is absent
    /// or down is waited for; one that is there and cannot be captured on (no permission, a filter
    /// that does not compile) throws <see cref="CaptureException"/>, as does a host where no
    /// interface that is up can be.
    /// </summary>
    public void Start(IReadOnlyList<string> named, bool everyInterface, Func<Detector> detector)
    {
        if (named.Count == 0 && !everyInterface)
        {
            return;
        }
        _named = named;
        _detector = detector;
        _watch = LinkWatch.Open();
        List<Link> links = _watch.Links();
        List<string> failures = Reconcile(links, changed: true);
        lock (_gate)
        {
            bool capturing = _slots.Any(s => s.State == InterfaceState.Capturing);
            if (failures.Count > 0 && (named.Count > 0 || !capturing))
            {
                throw new CaptureException(failures[0]);
            }
            if (!capturing && named.Count == 0)
            {
                log("WARNING no interface is up besides loopback: capturing on each as it comes up");
            }
        }
        _watcher = new Thread(Follow) { Name = "interfaces", IsBackground = true };
        _watcher.Start();
    }

    /// <summary>
    /// New thresholds: each capture hands over to a fresh detector before its next frame, and
    /// later ones start with them. Every new detector is made before any is handed over, so that
    /// when one cannot be made (memory) the exception leaves every capture as it was.
    /// </summary>
    public void Replace(Func<Detector> detector)
    {
        lock (_gate)
        {
            Slot[] running = [.. _slots.Where(s => s.Processor is not null)];
            Detector[] next = [.. running.Select(_ => detector())];
            _detector = detector;
            for (int i = 0; i < running.Length; i++)
            {
                running[i].Processor!.Replace(next[i]);
            }
        }
    }

    /// <summary>Each interface's state and counters since start; safe from any thread.</summary>
    public List<InterfaceStatistics> Statistics()
    {
        lock (_gate)
        {
            return [.. _slots.Select(slot =>
            {
                CaptureStatistics pcap = slot.Counted();
                var (tcp, udp, icmp, other) = slot.Processor?.Protocols ?? default;
                return new InterfaceStatistics(slot.Device, slot.State, pcap.Received, pcap.Dropped, pcap.InterfaceDropped, tcp, udp, icmp, other, slot.Processor?.Decoded.Malformed ?? 0, slot.Problem);
            })];
        }
    }

    /// <summary>Logs a warning for each capture that lost packets since the last look: what is dropped is never seen.</summary>
    public void ReportDrops()
    {
        lock (_gate)
        {
            foreach (Slot slot in _slots)
            {
                CaptureStatistics now = slot.Counted();
                CaptureStatistics before = slot.Reported;
                slot.Reported = now;
                long kernel = now.Dropped - before.Dropped;
                long device = now.InterfaceDropped - before.InterfaceDropped;
                if (kernel > 0 || device > 0)
                {
                    log($"WARNING {slot.Device}: {kernel} packets dropped by the kernel and {device} by the interface in the last {CheckEvery.TotalSeconds:0}s ({now.Dropped} and {now.InterfaceDropped} since start); raise {LiveCaptureOptions.Section}:{nameof(LiveCaptureOptions.BufferBytes)} or give the sensor more CPU");
                }
            }
        }
    }

    /// <summary>Stops following the host and every capture, and waits for their threads; scans still open are reported as ended.</summary>
    public void Stop()
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        _watcher?.Join();
        lock (_gate)
        {
            foreach (Slot slot in _slots)
            {
                slot.Capture?.Stop();
            }
            foreach (Slot slot in _slots.Where(s => s.Processor is not null))
            {
                Close(slot);
                slot.Processor!.Flush(); // its capture thread has ended: scans still open are reported now
                CaptureStatistics stats = slot.Closed;
                log($"STOPPED {slot.Device}: {stats.Received} received, {stats.Dropped} dropped by the kernel, {stats.InterfaceDropped} by the interface");
            }
        }
    }

    public void Dispose()
    {
        Stop();
        _watch?.Dispose();
    }

    // The watch's thread: looks at the interfaces whenever the kernel reports a change, a capture
    // ended by itself, or a second has passed.
    private void Follow()
    {
        long looked = Environment.TickCount64;
        while (!_stopping)
        {
            try
            {
                bool changed = _watch!.WaitForChange(_wait);
                if (_stopping || !(changed || _ended || Environment.TickCount64 - looked >= _lookEvery.TotalMilliseconds))
                {
                    continue;
                }
                _ended = false;
                looked = Environment.TickCount64;
                Reconcile(_watch.Links(), changed);
            }
#pragma warning disable CA1031 // The watch reports and goes on: stopping it would leave new interfaces unseen.
            catch (Exception e)
#pragma warning restore CA1031
            {
                log($"ERROR following the interfaces: {e.Message}; looking again in {_lookEvery.TotalSeconds:0}s");
                Thread.Sleep(_lookEvery);
            }
        }
    }

    // Brings the captures in line with the interfaces there are: releases what went down, away or
    // was replaced by another of the same name, and captures on what is wanted and up. A failure to
    // open is tried again at once when the kernel reported a change, else after a backoff. Returns
    // the failures to open.
    private List<string> Reconcile(List<Link> links, bool changed)
    {
        var failures = new List<string>();
        lock (_gate)
        {
            if (_stopping)
            {
                return failures;
            }
            Link? Find(string name)
            {
                foreach (Link link in links)
                {
                    if (link.Name == name)
                    {
                        return link;
                    }
                }
                return null;
            }
            foreach (Slot slot in _slots.Where(s => s.Capture is not null))
            {
                Link? link = Find(slot.Device);
                string? why = link is null ? "it is gone"
                    : !link.Value.Up ? "it is down"
                    : link.Value.Index != slot.Index ? "it was replaced"
                    : !slot.Thread!.IsAlive ? $"its capture failed: {slot.Ended ?? "it ended"}" : null;
                if (why is not null)
                {
                    if (link is not { Up: true } || link.Value.Index != slot.Index)
                    {
                        slot.Failures = 0;
                    }
                    else
                    {
                        // A capture that fails on an interface that is there is not reopened in a
                        // loop; one that ran a while starts its backoff afresh.
                        if (Environment.TickCount64 - slot.Opened > _lookEvery.TotalMilliseconds * 60)
                        {
                            slot.Failures = 0;
                        }
                        Delay(slot);
                    }
                    Close(slot);
                    CaptureStatistics stats = slot.Closed;
                    log($"RELEASED {slot.Device}: {why}; capturing on it again when it is up ({stats.Received} received, {stats.Dropped} dropped by the kernel, {stats.InterfaceDropped} by the interface since start)");
                }
            }
            List<string> wanted = [.. _named.Count > 0 ? _named : links.Where(l => l.Up && !l.Loopback).Select(l => l.Name)];
            foreach (string device in wanted)
            {
                Slot slot = _slots.FirstOrDefault(s => s.Device == device) ?? Add(device);
                if (slot.Capture is not null)
                {
                    continue;
                }
                Link? link = Find(device);
                if (link is not { Up: true })
                {
                    slot.State = link is null && slot.Processor is not null ? InterfaceState.Gone : InterfaceState.Waiting;
                    Note(slot, link is null ? $"{device} is not there: capturing on it as soon as it appears" : $"{device} is down: capturing on it as soon as it comes up", "WARNING");
                }
                else if (changed || Environment.TickCount64 >= slot.RetryAt)
                {
                    if (Open(slot, link.Value) is { } failure)
                    {
                        failures.Add(failure);
                    }
                }
            }
            foreach (Slot slot in _slots.Where(s => s.Capture is null && !wanted.Contains(s.Device)))
            {
                slot.State = Find(slot.Device) is null ? InterfaceState.Gone : InterfaceState.Waiting;
            }
            int gone = _slots.Count(s => s.State == InterfaceState.Gone);
            _slots.RemoveAll(s => s.State == InterfaceState.Gone && gone-- > GoneKept);
        }
        return failures;
    }

    private Slot Add(string device)
    {
        var slot = new Slot(device);
        _slots.Add(slot);
        return slot;
    }

    // Opens a capture on the slot's interface and starts its thread; the failure, if any.
    private string? Open(Slot slot, Link link)
    {
        PcapLive live;
        try
        {
            live = PcapLive.Open(slot.Device, options);
        }
        catch (CaptureException e)
        {
            slot.State = InterfaceState.Waiting;
            TimeSpan retry = Delay(slot);
            Note(slot, $"{e.Message} (trying again when the interface changes, or in {retry.TotalSeconds:0}s)", "ERROR");
            return e.Message;
        }
        if (live.Warning is not null)
        {
            log($"WARNING {slot.Device}: {live.Warning}");
        }
        if (slot.Processor is null)
        {
            slot.Processor = new CaptureProcessor(_detector(), live.LinkType);
        }
        else
        {
            slot.Processor.LinkType = live.LinkType; // no capture thread runs for it now
        }
        CaptureProcessor processor = slot.Processor;
        slot.Capture = live;
        slot.Index = link.Index;
        slot.Opened = Environment.TickCount64;
        slot.Problem = null;
        slot.State = InterfaceState.Capturing;
        slot.Thread = new Thread(() => Run(slot, live, processor)) { Name = $"capture {slot.Device}", IsBackground = true };
        slot.Thread.Start();
        log($"CAPTURING on {slot.Device} ({live.LinkType}, filter \"{options.Filter}\")");
        return null;
    }

    // One more failure in a row: the slot is not tried again before its backoff, unless the kernel reports a change.
    private static TimeSpan Delay(Slot slot)
    {
        TimeSpan retry = Backoff.After(++slot.Failures, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        slot.RetryAt = Environment.TickCount64 + (long)retry.TotalMilliseconds;
        return retry;
    }

    // Stops the slot's capture, waits for its thread and keeps its counts. Under the gate.
    private static void Close(Slot slot)
    {
        if (slot.Capture is not { } capture)
        {
            return;
        }
        capture.Stop();
        slot.Thread!.Join();
        slot.Closed = slot.Counted();
        capture.Dispose();
        slot.Capture = null;
        slot.Thread = null;
        slot.State = InterfaceState.Waiting;
    }

    // Logs why an interface is not captured on, once for each new reason.
    private void Note(Slot slot, string problem, string level)
    {
        if (slot.Problem != problem)
        {
            slot.Problem = problem;
            log($"{level} {problem}");
        }
    }

    private void Run(Slot slot, PcapLive live, CaptureProcessor processor)
    {
        try
        {
            live.Run(processor);
        }
#pragma warning disable CA1031 // A capture thread must report, not take the process down.
        catch (Exception e)
#pragma warning restore CA1031
        {
            // Reported by the watch, which knows whether the interface went too.
            slot.Ended = e.Message;
            _ended = true;
        }
    }

    // One interface the sensor captures on, waits for or saw go: its capture while there is one, and
    // its counts across all of them. Its fields change under the gate.
    private sealed class Slot(string device)
    {
        public string Device { get; } = device;

        public InterfaceState State { get; set; } = InterfaceState.Waiting;

        /// <summary>Why it is not captured on, or null.</summary>
        public string? Problem { get; set; }

        /// <summary>Made at the first capture and kept across the next: its detector's memory outlives a flap.</summary>
        public CaptureProcessor? Processor { get; set; }

        public PcapLive? Capture { get; set; }

        public Thread? Thread { get; set; }

        /// <summary>The kernel's index of the interface captured on: another of the same name is another interface.</summary>
        public int Index { get; set; }

        /// <summary>What the captures that ended counted.</summary>
        public CaptureStatistics Closed { get; set; }

        /// <summary>The counts at the last drop report.</summary>
        public CaptureStatistics Reported { get; set; }

        /// <summary>Failures in a row to open or keep a capture; <see cref="RetryAt"/> follows from them.</summary>
        public int Failures { get; set; }

        public long Opened { get; set; }

        public long RetryAt { get; set; }

        /// <summary>Why the capture ended by itself (set by its thread as it ends, read after it has).</summary>
        public string? Ended { get; set; }

        /// <summary>What the captures counted, the one running included.</summary>
        public CaptureStatistics Counted()
        {
            if (Capture is null)
            {
                return Closed;
            }
            try
            {
                CaptureStatistics now = Capture.Statistics();
                return new CaptureStatistics(Closed.Received + now.Received, Closed.Dropped + now.Dropped, Closed.InterfaceDropped + now.InterfaceDropped);
            }
            catch (CaptureException)
            {
                return Closed; // the interface went away under the handle: its last counts are lost
            }
        }
    }
}
