using System.Text.Json;
using Microsoft.Data.Sqlite;
using PortSentinel.Cli.Commands;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;
using PortSentinel.Report;

namespace PortSentinel.Tests.Report;

/// <summary>The activity report from a real SQLite file: counts by kind and hour, top sources with reputation, ports most probed; HTML and JSON; the CLI.</summary>
public sealed class ActivityReportTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("ps-report-").FullName;
    private readonly SqliteStore _store;
    private static readonly DateTimeOffset _t0 = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);

    public ActivityReportTests()
    {
        _store = SqliteStore.Open(_data);
        // 10:xx: three SYN scans of 1-1024 from .1; 11:xx: two UDP scans of 53 and 161 from .2 (blocked), one of them a <script> reason.
        for (int i = 0; i < 3; i++)
        {
            Raise("198.51.100.1", ScanKinds.TcpSyn | ScanKinds.Vertical, "tcp 1-1024", _t0.AddMinutes(10 * i), DecisionAction.Log, "below <b>");
        }
        Raise("198.51.100.2", ScanKinds.Udp, "udp 53,161", _t0.AddHours(1).AddMinutes(5), DecisionAction.Block, "<script>alert(1)</script>");
        Raise("198.51.100.2", ScanKinds.Udp, "udp 53", _t0.AddHours(1).AddMinutes(6), DecisionAction.Block, "again");
        Raise("198.51.100.3", ScanKinds.TcpFin, "tcp 22", _t0.AddHours(5), DecisionAction.Log, "outside the period");
        _store.AddBans([new BanRecord(NetPrefix.Parse("198.51.100.2"), "udp", _t0.AddHours(1).AddMinutes(5), _t0.AddHours(2), 1)]);
        _store.SaveReputation(new Reputation("198.51.100.2", 97, "NL", "Example", "example.net", 500, _t0, _t0));
    }

    public void Dispose()
    {
        _store.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    private void Raise(string source, ScanKinds kinds, string ports, DateTimeOffset at, DecisionAction action, string reason)
    {
        var d = new Detection
        {
            Source = NetAddress.Parse(source),
            Kinds = kinds,
            Targets = [NetAddress.Parse("192.0.2.2")],
            TargetCount = 1,
            Ports = 2,
            PortRanges = ports,
            Protocols = 0,
            Probes = 10,
            First = at,
            Last = at.AddSeconds(1),
            Trigger = "trw",
            Confidence = 1,
            Outcomes = new DetectionOutcomes(0, 10, 0, 0, 0),
            Final = true,
        };
        _store.RaiseAlert(d, new Decision(d, Severity.Medium, action, null, 1, reason), at);
    }

    [Fact]
    public void The_report_counts_scans_and_bans_by_kind_and_hour_with_top_sources_and_ports()
    {
        ActivityReport r = ActivityReport.Build(_store, _t0, _t0.AddHours(3));
        Assert.Equal((5L, 2L, 1L), (r.Scans, r.Blocked, r.Bans));
        Assert.Equal(new Dictionary<string, long> { ["tcp-syn"] = 3, ["udp"] = 2, ["vertical"] = 3 }, r.ScansByKind);
        Assert.Equal([(3L, 0L), (2L, 1L), (0L, 0L)], r.ByHour.Select(h => (h.Scans, h.Bans)));
        Assert.Equal(_t0.AddHours(1), r.ByHour[1].Start);
        ActivityReport.Source top = r.TopSources[0];
        Assert.Equal(("198.51.100.1", 3L, (int?)null), (top.Address, top.Alerts, top.ReputationScore));
        Assert.Equal((97, "NL"), (r.TopSources[1].ReputationScore!.Value, r.TopSources[1].Country));
        Assert.Equal([("tcp", 1, 3L), ("tcp", 2, 3L)], r.TopPorts.Take(2).Select(p => (p.Protocol, p.Number, p.Scans)));
        Assert.All(r.TopPorts, p => Assert.Equal(("tcp", 3L), (p.Protocol, p.Scans))); // 1,024 ports ahead of udp/53 (2 scans)
        ActivityReport all = ActivityReport.Build(_store, _t0, _t0.AddHours(3), top: 2000);
        Assert.Equal(1024 + 2, all.TopPorts.Count);
        Assert.Contains(all.TopPorts, p => p is { Protocol: "udp", Number: 53, Scans: 2 });
        Assert.Contains(all.TopPorts, p => p is { Protocol: "udp", Number: 161, Scans: 1 });
        Assert.Null(r.Health);
    }

    [Fact]
    public void Html_is_self_contained_and_escapes_what_came_from_the_network()
    {
        string html = ReportHtml.Render(ActivityReport.Build(_store, _t0, _t0.AddHours(3), new ActivityReport.SensorHealth("nftables", 86_400, 123_456, 0, 0)));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("97/100 NL", html, StringComparison.Ordinal);
        Assert.Contains("tcp/1<", html, StringComparison.Ordinal);
        Assert.Contains("123,456", html, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cli_writes_json_for_machines_and_refuses_a_bad_period()
    {
        string file = Path.Combine(_data, "report.json");
        int exit = ReportCommand.Run("2026-11-20T10:00Z", "2026-11-20T13:00Z", "json", new FileInfo(file), () => SqliteStore.Open(_data), DateTimeOffset.UtcNow);
        Assert.Equal(0, exit);
        JsonElement json = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
        Assert.Equal(5, json.GetProperty("scans").GetInt64());
        Assert.Equal(3, json.GetProperty("scansByKind").GetProperty("tcp-syn").GetInt64());
        Assert.Equal("198.51.100.1", json.GetProperty("topSources")[0].GetProperty("address").GetString());

        Assert.Equal(0, ReportCommand.Run("48h", null, "html", new FileInfo(Path.Combine(_data, "r.html")), () => SqliteStore.Open(_data), _t0.AddHours(20)));
        Assert.Contains("PortSentinel activity report", File.ReadAllText(Path.Combine(_data, "r.html")), StringComparison.Ordinal);
        Assert.Equal(1, ReportCommand.Run("yesterday", null, "html", null, () => SqliteStore.Open(_data), DateTimeOffset.UtcNow));
        Assert.Equal(1, ReportCommand.Run("2026-11-21T00:00Z", "2026-11-20T00:00Z", "html", null, () => SqliteStore.Open(_data), DateTimeOffset.UtcNow));
    }
}
