using System.CommandLine;
using System.Globalization;
using PortSentinel.Record;
using PortSentinel.Report;
using PortSentinel.Respond;

namespace PortSentinel.Cli.Commands;

/// <summary><c>portsentinel report</c>: what happened over a period, as HTML for people or JSON for machines.</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var since = new Option<string>("--since") { Description = "The start: a time ago (90m, 24h, 7d) or an ISO 8601 time.", DefaultValueFactory = _ => "24h" };
        var until = new Option<string?>("--until") { Description = "The end, an ISO 8601 time; default: now." };
        var format = new Option<string>("--format") { Description = "html or json.", DefaultValueFactory = _ => "html" };
        format.AcceptOnlyFromAmong("html", "json");
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write to this file; default: standard output." };
        var dataDir = new Option<string>("--data-dir") { Description = "Where the database lives.", DefaultValueFactory = _ => RunCommand.DefaultDataDirectory };
        var command = new Command("report", "Summarise a period: scans and bans by kind and hour, top sources with their reputation, ports most probed.") { since, until, format, output, dataDir };
        StoreSelection.AddTo(command);
        command.SetAction(p => Run(p.GetValue(since)!, p.GetValue(until), p.GetValue(format)!, p.GetValue(output), () => StoreSelection.Open(p, p.GetValue(dataDir)!), DateTimeOffset.UtcNow));
        return command;
    }

    public static int Run(string since, string? until, string format, FileInfo? output, Func<IStore> openStore, DateTimeOffset now)
    {
        if (!TryTime(since, now, out DateTimeOffset from, out string? tooLong))
        {
            Console.Error.WriteLine(tooLong is not null
                ? $"portsentinel: --since {since} {tooLong}"
                : $"portsentinel: --since {since} is neither a time ago (90m, 24h, 7d) nor an ISO 8601 time (2026-11-20T00:00Z).");
            return ExitCodes.BadInput;
        }
        DateTimeOffset to = now;
        if (until is not null && !DateTimeOffset.TryParse(until, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out to))
        {
            Console.Error.WriteLine($"portsentinel: --until {until} is not an ISO 8601 time, e.g. 2026-11-21T00:00Z.");
            return ExitCodes.BadInput;
        }
        if (from >= to)
        {
            Console.Error.WriteLine($"portsentinel: the period is empty: --since {from:u} is not before --until {to:u}.");
            return ExitCodes.BadInput;
        }
        return StoreSelection.WithStore(openStore, store =>
        {
            string text = Render(ActivityReport.Build(store, from, to), format);
            try
            {
                if (output is null)
                {
                    Console.Out.Write(text);
                }
                else
                {
                    File.WriteAllText(output.FullName, text);
                }
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"portsentinel: cannot write {output?.FullName}: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
    }

    public static string Render(ActivityReport report, string format) =>
        format == "json" ? report.ToJson() + "\n" : ReportHtml.Render(report);

    /// <summary>A time ago or an ISO 8601 time; <paramref name="tooLong"/> says why a time ago past the maximum is refused.</summary>
    private static bool TryTime(string text, DateTimeOffset now, out DateTimeOffset time, out string? tooLong)
    {
        tooLong = null;
        if (ManualBans.TryParseDuration(text, out TimeSpan? ago, out string? problem))
        {
            if (ago is { } span)
            {
                time = now - span;
                return true;
            }
        }
        else if (problem.StartsWith("is longer", StringComparison.Ordinal))
        {
            tooLong = problem.Replace("or permanent", "or an ISO 8601 time", StringComparison.Ordinal);
            time = default;
            return false;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
    }
}
