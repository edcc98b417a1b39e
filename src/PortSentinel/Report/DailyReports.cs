using System.Globalization;
using System.Net.Mail;
using System.Text.RegularExpressions;
using PortSentinel.Common;
using PortSentinel.Notify;
using PortSentinel.Record;

namespace PortSentinel.Report;

/// <summary>The daily report, bound from the <c>Reports</c> section.</summary>
public sealed class ReportsOptions
{
    public const string Section = "Reports";

    /// <summary>When (UTC, HH:mm) the report of the last 24 hours is made; empty: never.</summary>
    public string DailyAt { get; set; } = "06:00";

    /// <summary>How many daily reports are kept in DATA_DIR/reports.</summary>
    public int Keep { get; set; } = 30;

    public bool Enabled => DailyAt.Length > 0;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Enabled && !TimeOnly.TryParseExact(DailyAt, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            errors.Add($"{Section}:{nameof(DailyAt)} is \"{DailyAt}\"; give a UTC time as HH:mm, e.g. 06:00, or nothing for no daily report.");
        }
        if (Keep is < 1 or > 3650)
        {
            errors.Add($"{Section}:{nameof(Keep)} is {Keep}; give 1–3650.");
        }
        return errors;
    }
}

/// <summary>
/// Makes the report of the last 24 hours every day at <c>DailyAt</c> (UTC), with the sensor's
/// capture health: DATA_DIR/reports/report-DATE.html and .json, the oldest beyond <c>Keep</c>
/// removed, and mailed (HTML) when email is configured. The dashboard links the latest.
/// </summary>
public sealed partial class DailyReports(ReportsOptions options, EmailOptions email, IStore store, string directory, Func<ActivityReport.SensorHealth> health, SensorLog log, TimeProvider? time = null) : IDisposable
{
    private Periodic? _loop;

    /// <summary>A daily report's file name: report-2026-11-21.html or .json.</summary>
    [GeneratedRegex(@"^report-\d{4}-\d{2}-\d{2}\.(html|json)$")]
    public static partial Regex FileName();

    public void Start()
    {
        TimeProvider clock = time ?? TimeProvider.System;
        _loop ??= new Periodic((_, now) => Next(options.DailyAt, now) - now, cancellation => MakeAsync(clock.GetUtcNow(), cancellation), clock);
        _loop.Start();
    }

    /// <summary>The next <c>DailyAt</c> after <paramref name="now"/>.</summary>
    public static DateTimeOffset Next(string dailyAt, DateTimeOffset now)
    {
        TimeOnly at = TimeOnly.ParseExact(dailyAt, "HH:mm", CultureInfo.InvariantCulture);
        var today = new DateTimeOffset(now.UtcDateTime.Date + at.ToTimeSpan(), TimeSpan.Zero);
        return today > now ? today : today.AddDays(1);
    }

    /// <summary>Makes, keeps and mails the report of the 24 hours before <paramref name="now"/>; the HTML file's path.</summary>
    public async Task<string?> MakeAsync(DateTimeOffset now, CancellationToken cancellation)
    {
        try
        {
            Directory.CreateDirectory(directory);
            ActivityReport report = ActivityReport.Build(store, now.AddDays(-1), now, health());
            string name = Path.Combine(directory, $"report-{now:yyyy-MM-dd}");
            string html = ReportHtml.Render(report);
            await File.WriteAllTextAsync(name + ".html", html, cancellation).ConfigureAwait(false);
            await File.WriteAllTextAsync(name + ".json", report.ToJson(), cancellation).ConfigureAwait(false);
            foreach (string old in Directory.GetFiles(directory).Where(f => FileName().IsMatch(Path.GetFileName(f))).Order(StringComparer.Ordinal).Reverse().Skip(2 * options.Keep))
            {
                File.Delete(old);
            }
            string mailed = "";
            if (email.Enabled)
            {
                string subject = $"PortSentinel daily report: {report.Scans} scans, {report.Bans} bans ({report.From:yyyy-MM-dd HH:mm} to {report.To:yyyy-MM-dd HH:mm} UTC)";
                await EmailChannel.MailAsync(email, TimeSpan.FromSeconds(30), subject, html, html: true, cancellation).ConfigureAwait(false);
                mailed = $", mailed to {string.Join(", ", email.To)}";
            }
            log($"REPORT {name}.html: {report.Scans} scans, {report.Bans} bans in the last 24 hours{mailed}");
            return name + ".html";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SmtpException or InvalidOperationException)
        {
            log($"ERROR daily report: {e.Message}");
            return null;
        }
    }

    public void Dispose() => _loop?.Dispose();
}
