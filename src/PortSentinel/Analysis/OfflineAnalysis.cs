using System.Diagnostics;
using PortSentinel.Capture;
using PortSentinel.Detect;

namespace PortSentinel.Analysis;

/// <summary>
/// The result of analysing capture files. <paramref name="Damaged"/> lists the files that were
/// damaged or cut short, in the order given; the packets before each damage were analysed.
/// </summary>
public sealed record AnalysisResult(
    long Packets,
    long Malformed,
    IReadOnlyDictionary<string, long> MalformedByReason,
    TimeSpan Elapsed,
    IReadOnlyList<Detection> Detections,
    IReadOnlyList<SavefileDamage> Damaged)
{
    public double PacketsPerSecond => Elapsed.TotalSeconds > 0 ? Packets / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Runs capture files, in the order given and as one continuous stream, through decode and
/// detection. Detections arrive at <paramref name="onDetection"/> as each scan ends (so output
/// can stream), and all of them are in the result. A file damaged or cut short gives what it held
/// before the damage, and the next file follows it.
/// </summary>
public static class OfflineAnalysis
{
    public static AnalysisResult Run(IReadOnlyList<string> files, DetectorOptions options, Action<Detection>? onDetection = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(options);
        var sink = new CollectingSink(onDetection);
        var detector = new Detector(options, sink);
        CaptureProcessor? processor = null;
        var damaged = new List<SavefileDamage>();
        var clock = Stopwatch.StartNew();
        foreach (string path in files)
        {
            using PcapFile file = PcapFile.Open(path);
            processor ??= new CaptureProcessor(detector, file.LinkType);
            processor.LinkType = file.LinkType;
            if (file.Read(processor).Damage is { } damage)
            {
                damaged.Add(damage);
            }
        }
        processor?.Flush(); // finishes the packets it holds back, then reports every scan still open
        clock.Stop();
        return new AnalysisResult(
            processor?.Decoded.Total ?? 0,
            processor?.Decoded.Malformed ?? 0,
            processor?.Decoded.MalformedByReason() ?? new Dictionary<string, long>(),
            clock.Elapsed,
            sink.Detections,
            damaged);
    }

    private sealed class CollectingSink(Action<Detection>? onDetection) : IDetectionSink
    {
        public List<Detection> Detections { get; } = [];

        public void Raised(Detection detection)
        {
        }

        public void Closed(Detection detection)
        {
            Detections.Add(detection);
            onDetection?.Invoke(detection);
        }
    }
}
