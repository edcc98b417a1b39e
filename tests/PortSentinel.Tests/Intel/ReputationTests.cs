using System.Collections.Concurrent;
using System.Text.Json;
using PortSentinel.Capture;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Record;
using PortSentinel.Respond;

namespace PortSentinel.Tests.Intel;

/// <summary>
/// AbuseIPDB reputation against a local server that answers like the documented API: lookups off
/// the packet path, cached, only for public addresses, raising severity and ban length, and
/// 429, 5xx, timeouts and a refused key met with a pause that health reports.
/// </summary>
public sealed class ReputationTests : AbuseIpDbTests
{
    // Public addresses used as data only: no packet goes to them, only their names to the local server.
    private const string KnownBad = "45.155.205.9";
    private const string Clean = "45.155.205.10";

    public ReputationTests()
        : base("ps-rep-")
    {
    }

    private AbuseIpDbOptions Options(Action<AbuseIpDbOptions>? change = null)
    {
        var options = new AbuseIpDbOptions { ApiKey = FakeAbuseIpDb.Key, BaseUrl = Server.BaseUrl };
        change?.Invoke(options);
        Assert.Empty(options.Validate());
        return options;
    }

    private static void Eventually(Func<bool> condition, string what) =>
        Assert.True(SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(10)), what);

    [Theory]
    [InlineData("45.155.205.9", true)]
    [InlineData("2a01:4f8::1", true)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.20.0.1", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("169.254.3.4", false)]
    [InlineData("192.0.2.1", false)]
    [InlineData("198.51.100.1", false)]
    [InlineData("203.0.113.5", false)]
    [InlineData("224.0.0.251", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("2001:db8::1", false)]
    public void Only_public_addresses_are_looked_up(string address, bool expected) =>
        Assert.Equal(expected, PublicAddresses.IsPublic(NetAddress.Parse(address)));

    [Fact]
    public async Task A_check_sends_the_key_and_reads_the_documented_fields_and_a_refused_key_is_named_without_it()
    {
        Server.Scores[KnownBad] = 87;
        using var client = new AbuseIpDbClient(Options());
        CheckResult result = await client.CheckAsync(NetAddress.Parse(KnownBad), DateTimeOffset.UtcNow, CancellationToken.None);
        Reputation r = Assert.IsType<Reputation>(result.Reputation);
        Assert.Equal((KnownBad, 87, "NL", "Example Hosting B.V.", "example.net", 261), (r.Address, r.Score, r.CountryCode, r.Isp, r.Domain, r.TotalReports));
        Assert.Equal(DateTimeOffset.Parse("2026-11-20T08:15:00+00:00", System.Globalization.CultureInfo.InvariantCulture), r.LastReportedAt);
        Assert.Equal(990, result.Remaining);
        Assert.Equal((KnownBad, "90", FakeAbuseIpDb.Key), Assert.Single(Server.Checks));

        using var wrong = new AbuseIpDbClient(Options(o => o.ApiKey = "not-the-key-42"));
        result = await wrong.CheckAsync(NetAddress.Parse(KnownBad), DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Null(result.Reputation);
        Assert.Contains("AbuseIpDb:ApiKey", result.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-key-42", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_slow_server_is_given_up_after_the_timeout()
    {
        Server.Next.Enqueue(0);
        using var client = new AbuseIpDbClient(Options(o => o.TimeoutSeconds = 1));
        CheckResult result = await client.CheckAsync(NetAddress.Parse(KnownBad), DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Null(result.Reputation);
        Assert.Contains("did not answer within 1s", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_known_bad_scanner_below_the_blocking_severity_is_blocked_when_its_reputation_comes_and_for_longer()
    {
        Server.Scores[KnownBad] = 95;
        Server.Scores[Clean] = 0;
        var firewall = new DryRunFirewall();
        using var reputation = new ReputationService(Options(), Store, Log.Enqueue);
        var decide = new DecideOptions { BlockAt = Severity.High, BanSeconds = 600 };
        using var sensor = new Sensor(new SensorOptions(), new Decider(new Allowlist(HostFacts.Read(), []), decide), firewall, Store, Log.Enqueue)
        {
            Reputation = reputation,
        };
        sensor.Start();

        sensor.Detected(Scans.Vertical(KnownBad, ports: 20));
        sensor.Detected(Scans.Vertical(Clean, ports: 20));
        sensor.Detected(Scans.Vertical("192.168.7.7", ports: 20));
        Eventually(() => Store.ActiveBans(DateTimeOffset.UtcNow).Any(b => b.Network.ToString() == KnownBad), "the known-bad scanner was not blocked");

        BanRecord ban = Assert.Single(Store.ActiveBans(DateTimeOffset.UtcNow));
        Assert.Equal(TimeSpan.FromSeconds(600 * 4), ban.Expires - ban.Created);
        Assert.Contains(Log, l => l.StartsWith($"REPUTATION {KnownBad} score=95 reports=285 country=NL", StringComparison.Ordinal));
        Assert.Contains(Log, l => l.StartsWith($"DETECTED {KnownBad} ", StringComparison.Ordinal) && l.Contains("action=log", StringComparison.Ordinal));
        Assert.Contains(Log, l => l.StartsWith($"DETECTED {KnownBad} ", StringComparison.Ordinal) && l.Contains("severity=critical action=block", StringComparison.Ordinal) && l.Contains("AbuseIPDB score 95", StringComparison.Ordinal));
        Assert.Contains(Log, l => l.StartsWith($"BANNED {KnownBad} for 2400s", StringComparison.Ordinal));
        AlertRecord alert = Assert.Single(Store.Alerts(new AlertQuery { Source = KnownBad }).Page);
        Assert.Equal(("critical", "block"), (alert.Severity, alert.Action));

        // The clean source stays logged; the private one is never asked about.
        Eventually(() => Log.Any(l => l.StartsWith($"REPUTATION {Clean} score=0", StringComparison.Ordinal)), "the clean source was not looked up");
        Assert.DoesNotContain(Store.ActiveBans(DateTimeOffset.UtcNow), b => b.Network.ToString() == Clean);
        Assert.DoesNotContain(Server.Checks, c => c.Address == "192.168.7.7");

        // Cached: the next detection of the same source is decided with it at once, without asking again.
        int asked = Server.Checks.Count;
        sensor.Detected(Scans.Vertical(Clean, ports: 20));
        Eventually(() => Store.Alerts(new AlertQuery { Source = Clean }).Total == 2, "the second detection was not recorded");
        Assert.Contains(Log, l => l.StartsWith($"DETECTED {Clean} ", StringComparison.Ordinal) && l.Contains("AbuseIPDB score 0", StringComparison.Ordinal));
        Assert.Equal(asked, Server.Checks.Count);
        Assert.Equal(2, reputation.Status().Lookups);
    }

    [Fact]
    public void A_reputation_reaches_the_watchers_with_the_alert_when_known_and_on_its_own_when_it_comes_later()
    {
        Server.Scores[KnownBad] = 95;
        string path = Path.Combine(Data, "events.jsonl");
        using var reputation = new ReputationService(Options(), Store, Log.Enqueue);
        using var sensor = new Sensor(new SensorOptions(), new Decider(new Allowlist(HostFacts.Read(), []), new DecideOptions { BlockAt = Severity.High }), new DryRunFirewall(), Store, Log.Enqueue)
        {
            Reputation = reputation,
        };
        using SensorFeed.Subscription feed = sensor.Feed.Subscribe(1000);
        using (var events = new EventLog(new EventLogOptions { Path = path }, sensor.Feed, Log.Enqueue))
        {
            sensor.Start();
            sensor.Detected(Scans.Vertical(KnownBad, ports: 20));
            Eventually(() => Store.ActiveBans(DateTimeOffset.UtcNow).Count == 1, "the known-bad scanner was not blocked");
            sensor.Detected(Scans.Vertical(KnownBad, ports: 20)); // again: decided with the cached reputation
            // Its ban too, recorded (and told to the event log) after its alert: the log closes next.
            Eventually(() => Store.Alerts(new AlertQuery { Source = KnownBad }).Total == 2 && Store.BanCount() == 2, "the second detection was not recorded with its ban");
        }

        var seen = new List<SensorEvent>();
        while (feed.Reader.TryRead(out SensorEvent? e))
        {
            seen.Add(e);
        }
        AlertEvent[] alerts = [.. seen.OfType<AlertEvent>().Where(a => !a.Ended)];
        Assert.Equal(3, alerts.Length); // raised, decided again with its reputation, raised again
        Assert.Equal((null, "log"), (alerts[0].Reputation, alerts[0].Alert.Action));
        Assert.Equal((95, "block", alerts[0].Alert.Id), (alerts[1].Reputation?.Score, alerts[1].Alert.Action, alerts[1].Alert.Id));
        Assert.Equal(95, alerts[2].Reputation?.Score);
        int looked = seen.FindIndex(e => e is ReputationEvent { Reputation.Address: KnownBad, Reputation.Score: 95 });
        Assert.InRange(looked, seen.IndexOf(alerts[0]) + 1, seen.IndexOf(alerts[1]) - 1);

        JsonElement[] lines = [.. File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
        Assert.Equal(["scan-detected", "reputation", "scan-detected", "ban-added", "scan-detected", "ban-added"],
            lines.Where(l => l.GetProperty("event").GetProperty("action").GetString() != "scan-ended").Select(l => l.GetProperty("event").GetProperty("action").GetString()));
        JsonElement enrichment = lines.Single(l => l.GetProperty("event").GetProperty("action").GetString() == "reputation");
        Assert.Equal(("enrichment", KnownBad, "NL"), (enrichment.GetProperty("event").GetProperty("kind").GetString(),
            enrichment.GetProperty("source").GetProperty("ip").GetString(), enrichment.GetProperty("source").GetProperty("geo").GetProperty("country_iso_code").GetString()));
        JsonElement scored = enrichment.GetProperty("portsentinel").GetProperty("reputation");
        Assert.Equal(("abuseipdb", 95, 285), (scored.GetProperty("provider").GetString(), scored.GetProperty("score").GetInt32(), scored.GetProperty("reports").GetInt32()));
        JsonElement[] detected = [.. lines.Where(l => l.GetProperty("event").GetProperty("action").GetString() == "scan-detected")];
        Assert.False(detected[0].GetProperty("portsentinel").TryGetProperty("reputation", out _));
        Assert.All(detected[1..], l => Assert.Equal(95, l.GetProperty("portsentinel").GetProperty("reputation").GetProperty("score").GetInt32()));
    }

    [Fact]
    public void A_429_pauses_lookups_for_its_retry_after_and_health_says_so_then_they_resume()
    {
        Server.Scores[KnownBad] = 60;
        Server.Next.Enqueue(429);
        using var reputation = new ReputationService(Options(), Store, Log.Enqueue);
        var looked = new ConcurrentQueue<Reputation>();
        reputation.Looked = looked.Enqueue;
        reputation.Start();
        Assert.True(reputation.Request(NetAddress.Parse(KnownBad)));
        Eventually(() => reputation.Status().State == "paused", "lookups did not pause");
        ReputationStatus paused = reputation.Status();
        Assert.Contains("429", paused.Problem, StringComparison.Ordinal);
        Assert.Contains(Log, l => l.StartsWith("WARNING reputation: AbuseIPDB answered 429", StringComparison.Ordinal) && l.Contains("without reputation", StringComparison.Ordinal));

        Eventually(() => !looked.IsEmpty, "the lookup did not resume after Retry-After");
        Assert.Equal(60, Assert.Single(looked).Score);
        Assert.Equal("ok", reputation.Status().State);
        Assert.Contains(Log, l => l == "REPUTATION lookups work again");
        Assert.Equal(60, reputation.Known(NetAddress.Parse(KnownBad))?.Score);
    }

    [Fact]
    public void Server_errors_are_retried_with_a_growing_pause_and_counted()
    {
        Server.Scores[KnownBad] = 10;
        Server.Next.Enqueue(500);
        Server.Next.Enqueue(503);
        using var reputation = new ReputationService(Options(), Store, Log.Enqueue);
        var looked = new ConcurrentQueue<Reputation>();
        reputation.Looked = looked.Enqueue;
        reputation.Start();
        reputation.Request(NetAddress.Parse(KnownBad));
        Eventually(() => !looked.IsEmpty, "the lookup did not succeed after two server errors");
        Assert.Equal(3, Server.Checks.Count);
        Assert.Equal((1L, 2L), (reputation.Status().Lookups, reputation.Status().Failures));
        Assert.Contains(Log, l => l.Contains("AbuseIPDB answered 500", StringComparison.Ordinal));
        Assert.Contains(Log, l => l.Contains("AbuseIPDB answered 503", StringComparison.Ordinal));
    }

    [Fact]
    public void The_daily_quota_stops_lookups_until_midnight_utc()
    {
        using var reputation = new ReputationService(Options(o => o.DailyQuota = 1), Store, Log.Enqueue);
        var looked = new ConcurrentQueue<Reputation>();
        reputation.Looked = looked.Enqueue;
        reputation.Start();
        reputation.Request(NetAddress.Parse(KnownBad));
        Eventually(() => looked.Count == 1, "the first lookup did not happen");
        reputation.Request(NetAddress.Parse(Clean));
        Eventually(() => reputation.Status().State == "paused", "the quota did not pause lookups");
        Assert.Contains("daily quota of 1", reputation.Status().Problem, StringComparison.Ordinal);
        Assert.Equal(DateTimeOffset.UtcNow.UtcDateTime.Date.AddDays(1), reputation.Status().PausedUntil?.UtcDateTime);
        Assert.Single(Server.Checks);
    }

    [Fact]
    public void Blocked_public_scanners_are_reported_once_per_interval_with_the_evidence_and_no_local_address()
    {
        Server.Scores[KnownBad] = 95;
        var firewall = new DryRunFirewall();
        using var reputation = new ReputationService(Options(o => o.Report = true), Store, Log.Enqueue);
        using var sensor = new Sensor(new SensorOptions(), new Decider(new Allowlist(HostFacts.Read(), []), new DecideOptions()), firewall, Store, Log.Enqueue)
        {
            Reputation = reputation,
        };
        sensor.Start();
        sensor.Detected(Scans.Vertical(KnownBad, ports: 20));
        sensor.Detected(Scans.Vertical("192.168.7.7", ports: 20));
        Eventually(() => !Server.Reports.IsEmpty, "the blocked scanner was not reported");
        var (address, categories, comment) = Assert.Single(Server.Reports);
        Assert.Equal((KnownBad, "14"), (address, categories));
        Assert.StartsWith("Port scan blocked by PortSentinel: tcp-syn,vertical, 20 probes to 20 ports (tcp 1-20) on 1 host(s)", comment, StringComparison.Ordinal);
        Assert.DoesNotContain("192.0.2.2", comment, StringComparison.Ordinal);
        Eventually(() => Log.Any(l => l == $"REPORTED {KnownBad} to AbuseIPDB (category 14, Port Scan)"), "the report was not logged");

        // Blocked again within ReportEveryHours: not reported again; the private source never is.
        Store.LiftBans([NetPrefix.Parse(KnownBad)], DateTimeOffset.UtcNow, "test");
        sensor.Detected(Scans.Vertical(KnownBad, ports: 20));
        Eventually(() => Store.ActiveBans(DateTimeOffset.UtcNow).Any(b => b.Network.ToString() == KnownBad), "the second offence was not blocked");
        Thread.Sleep(500);
        Assert.Single(Server.Reports);
        Assert.Equal(1, reputation.Status().Reported);
    }

    [Fact]
    public void Nothing_is_reported_unless_reporting_is_on()
    {
        using var reputation = new ReputationService(Options(), Store, Log.Enqueue);
        reputation.Start();
        Assert.False(reputation.Report(Scans.Vertical(KnownBad, ports: 20)));
        Assert.Empty(Server.Reports);
    }

    [Fact]
    public void Options_name_the_key_that_is_wrong()
    {
        var options = new AbuseIpDbOptions { ApiKey = "k", BaseUrl = "ftp://example.net/", MaxAgeInDays = 400, RaiseAtScore = 80, CriticalAtScore = 60, BanFactor = 0.5 };
        IReadOnlyList<string> errors = options.Validate();
        Assert.Contains(errors, e => e.StartsWith("AbuseIpDb:BaseUrl", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("AbuseIpDb:MaxAgeInDays", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("AbuseIpDb:RaiseAtScore", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("AbuseIpDb:BanFactor", StringComparison.Ordinal));
        Assert.False(new AbuseIpDbOptions().Enabled);
    }
}
