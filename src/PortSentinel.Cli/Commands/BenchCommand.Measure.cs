using System.Diagnostics;
using PortSentinel.Capture;
using PortSentinel.Detect;

namespace PortSentinel.Cli.Commands;

// The measuring: the warm-up and the timed bare and full runs, and the sinks they read into.
public static partial class BenchCommand
{
    /// <summary>Warms up once, then alternates bare and full runs over the file.</summary>
    public static BenchReport Measure(string path, int runs)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        // The first pass also JIT-compiles (and lets tiered PGO recompile) the whole path.
        ReadBare(path);
        ReadFull(path);
        var bare = new List<RunResult>();
        var full = new List<RunResult>();
        FullRun? last = null;
        for (int i = 0; i < runs; i++)
        {
            bare.Add(ReadBare(path));
            last = ReadFull(path);
            full.Add(last.Result);
        }
        return new BenchReport
        {
            Machine = MachineInfo.Current(),
            Bare = bare,
            Full = full,
            AllocatedBytes = full.Max(r => r.AllocatedBytes),
            Malformed = last!.Malformed,
            SettledShare = last.SettledShare,
            MalformedByReason = last.MalformedByReason,
            Detections = last.Detections,
        };
    }

    private static RunResult ReadBare(string path)
    {
        using PcapFile file = PcapFile.Open(path);
        var sink = new CountingSink();
        RunResult result = Timed(() => file.ReadAll(sink));
        if (sink.Frames != result.Packets)
        {
            throw new InvalidOperationException($"libpcap delivered {sink.Frames} frames but reported {result.Packets}.");
        }
        return result;
    }

    private static FullRun ReadFull(string path)
    {
        using PcapFile file = PcapFile.Open(path);
        var sink = new CollectingSink();
        var detector = new Detector(new DetectorOptions(), sink);
        var processor = new CaptureProcessor(detector, file.LinkType);
        RunResult result = Timed(() => file.ReadAll(processor));
        // The end of input closes the open detections; that is reporting, not per-packet work.
        detector.Flush();
        return new FullRun(
            result,
            result.Packets > 0 ? (double)detector.Counters.SettledSkips / result.Packets : 0,
            processor.Decoded.Malformed,
            processor.Decoded.MalformedByReason(),
            sink.Detections);
    }

    // One read, timed, with what it allocated on this thread; a collection first, so that none falls inside.
    private static RunResult Timed(Func<long> read)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        long packets = read();
        clock.Stop();
        return new RunResult(packets, clock.Elapsed, GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    // ---- Sinks -----------------------------------------------------------------------------------

    /// <summary>Counts frames and captured bytes: the least a sink can do, so that the read itself is measured.</summary>
    private sealed class CountingSink : IFrameSink
    {
        public long Frames { get; private set; }

        public void OnFrame(long timestamp, int wireLength, ReadOnlySpan<byte> frame) => Frames++;
    }

    private sealed class CollectingSink : IDetectionSink
    {
        public List<Detection> Detections { get; } = [];

        public void Raised(Detection detection)
        {
        }

        public void Closed(Detection detection) => Detections.Add(detection);
    }

    private sealed record FullRun(RunResult Result, double SettledShare, long Malformed, IReadOnlyDictionary<string, long> MalformedByReason, IReadOnlyList<Detection> Detections);
}
