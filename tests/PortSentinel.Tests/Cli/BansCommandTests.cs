using System.Text.Json;
using Microsoft.Data.Sqlite;
using PortSentinel.Cli.Commands;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Record.Sqlite;
using PortSentinel.Respond;
using PortSentinel.Respond.Nftables;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Cli;

/// <summary><c>bans add|list|remove|flush</c> against real nftables in a namespace and a real store.</summary>
public sealed class BansCommandTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"ps-bans-{Guid.NewGuid():N}");

    private static Decider Decider() =>
        new(new Allowlist(new HostFacts([NetAddress.Parse(NamespacePair.TargetAddress)], [NetAddress.Parse(NamespacePair.ScannerAddress)], []), [NetPrefix.Parse("203.0.113.128/25")]), new DecideOptions());

    [NamespaceFact]
    public void A_ban_added_by_hand_is_in_the_kernel_and_listed_until_removed()
    {
        using var pair = new NamespacePair();
        NamespacePair.In(pair.Target, () =>
        {
            using SqliteStore store = SqliteStore.Open(_data);
            using var firewall = new NftablesFirewall();
            var output = new StringWriter();
            Assert.Equal(0, BansCommand.Add(store, firewall, Decider(), "203.0.113.7", "2h", "seen on the web log", output));
            Assert.Equal(0, BansCommand.Add(store, firewall, Decider(), "2001:db8:bad::/64", "permanent", "a noisy network", output));
            Assert.Contains("Banned 203.0.113.7 for 2h0m in nftables.", output.ToString());

            var json = new StringWriter();
            Assert.Equal(0, BansCommand.List(store, "json", json));
            using JsonDocument doc = JsonDocument.Parse(json.ToString());
            var bans = doc.RootElement.EnumerateArray().ToList();
            Assert.Equal(["203.0.113.7", "2001:db8:bad::/64"], bans.Select(b => b.GetProperty("address").GetString()));
            Assert.Equal("manual: seen on the web log", bans[0].GetProperty("reason").GetString());
            Assert.True(DateTimeOffset.Parse(bans[0].GetProperty("expires").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddMinutes(110));
            Assert.Equal(JsonValueKind.Null, bans[1].GetProperty("expires").ValueKind);
            Assert.NotNull(bans[0].GetProperty("created").GetString());
            Assert.Equal(2, firewall.List().Count);

            Assert.Equal(0, BansCommand.Remove(store, firewall, ["203.0.113.7"], new StringWriter()));
            Assert.Equal(["2001:db8:bad::/64"], firewall.List().Select(b => b.Network.ToString()));
            var flushed = new StringWriter();
            Assert.Equal(0, BansCommand.Flush(store, firewall, flushed));
            Assert.Contains("Lifted 1 ban.", flushed.ToString());
            Assert.Empty(firewall.List());
            Assert.Empty(store.ActiveBans(DateTimeOffset.UtcNow));
            return 0;
        });
    }

    [NamespaceFact]
    public void Allowlisted_and_too_wide_networks_are_refused_and_nothing_changes()
    {
        using var pair = new NamespacePair();
        NamespacePair.In(pair.Target, () =>
        {
            using SqliteStore store = SqliteStore.Open(_data);
            using var firewall = new NftablesFirewall();
            foreach (string refused in new[] { NamespacePair.ScannerAddress, "127.0.0.1", "203.0.113.200", "198.51.100.0/24", "192.0.0.0/8", "2001:db8::/32", "not-an-address" })
            {
                Assert.Equal(ExitCodes.BadInput, BansCommand.Add(store, firewall, Decider(), refused, null, "manual", new StringWriter()));
            }
            Assert.Empty(store.ActiveBans(DateTimeOffset.UtcNow));
            return 0;
        });
    }

    [Fact]
    public void The_manual_refusals_name_what_is_covered_or_the_limit()
    {
        Assert.Contains("a default gateway", Decider().RefuseManual(NetPrefix.Parse("198.51.100.0/31")));
        Assert.Contains("Decide:ManualWidestV4", Decider().RefuseManual(NetPrefix.Parse("192.0.0.0/8")));
        Assert.Contains("Decide:ManualWidestV6", Decider().RefuseManual(NetPrefix.Parse("2001:db8::/32")));
        Assert.Null(Decider().RefuseManual(NetPrefix.Parse("192.0.2.0/24")));
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("12h", 43200)]
    [InlineData("7d", 604800)]
    [InlineData("3650d", 315360000)]
    [InlineData("315360000s", 315360000)]
    public void Durations_read_as_written(string text, int seconds)
    {
        Assert.True(ManualBans.TryParseDuration(text, out TimeSpan? d));
        Assert.Equal(TimeSpan.FromSeconds(seconds), d);
    }

    [Theory]
    [InlineData("permanent", true)]
    [InlineData("0s", false)]
    [InlineData("-5m", false)]
    [InlineData("5y", false)]
    [InlineData("h", false)]
    [InlineData("3651d", false)]
    [InlineData("315360001s", false)]
    [InlineData("99999999999d", false)]
    [InlineData("99999999999999999999d", false)]
    public void Permanent_and_nonsense_durations(string text, bool ok)
    {
        Assert.Equal(ok, ManualBans.TryParseDuration(text, out TimeSpan? d));
        Assert.Null(d);
    }

    [Theory]
    [InlineData("99999999999d", "is longer than the maximum, 3650d (10 years)")]
    [InlineData("87601h", "is longer than the maximum, 3650d (10 years)")]
    [InlineData("soon", "is not a duration; give e.g. 90s, 30m, 12h, 7d, or permanent")]
    public void A_bad_or_too_long_ban_length_is_a_usage_error_that_names_it(string duration, string message)
    {
        var (exit, _, stderr) = ProcessRunner.RunApart("dotnet", [Cli, "bans", "--data-dir", _data, "--firewall", "dry-run", "add", "203.0.113.7", "--for", duration], TimeSpan.FromSeconds(60));
        Assert.Equal(ExitCodes.BadConfiguration, exit);
        Assert.Contains($"--for {duration} {message}", stderr);
        Assert.DoesNotContain("Unhandled", stderr);
    }

    [Fact]
    public void A_report_since_longer_ago_than_the_maximum_is_named()
    {
        var (exit, _, stderr) = ProcessRunner.RunApart("dotnet", [Cli, "report", "--data-dir", _data, "--since", "99999999999d"], TimeSpan.FromSeconds(60));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--since 99999999999d is longer than the maximum, 3650d (10 years)", stderr);
        Assert.DoesNotContain("Unhandled", stderr);
    }

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }
}
