using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using PortSentinel.Capture;
using PortSentinel.Decide;
using PortSentinel.Detect;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;
using PortSentinel.Respond;

namespace PortSentinel.Tests;

/// <summary>The warm-up at start: made-up traffic through the real capture, queue and respond path, and nothing of it kept.</summary>
public sealed class SensorWarmUpTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ps-warm-up-").FullName;
    private readonly ConcurrentQueue<string> _log = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void Start_rehearses_on_synthetic_traffic_records_none_of_it_and_then_bans_a_real_scanner_as_a_first_offence()
    {
        using var store = SqliteStore.Open(_directory);
        var firewall = new DryRunFirewall();
        using var sensor = new Sensor(new SensorOptions(), new Decider(new Allowlist(HostFacts.Read(), []), new DecideOptions()), firewall, store, _log.Enqueue) { WarmUpDirectory = _directory };
        using SensorFeed.Subscription feed = sensor.Feed.Subscribe(100);

        sensor.Start();

        string warmed = Assert.Single(_log, l => l.StartsWith("WARMED UP in ", StringComparison.Ordinal));
        // The count of methods compiled is the process's: 0 when an earlier sensor in this test
        // process has compiled them all.
        Assert.True(Regex.IsMatch(warmed, @"^WARMED UP in \d+ ms: 6 passes of 100000 synthetic frames, [1-9]\d* rehearsals, \d+ methods compiled$"), warmed);
        Assert.DoesNotContain(_log, l => l.StartsWith("DETECTED", StringComparison.Ordinal) || l.StartsWith("BANNED", StringComparison.Ordinal) || l.StartsWith("ENDED", StringComparison.Ordinal));
        Assert.False(feed.Reader.TryRead(out _), "the warm-up published an event");
        Assert.Equal((0, 0), (store.DetectionCount(), store.BanCount()));
        Assert.Empty(firewall.List()); // 192.0.2.254, blocked and lifted each pass
        Assert.Equal([SqliteStore.FileName], Directory.GetFiles(_directory, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Where(f => !f!.StartsWith(SqliteStore.FileName + "-", StringComparison.Ordinal)));

        sensor.Detected(Scans.Vertical("203.0.113.9", ports: 30));
        Assert.True(SpinWait.SpinUntil(() => store.BanCount() == 1, TimeSpan.FromSeconds(10)), string.Join('\n', _log));
        Assert.Contains(_log, l => l.StartsWith("BANNED 203.0.113.9 for 3600s offence=1 firewall=dry-run", StringComparison.Ordinal));
        Assert.Equal(1, store.DetectionCount());
    }
}
