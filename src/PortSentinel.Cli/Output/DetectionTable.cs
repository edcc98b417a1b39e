using PortSentinel.Analysis;
using PortSentinel.Detect;

namespace PortSentinel.Cli.Output;

/// <summary>Detections as a plain-text table for people.</summary>
public static class DetectionTable
{
    public static void Write(TextWriter output, IReadOnlyList<Detection> detections)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(detections);
        if (detections.Count == 0)
        {
            output.WriteLine("No scans detected.");
            return;
        }
        string[] header = ["SOURCE", "KINDS", "TARGETS", "PORTS", "PROBES", "FIRST (UTC)", "DURATION", "PORTS PROBED"];
        var rows = new List<string[]> { header };
        foreach (Detection d in detections)
        {
            TimeSpan duration = d.Last - d.First;
            rows.Add(
            [
                d.Source.ToString(),
                string.Join(',', ScanKindNames.Names(d.Kinds)),
                d.TargetCount.ToString(),
                d.Ports.ToString(),
                d.Probes.ToString(),
                d.First.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"),
                duration.TotalSeconds < 60 ? $"{duration.TotalSeconds:0.###}s" : duration.ToString(@"h\:mm\:ss"),
                Shorten(d.PortRanges, 48),
            ]);
        }
        int[] widths = new int[header.Length];
        foreach (string[] row in rows)
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        foreach (string[] row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }
    }

    public static string Summary(AnalysisResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return $"{result.Packets} packets, {result.Malformed} malformed, {result.Detections.Count} detections, "
            + $"{result.Elapsed.TotalSeconds:0.000} s, {result.PacketsPerSecond:0} packets/s";
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
