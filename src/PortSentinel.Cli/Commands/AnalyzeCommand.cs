using System.CommandLine;
using PortSentinel.Analysis;
using PortSentinel.Capture;
using PortSentinel.Cli.Output;
using PortSentinel.Detect;

namespace PortSentinel.Cli.Commands;

/// <summary><c>portsentinel analyze FILE...</c>: detections in pcap/pcapng captures.</summary>
public static class AnalyzeCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files")
        {
            Description = "pcap or pcapng files, read in order as one stream.",
            Arity = ArgumentArity.OneOrMore,
        };
        var format = new Option<string>("--format")
        {
            Description = "table (default), json (one object) or jsonl (one detection per line, as scans end).",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "json", "jsonl");
        var command = new Command("analyze", "Detect scans in capture files.") { files, format };
        Settings.AddTo(command);
        command.SetAction(parse => Run(
            parse.GetValue(files) ?? [],
            parse.GetValue(format) ?? "table",
            parse.GetValue(Settings.ConfigOption),
            parse.GetValue(Settings.SetOption) ?? [],
            Console.Out,
            Console.Error));
        return command;
    }

    public static int Run(string[] files, string format, FileInfo? config, string[] overrides, TextWriter output, TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(errors);
        DetectorOptions options;
        try
        {
            options = Settings.Detection(Settings.Load(config, overrides));
        }
        catch (SettingsException e)
        {
            errors.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadConfiguration;
        }
        foreach (string file in files)
        {
            string? problem = Unreadable(file);
            if (problem is not null)
            {
                errors.WriteLine($"portsentinel: {problem}");
                return ExitCodes.BadInput;
            }
        }

        var stream = format == "jsonl" ? new JsonLines(output) : null;
        AnalysisResult result;
        try
        {
            result = OfflineAnalysis.Run(files, options, stream is null ? null : stream.Write);
        }
        catch (CaptureException e)
        {
            errors.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadInput;
        }

        switch (format)
        {
            case "json":
                output.WriteLine(DetectionJson.Serialize(json => DetectionJson.WriteResult(json, result), indented: true));
                errors.WriteLine(DetectionTable.Summary(result));
                break;
            case "jsonl":
                errors.WriteLine(DetectionTable.Summary(result));
                break;
            default:
                DetectionTable.Write(output, result.Detections);
                output.WriteLine(DetectionTable.Summary(result));
                break;
        }
        foreach (SavefileDamage damage in result.Damaged)
        {
            errors.WriteLine($"portsentinel: WARNING: {damage.File}: {damage.Where}; those packets were analysed, "
                + $"the rest of the file was not ({damage.Reason}).");
        }
        return result.Damaged.Count > 0 ? ExitCodes.Truncated : ExitCodes.Ok;
    }

    private static string? Unreadable(string file)
    {
        if (Directory.Exists(file))
        {
            return $"{file}: is a directory; give capture files (e.g. {file}/*.pcap).";
        }
        if (!File.Exists(file))
        {
            return $"{file}: no such file.";
        }
        try
        {
            using FileStream _ = File.OpenRead(file);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return $"{file}: permission denied; run as a user who can read it.";
        }
        catch (IOException e)
        {
            return $"{file}: cannot be read: {e.Message}";
        }
    }

    private sealed class JsonLines(TextWriter output)
    {
        public void Write(Detection detection)
        {
            output.WriteLine(DetectionJson.Serialize(json => DetectionJson.Write(json, detection), indented: false));
            output.Flush();
        }
    }
}
