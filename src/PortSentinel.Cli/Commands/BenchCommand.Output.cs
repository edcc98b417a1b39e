using System.Text.Json;
using PortSentinel.Cli.Output;
using PortSentinel.Detect;
using PortSentinel.Synthetic;

namespace PortSentinel.Cli.Commands;

// The output: the report as a table or as JSON.
public static partial class BenchCommand
{
    // ---- Output ----------------------------------------------------------------------------------

    private static void WriteTable(TextWriter o, BenchReport r)
    {
        RunResult bare = r.BareMedian;
        RunResult full = r.FullMedian;
        o.WriteLine($"PortSentinel bench: {bare.Packets:N0} packets, median of {r.Bare.Count} run(s) after 1 warm-up");
        o.WriteLine($"machine     {r.Machine.Cores} cores ({r.Machine.Cpu}), {r.Machine.Os} {r.Machine.Architecture}, {r.Machine.Runtime}");
        o.WriteLine($"libpcap     {r.Machine.LibPcap ?? "not found"}");
        CaptureInfo c = r.Capture!;
        string made = c.Generated is { } g
            ? $"generated in {c.GenerateSeconds:0.0} s, seed {g.Seed}: {g.BenignPackets:N0} benign, {g.ScanPackets:N0} scan, {g.NoisePackets:N0} noise ({g.NoiseSources:N0} spoofed sources), {g.Ipv6Packets:N0} IPv6"
            : "existing file";
        o.WriteLine($"capture     {c.Path} ({c.Bytes / 1e6:0.0} MB, {made}; {(c.Kept ? "kept" : "deleted afterwards")})");
        o.WriteLine();
        o.WriteLine("                 packets/s   ns/packet   best packets/s");
        o.WriteLine($"bare read     {bare.PacketsPerSecond,12:N0}  {bare.NanosecondsPerPacket,10:0.0}   {r.BareBest.PacketsPerSecond,14:N0}");
        o.WriteLine($"full          {full.PacketsPerSecond,12:N0}  {full.NanosecondsPerPacket,10:0.0}   {r.FullBest.PacketsPerSecond,14:N0}");
        o.WriteLine($"decode+detect {"",12}  {r.AddedNanosecondsPerPacket,10:0.0}");
        o.WriteLine($"ratio         {r.Ratio,12:0.00}  full / bare, goal >= {RatioGoal:0.00}: {(r.Ratio >= RatioGoal ? "met" : "NOT MET")}");
        o.WriteLine($"allocated     {r.AllocatedBytesPerPacket,12:0.000}  B/packet ({r.AllocatedBytes:N0} B during a full run)");
        o.WriteLine($"settled       {r.SettledShare,12:P1}  of packets skipped the detector's tables (their 5-tuple's contact was final)");
        o.WriteLine($"malformed     {r.Malformed,12:N0}{(r.Malformed > 0 ? "  " + string.Join(", ", r.MalformedByReason.Select(kv => $"{kv.Key} {kv.Value}")) : "")}");
        o.WriteLine($"detections    {r.Detections.Count,12:N0}  ({r.Expected.Count} scans planted{(c.Generated is null ? ", assuming the file was written by bench" : "")})");
        o.WriteLine();
        var rows = new List<string[]> { _plantedHeader };
        foreach (PlantedScan scan in r.Expected)
        {
            Detection? d = r.Found(scan);
            bool ok = d is not null && (d.Kinds & scan.Kind) != 0;
            rows.Add([scan.Source.ToString(), scan.Name, d is null ? "MISSED" : ok ? "yes" : "KIND?", d is null ? "" : string.Join(',', ScanKindNames.Names(d.Kinds))]);
        }
        WriteColumns(o, rows);
        o.WriteLine(r.Unexpected.Count == 0
            ? "other sources detected: none"
            : "other sources detected: " + string.Join(", ", r.Unexpected.Select(d => $"{d.Source} ({string.Join(',', ScanKindNames.Names(d.Kinds))})")));
    }

    private static void WriteColumns(TextWriter o, List<string[]> rows)
    {
        int[] widths = new int[rows[0].Length];
        foreach (string[] row in rows)
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        foreach (string[] row in rows)
        {
            o.WriteLine(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }
    }

    private static void WriteJson(Utf8JsonWriter json, BenchReport r)
    {
        json.WriteStartObject();
        json.WriteStartObject("machine");
        json.WriteNumber("cores", r.Machine.Cores);
        json.WriteString("cpu", r.Machine.Cpu);
        json.WriteString("os", r.Machine.Os);
        json.WriteString("architecture", r.Machine.Architecture);
        json.WriteString("runtime", r.Machine.Runtime);
        json.WriteString("libpcap", r.Machine.LibPcap);
        json.WriteEndObject();

        CaptureInfo c = r.Capture!;
        json.WriteStartObject("capture");
        json.WriteString("path", c.Path);
        json.WriteNumber("bytes", c.Bytes);
        json.WriteBoolean("generated", c.Generated is not null);
        json.WriteBoolean("kept", c.Kept);
        if (c.Generated is { } g)
        {
            json.WriteNumber("seed", g.Seed);
            json.WriteNumber("generateSeconds", Math.Round(c.GenerateSeconds, 3));
            json.WriteNumber("benignPackets", g.BenignPackets);
            json.WriteNumber("scanPackets", g.ScanPackets);
            json.WriteNumber("noisePackets", g.NoisePackets);
            json.WriteNumber("noiseSources", g.NoiseSources);
            json.WriteNumber("ipv6Packets", g.Ipv6Packets);
            json.WriteNumber("nonIpPackets", g.NonIpPackets);
        }
        json.WriteEndObject();

        json.WriteNumber("packets", r.BareMedian.Packets);
        json.WriteString("statistic", "median");
        WriteMode(json, "bare", r.Bare, r.BareMedian, r.BareBest);
        WriteMode(json, "full", r.Full, r.FullMedian, r.FullBest);
        json.WriteNumber("addedNanosecondsPerPacket", Math.Round(r.AddedNanosecondsPerPacket, 2));
        json.WriteNumber("ratio", Math.Round(r.Ratio, 4));
        json.WriteNumber("ratioGoal", RatioGoal);
        json.WriteNumber("allocatedBytes", r.AllocatedBytes);
        json.WriteNumber("allocatedBytesPerPacket", Math.Round(r.AllocatedBytesPerPacket, 4));
        json.WriteNumber("settledShare", Math.Round(r.SettledShare, 4));
        json.WriteNumber("malformed", r.Malformed);
        json.WriteStartObject("malformedByReason");
        foreach (var (reason, count) in r.MalformedByReason)
        {
            json.WriteNumber(reason, count);
        }
        json.WriteEndObject();

        json.WriteStartArray("planted");
        foreach (PlantedScan scan in r.Expected)
        {
            Detection? d = r.Found(scan);
            json.WriteStartObject();
            json.WriteString("source", scan.Source.ToString());
            json.WriteString("scan", scan.Name);
            json.WriteString("kind", ScanKindNames.Names(scan.Kind).FirstOrDefault());
            json.WriteString("targets", scan.Targets);
            json.WriteBoolean("found", d is not null && (d.Kinds & scan.Kind) != 0);
            json.WriteStartArray("kindsFound");
            foreach (string kind in d is null ? [] : ScanKindNames.Names(d.Kinds))
            {
                json.WriteStringValue(kind);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("unexpected");
        foreach (Detection d in r.Unexpected)
        {
            DetectionJson.Write(json, d);
        }
        json.WriteEndArray();
        json.WriteNumber("detections", r.Detections.Count);
        json.WriteEndObject();
    }

    private static void WriteMode(Utf8JsonWriter json, string name, IReadOnlyList<RunResult> runs, RunResult median, RunResult best)
    {
        json.WriteStartObject(name);
        json.WriteNumber("packetsPerSecond", Math.Round(median.PacketsPerSecond));
        json.WriteNumber("nanosecondsPerPacket", Math.Round(median.NanosecondsPerPacket, 2));
        json.WriteNumber("bestPacketsPerSecond", Math.Round(best.PacketsPerSecond));
        json.WriteStartArray("runSeconds");
        foreach (RunResult run in runs)
        {
            json.WriteNumberValue(Math.Round(run.Elapsed.TotalSeconds, 4));
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
