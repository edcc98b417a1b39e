using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using PortSentinel.Capture;
using PortSentinel.Cli.Output;
using PortSentinel.Detect;
using PortSentinel.Synthetic;

namespace PortSentinel.Cli.Commands;

/// <summary>
/// <c>portsentinel bench</c>: throughput of the capture path on a synthetic capture, libpcap's
/// bare read against read + decode + detect, with the allocations and the detections of the run.
/// </summary>
public static partial class BenchCommand
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
