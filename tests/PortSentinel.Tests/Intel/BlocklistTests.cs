using PortSentinel.Capture;
using PortSentinel.Cli.Commands;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Record;
using PortSentinel.Respond;

namespace PortSentinel.Tests.Intel;

/// <summary>Pre-emptive bans from a file and from AbuseIPDB's blacklist (a local server answering like it), through a real sensor and store.</summary>
public sealed class BlocklistTests : AbuseIpDbTests
{
    private readonly Sensor _sensor;

    public BlocklistTests()
        : base("ps-block-")
    {
        _sensor = new Sensor(new SensorOptions(), new Decider(new Allowlist(HostFacts.Read(), []), new DecideOptions()), new DryRunFirewall(), Store, Log.Enqueue);
        _sensor.Start();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sensor.Dispose();
        }
        base.Dispose(disposing);
    }

    private HashSet<string> Banned() => [.. Store.ActiveBans(DateTimeOffset.UtcNow).Select(b => b.Network.ToString())];

    [Fact]
    public async Task A_file_is_banned_ahead_of_any_scan_without_the_allowlisted_the_too_wide_or_the_bad_lines()
    {
        string file = Path.Combine(Data, "blocklist.txt");
        File.WriteAllLines(file, ["# known scanners", "45.155.205.0/24", "5.188.10.1   # a comment", "", "not-an-address", "127.0.0.1", "10.0.0.0/8", "5.188.10.1"]);
        var options = new BlocklistOptions { File = file, BanHours = 3 };
        Assert.Empty(options.Validate());
        using var import = new BlocklistImport(options, new AbuseIpDbOptions(), _sensor.Preempt, Log.Enqueue);
        await import.ImportAsync(CancellationToken.None);

        Assert.Equal(["45.155.205.0/24", "5.188.10.1"], Banned().Order());
        BanRecord ban = Store.ActiveBans(DateTimeOffset.UtcNow)[0];
        Assert.Equal(($"blocklist: {file}", TimeSpan.FromHours(3)), (ban.Reason, ban.Expires - ban.Created));
        Assert.Contains(Log, l => l == $"BLOCKLIST blocklist: {file}: 2 banned for 10800s, 0 banned already, 2 refused (allowlisted or too wide)");
        Assert.Contains(Log, l => l.StartsWith($"WARNING blocklist: {file}: 1 lines are not addresses", StringComparison.Ordinal) && l.Contains("line 5 \"not-an-address\"", StringComparison.Ordinal));

        await import.ImportAsync(CancellationToken.None);
        Assert.Contains(Log, l => l == $"BLOCKLIST blocklist: {file}: 0 banned for 10800s, 2 banned already, 2 refused (allowlisted or too wide)");
    }

    [Fact]
    public async Task AbuseIPDBs_blacklist_is_fetched_with_its_confidence_and_limit_and_banned()
    {
        Server.Blacklist.Enqueue("45.155.205.9");
        Server.Blacklist.Enqueue("2a01:4f8::7");
        var abuse = new AbuseIpDbOptions { ApiKey = FakeAbuseIpDb.Key, BaseUrl = Server.BaseUrl };
        using var import = new BlocklistImport(new BlocklistOptions { AbuseIpDb = true, ConfidenceMinimum = 90, Limit = 500 }, abuse, _sensor.Preempt, Log.Enqueue);
        await import.ImportAsync(CancellationToken.None);
        Assert.Equal("?confidenceMinimum=90&limit=500", Assert.Single(Server.BlacklistQueries));
        Assert.Equal(["2a01:4f8::7", "45.155.205.9"], Banned().Order(StringComparer.Ordinal));
        Assert.All(Store.ActiveBans(DateTimeOffset.UtcNow), b => Assert.Equal("blocklist: AbuseIPDB confidence 90+", b.Reason));

        using var refused = new BlocklistImport(new BlocklistOptions { AbuseIpDb = true }, new AbuseIpDbOptions { ApiKey = "wrong", BaseUrl = Server.BaseUrl }, _sensor.Preempt, Log.Enqueue);
        await refused.ImportAsync(CancellationToken.None);
        Assert.Contains(Log, l => l.StartsWith("WARNING blocklist: AbuseIPDB answered 401", StringComparison.Ordinal) && l.Contains("trying again in 24h", StringComparison.Ordinal));
    }

    [Fact]
    public void The_blacklist_without_a_key_stops_start_up_naming_both_keys()
    {
        var e = Assert.Throws<SettingsException>(() => SensorSettings.Load(new SettingsSources(null, ["Blocklist:AbuseIpDb=true"], "dry-run", null)));
        Assert.Contains("Blocklist:AbuseIpDb", e.Message, StringComparison.Ordinal);
        Assert.Contains("AbuseIpDb:ApiKey", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<SettingsException>(() => SensorSettings.Load(new SettingsSources(null, ["Blocklist:File=/nonexistent/list.txt"], "dry-run", null)));
        Assert.Contains("Blocklist:File", e.Message, StringComparison.Ordinal);
    }
}
