using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using PortSentinel.Capture;
using PortSentinel.Cli.Output;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Synthetic;

namespace PortSentinel.Cli.Commands;

/// <summary>
/// <c>portsentinel bench</c>: throughput of the capture path on a synthetic capture, libpcap's
/// bare read against read + decode + detect, with the allocations and the detections of the run.
/// </summary>
public static class BenchCommand
{
    /// <summary>Exit code when a planted scanner was not detected, or a source that planted none was.</summary>
    public const int DetectionMismatch = 3;

    /// <summary>The throughput the full path should keep relative to libpcap's bare read.</summary>
    public const double RatioGoal = 0.7;

    private static readonly string[] _plantedHeader = ["PLANTED SCANNER", "PLANTED", "FOUND", "KINDS FOUND"];

    private const string Help = """
        Measure capture throughput on a synthetic capture.

        Writes a deterministic pcap (benign TCP, DNS, ping and ARP over IPv4 and IPv6, with three
        SYN scans of 1000 ports, a UDP scan answered by ICMP port unreachables, a FIN scan, an ICMP
        sweep of a /24 and spoofed-source SYN noise; documentation addresses only), unless --file
        names an existing capture. It then reads the same file through libpcap, after one
        warm-up run of each, --runs times each way:
          bare   pcap_dispatch into a sink that only counts frames;
          full   pcap_dispatch into the capture processor: decode, then detect (default settings).

        Output (table, or one JSON object with --format json):
          machine      cores, CPU, OS, .NET and libpcap versions
          capture      path, size, and how it was made
          packets/s    per mode: the median of the runs (best run alongside)
          ns/packet    per mode, and the difference: what decode + detect add per packet
          ratio        full / bare packets per second; the goal is >= 0.70
          allocated    managed bytes allocated per packet on the capture thread in a full run
                       (should be ~0: only recognising a scan allocates)
          settled      the share of packets whose 5-tuple's contact was already final, which
                       skip the detector's tables
          malformed    frames the decoder rejected (0 for a generated capture)
          detections   each planted scanner with the kinds found, and any other source detected

        Exit codes: 0 ok; 1 the file is missing or not a capture; 3 a planted scanner was missed
        or another source detected (a --file not written by bench is compared with bench's plan).
        """;

    public static Command Create()
    {
        var packets = new Option<long>("--packets")
        {
            Description = $"Packets to generate (at least {TrafficGenerator.MinimumPackets}; ignored when --file exists).",
            DefaultValueFactory = _ => 5_000_000,
        };
        packets.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<long>() < TrafficGenerator.MinimumPackets)
            {
                result.AddError($"--packets must be at least {TrafficGenerator.MinimumPackets}: the planted scans need room among the benign traffic.");
            }
        });
        var file = new Option<FileInfo?>("--file")
        {
            Description = "Capture to read if it exists, else where to write the generated one and keep it (default: a temporary file, deleted afterwards).",
        };
        var runs = new Option<int>("--runs")
        {
            Description = "Measured runs of each mode; the median is reported.",
            DefaultValueFactory = _ => 3,
        };
        runs.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--runs must be at least 1.");
            }
        });
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the generated capture (the same seed and size give the same bytes).",
            DefaultValueFactory = _ => 1,
        };
        var format = new Option<string>("--format")
        {
            Description = "table (default) or json.",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("bench", Help) { packets, file, runs, seed, format };
        command.SetAction(parse => Run(
            new BenchSettings(
                parse.GetValue(packets),
                parse.GetValue(file)?.FullName,
                parse.GetValue(runs),
                parse.GetValue(seed),
                parse.GetValue(format) ?? "table"),
            Console.Out,
            Console.Error));
        return command;
    }

    public static int Run(BenchSettings settings, TextWriter output, TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(errors);

        bool reuse = settings.File is not null && File.Exists(settings.File);
        string path = settings.File ?? Path.Combine(Path.GetTempPath(), $"portsentinel-bench-{Guid.NewGuid():N}.pcap");
        bool delete = settings.File is null;
        try
        {
            TrafficSummary? generated = null;
            double generateSeconds = 0;
            if (!reuse)
            {
                errors.WriteLine($"portsentinel bench: writing {settings.Packets:N0} packets to {path} …");
                var clock = Stopwatch.StartNew();
                generated = TrafficGenerator.Write(path, settings.Packets, settings.Seed);
                generateSeconds = clock.Elapsed.TotalSeconds;
            }
            errors.WriteLine($"portsentinel bench: 1 warm-up and {settings.Runs} measured run(s) of each mode …");
            BenchReport report = Measure(path, settings.Runs);
            report = report with
            {
                Capture = new CaptureInfo(path, new FileInfo(path).Length, generated, generateSeconds, Kept: !delete),
                Expected = generated?.Scans ?? TrafficGenerator.PlannedScans,
            };
            if (settings.Format == "json")
            {
                output.WriteLine(DetectionJson.Serialize(json => WriteJson(json, report), indented: true));
            }
            else
            {
                WriteTable(output, report);
            }
            return report.Missed.Count == 0 && report.Unexpected.Count == 0 ? ExitCodes.Ok : DetectionMismatch;
        }
        catch (CaptureException e)
        {
            errors.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (IOException e)
        {
            errors.WriteLine($"portsentinel: {path}: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (UnauthorizedAccessException e)
        {
            errors.WriteLine($"portsentinel: {path}: {e.Message}");
            return ExitCodes.BadInput;
        }
        finally
        {
            if (delete)
            {
                File.Delete(path);
            }
        }
    }

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
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        long packets = file.ReadAll(sink);
        clock.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        if (sink.Frames != packets)
        {
            throw new InvalidOperationException($"libpcap delivered {sink.Frames} frames but reported {packets}.");
        }
        return new RunResult(packets, clock.Elapsed, allocated);
    }

    private static FullRun ReadFull(string path)
    {
        using PcapFile file = PcapFile.Open(path);
        var sink = new CollectingSink();
        var detector = new Detector(new DetectorOptions(), sink);
        var processor = new CaptureProcessor(detector, file.LinkType);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        long packets = file.ReadAll(processor);
        clock.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        // The end of input closes the open detections; that is reporting, not per-packet work.
        detector.Flush();
        return new FullRun(
            new RunResult(packets, clock.Elapsed, allocated),
            packets > 0 ? (double)detector.Counters.SettledSkips / packets : 0,
            processor.Decoded.Malformed,
            processor.Decoded.MalformedByReason(),
            sink.Detections);
    }

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

/// <summary>The options of <c>portsentinel bench</c>.</summary>
public sealed record BenchSettings(long Packets, string? File, int Runs, int Seed, string Format);

/// <summary>One timed pass over the capture.</summary>
public sealed record RunResult(long Packets, TimeSpan Elapsed, long AllocatedBytes)
{
    public double PacketsPerSecond => Elapsed > TimeSpan.Zero ? Packets / Elapsed.TotalSeconds : 0;

    public double NanosecondsPerPacket => Packets > 0 ? Elapsed.TotalNanoseconds / Packets : 0;
}

public sealed record CaptureInfo(string Path, long Bytes, TrafficSummary? Generated, double GenerateSeconds, bool Kept);

public sealed record MachineInfo(int Cores, string Cpu, string Os, string Architecture, string Runtime, string? LibPcap)
{
    public static MachineInfo Current() => new(
        Environment.ProcessorCount,
        CpuModel() ?? "unknown CPU",
        RuntimeInformation.OSDescription,
        RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
        RuntimeInformation.FrameworkDescription,
        PcapFile.LibraryVersion());

    private static string? CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is int colon and > 0)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}

/// <summary>What <c>portsentinel bench</c> measured.</summary>
public sealed record BenchReport
{
    public required MachineInfo Machine { get; init; }

    public required IReadOnlyList<RunResult> Bare { get; init; }

    public required IReadOnlyList<RunResult> Full { get; init; }

    /// <summary>The most any full run allocated on the capture thread.</summary>
    public required long AllocatedBytes { get; init; }

    public required long Malformed { get; init; }

    /// <summary>The share of packets the detector's settled cache let skip its tables.</summary>
    public required double SettledShare { get; init; }

    public required IReadOnlyDictionary<string, long> MalformedByReason { get; init; }

    public required IReadOnlyList<Detection> Detections { get; init; }

    public CaptureInfo? Capture { get; init; }

    public IReadOnlyList<PlantedScan> Expected { get; init; } = [];

    public RunResult BareMedian => Median(Bare);

    public RunResult FullMedian => Median(Full);

    public RunResult BareBest => Bare.MinBy(r => r.Elapsed)!;

    public RunResult FullBest => Full.MinBy(r => r.Elapsed)!;

    public double Ratio => BareMedian.PacketsPerSecond > 0 ? FullMedian.PacketsPerSecond / BareMedian.PacketsPerSecond : 0;

    public double AddedNanosecondsPerPacket => FullMedian.NanosecondsPerPacket - BareMedian.NanosecondsPerPacket;

    public double AllocatedBytesPerPacket => FullMedian.Packets > 0 ? (double)AllocatedBytes / FullMedian.Packets : 0;

    /// <summary>Planted scans with no detection of their source that names their probe kind.</summary>
    public IReadOnlyList<PlantedScan> Missed =>
        Expected.Where(s => Found(s) is not { } d || (d.Kinds & s.Kind) == 0).ToArray();

    /// <summary>
    /// The detection that found <paramref name="scan"/>: one of its source that names its probe
    /// kind, else any of its source (found as something else), else null. The table, the JSON and
    /// the exit code all judge by it.
    /// </summary>
    public Detection? Found(PlantedScan scan) =>
        Detections.FirstOrDefault(d => d.Source == scan.Source && (d.Kinds & scan.Kind) != 0)
        ?? Detections.FirstOrDefault(d => d.Source == scan.Source);

    /// <summary>Detections of sources that planted nothing.</summary>
    public IReadOnlyList<Detection> Unexpected =>
        Detections.Where(d => !Expected.Any(s => s.Source == d.Source)).ToArray();

    // The upper median for an even count: a run that was slowed down cannot pull it down.
    private static RunResult Median(IReadOnlyList<RunResult> runs) => runs.OrderBy(r => r.Elapsed).ElementAt(runs.Count / 2);
}
