using PortSentinel.Capture;
using PortSentinel.Common;
using PortSentinel.Detect;

namespace PortSentinel;

/// <summary>
/// The live captures: one thread per interface that decodes and detects inline, and each
/// capture's counters. Nothing on a capture thread waits for I/O; a capture that fails reports and
/// ends without taking the process down.
/// </summary>
internal sealed class LiveCaptures(LiveCaptureOptions options, SensorLog log) : IDisposable
{
    // How often the respond thread looks at the drop counters (ReportDrops), for its warning.
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(5);

    private readonly List<(PcapLive Capture, Thread Thread, CaptureProcessor Processor)> _captures = [];
    private (PcapLive Capture, CaptureProcessor Processor)[] _monitored = []; // the captures, once all are started: read from any thread
    private readonly Dictionary<PcapLive, CaptureStatistics> _lastStatistics = []; // ReportDrops' thread only

    /// <summary>Opens each device and starts its capture thread, detecting with what <paramref name="detector"/> makes.</summary>
    public void Start(IReadOnlyList<string> devices, Func<Detector> detector)
    {
        foreach (string device in devices)
        {
            PcapLive live = PcapLive.Open(device, options);
            if (live.Warning is not null)
            {
                log($"WARNING {device}: {live.Warning}");
            }
            var processor = new CaptureProcessor(detector(), live.LinkType);
            var thread = new Thread(() => Run(live, processor)) { Name = $"capture {device}", IsBackground = true };
            _captures.Add((live, thread, processor));
            thread.Start();
            log($"CAPTURING on {device} ({live.LinkType}, filter \"{options.Filter}\")");
        }
        Volatile.Write(ref _monitored, [.. _captures.Select(c => (c.Capture, c.Processor))]);
    }

    /// <summary>
    /// New thresholds: each capture hands over to a fresh detector before its next frame. Every
    /// new detector is made before any is handed over, so that when one cannot be made (memory)
    /// the exception leaves every capture as it was.
    /// </summary>
    public void Replace(Func<Detector> detector)
    {
        Detector[] next = [.. _captures.Select(_ => detector())];
        for (int i = 0; i < next.Length; i++)
        {
            _captures[i].Processor.Replace(next[i]);
        }
    }

    /// <summary>Each capture's counters since start; safe from any thread.</summary>
    public List<InterfaceStatistics> Statistics()
    {
        var interfaces = new List<InterfaceStatistics>();
        foreach (var (capture, processor) in Volatile.Read(ref _monitored))
        {
            CaptureStatistics pcap = capture.Statistics();
            var (tcp, udp, icmp, other) = processor.Protocols;
            interfaces.Add(new InterfaceStatistics(capture.Device, pcap.Received, pcap.Dropped, pcap.InterfaceDropped, tcp, udp, icmp, other, processor.Decoded.Malformed));
        }
        return interfaces;
    }

    /// <summary>Logs a warning for each capture that lost packets since the last look: what is dropped is never seen.</summary>
    public void ReportDrops()
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
                log($"WARNING {capture.Device}: {kernel} packets dropped by the kernel and {device} by the interface in the last {CheckEvery.TotalSeconds:0}s ({now.Dropped} and {now.InterfaceDropped} since start); raise {LiveCaptureOptions.Section}:{nameof(LiveCaptureOptions.BufferBytes)} or give the sensor more CPU");
            }
        }
    }

    /// <summary>Stops every capture and waits for its thread; scans still open are reported as ended.</summary>
    public void Stop()
    {
        foreach (var (capture, _, _) in _captures)
        {
            capture.Stop();
        }
        foreach (var (capture, thread, processor) in _captures)
        {
            thread.Join();
            processor.Flush(); // the capture thread has ended: scans still open are reported now
            CaptureStatistics stats = capture.Statistics();
            log($"STOPPED {capture.Device}: {stats.Received} received, {stats.Dropped} dropped by the kernel, {stats.InterfaceDropped} by the interface");
        }
    }

    public void Dispose()
    {
        foreach (var (capture, _, _) in _captures)
        {
            capture.Dispose();
        }
        _captures.Clear();
    }

    private void Run(PcapLive live, CaptureProcessor processor)
    {
        try
        {
            live.Run(processor);
        }
#pragma warning disable CA1031 // A capture thread must report, not take the process down.
        catch (Exception e)
#pragma warning restore CA1031
        {
            log($"ERROR capture on {live.Device} stopped: {e.Message}");
        }
    }
}
