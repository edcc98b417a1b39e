using System.Collections.Concurrent;
using System.Net;
using Microsoft.Data.Sqlite;
using PortSentinel.Notify;
using PortSentinel.Record.Sqlite;
using PortSentinel.Report;
using PortSentinel.Tests.Notify;
using PortSentinel.Tests.Web;

namespace PortSentinel.Tests.Report;

/// <summary>The daily report: made with the sensor's health, kept (the oldest removed), mailed as HTML to a real SMTP server, and served to the dashboard.</summary>
public sealed class DailyReportsTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("ps-daily-").FullName;
    private readonly SmtpSink _smtp = new();
    private readonly ConcurrentQueue<string> _log = new();

    public void Dispose()
    {
        _smtp.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    [Theory]
    [InlineData("06:00", "2026-11-21T05:59:00Z", "2026-11-21T06:00:00Z")]
    [InlineData("06:00", "2026-11-21T06:00:00Z", "2026-11-22T06:00:00Z")]
    [InlineData("23:30", "2026-11-21T23:45:00Z", "2026-11-22T23:30:00Z")]
    public void The_next_report_is_due_at_the_next_daily_time(string at, string now, string next) =>
        Assert.Equal(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture), DailyReports.Next(at, DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public async Task A_daily_report_is_kept_mailed_as_html_and_the_oldest_removed()
    {
        string directory = Path.Combine(_data, "reports");
        using var store = SqliteStore.Open(_data);
        var email = new EmailOptions { Host = "127.0.0.1", Port = _smtp.Port, StartTls = false, From = "sensor@example.net", To = ["ops@example.net"] };
        using var reports = new DailyReports(new ReportsOptions { Keep = 2 }, email, store, directory, () => new ActivityReport.SensorHealth("nftables", 3600, 1_234_567, 0, 0), _log.Enqueue);
        var day = new DateTimeOffset(2026, 11, 18, 6, 0, 0, TimeSpan.Zero);
        for (int i = 0; i < 3; i++)
        {
            Assert.NotNull(await reports.MakeAsync(day.AddDays(i), CancellationToken.None));
        }
        Assert.Equal(["report-2026-11-19.html", "report-2026-11-19.json", "report-2026-11-20.html", "report-2026-11-20.json"], Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains("1,234,567", File.ReadAllText(Path.Combine(directory, "report-2026-11-20.html")), StringComparison.Ordinal);
        Assert.Equal(3, _smtp.Mails.Count);
        string mail = SmtpSink.Readable(_smtp.Mails.Last().Data);
        Assert.Contains("Subject: PortSentinel daily report: 0 scans, 0 bans", mail, StringComparison.Ordinal);
        Assert.Contains("Content-Type: text/html", mail, StringComparison.Ordinal);
        Assert.Contains(_log, l => l.StartsWith($"REPORT {directory}/report-2026-11-20.html: 0 scans, 0 bans in the last 24 hours, mailed to ops@example.net", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_dashboard_lists_and_serves_the_reports_to_accounts_only()
    {
        await using DashboardHost host = DashboardHost.Start(reports: true);
        string directory = host.Context.ReportsDirectory!;
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "report-2026-11-20.html"), "<!doctype html><h1 style=\"color:red\">PortSentinel activity report</h1>");
        File.WriteAllText(Path.Combine(directory, "report-2026-11-21.html"), "<!doctype html><h1>newer</h1>");
        File.WriteAllText(Path.Combine(directory, "notes.txt"), "not a report");

        using DashboardHost.Client anonymous = await host.Anonymous();
        await anonymous.Get("/api/v1/reports").Expect(HttpStatusCode.Unauthorized);
        using DashboardHost.Client viewer = await host.LogIn("viewer");
        var list = await viewer.Get("/api/v1/reports").Expect(HttpStatusCode.OK);
        Assert.Equal(["report-2026-11-21.html", "report-2026-11-20.html"], list.EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        using HttpResponseMessage page = await viewer.Get("/api/v1/reports/report-2026-11-20.html");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("style-src 'unsafe-inline'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("activity report", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await viewer.Get("/api/v1/reports/notes.txt").Expect(HttpStatusCode.NotFound);
        await viewer.Get("/api/v1/reports/..%2Fportsentinel.db").Expect(HttpStatusCode.NotFound);
    }
}
