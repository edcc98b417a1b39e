using System.Collections.Concurrent;
using System.Diagnostics;
using PortSentinel.Decode;
using PortSentinel.Record;
using PortSentinel.Report;
using PortSentinel.Tests.Record;

namespace PortSentinel.Tests.Respond;

/// <summary>
/// Sensors of one fleet, in this process, on one real PostgreSQL database, each with its own
/// (dry-run) firewall: what one bans or lifts reaches the others' firewalls, and what a sensor's
/// own allowlist refuses stays out of its firewall.
/// </summary>
public sealed class FleetSyncTests : IDisposable
{
    private static readonly TimeSpan _within = TimeSpan.FromSeconds(20);

    private readonly string _data = Directory.CreateTempSubdirectory("ps-fleet-").FullName;
    private readonly Lazy<StoreOptions> _database = new(() => PostgresServer.NewDatabase());
    private readonly List<SensorHost> _hosts = [];
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _logs = new();

    public void Dispose()
    {
        foreach (SensorHost host in _hosts)
        {
            host.Dispose();
        }
        if (_database.IsValueCreated)
        {
            PostgresServer.Drop(_database.Value);
        }
        Directory.Delete(_data, recursive: true);
    }

    [PostgresFact]
    public async Task A_ban_one_sensor_makes_reaches_the_others_firewalls_and_so_does_its_lift()
    {
        SensorHost a = Start("web-01"), b = Start("web-02"), c = Start("web-03");
        NetPrefix scanner = NetPrefix.Parse("203.0.113.9");

        var (ban, refusal) = await a.Sensor.Block(scanner, TimeSpan.FromHours(1), "seen probing", "user:alice");
        Assert.True(ban is not null, refusal);
        foreach (var (host, name) in new[] { (b, "web-02"), (c, "web-03") })
        {
            Eventually(() => Holds(host, scanner), $"{name} never applied web-01's ban:\n{Log(name)}");
            Assert.Matches(@"^FLEET BANNED 203\.0\.113\.9 for 3[56]\d\ds firewall=dry-run by web-01: manual: seen probing$", Assert.Single(Lines(name, "FLEET")));
        }
        Assert.Empty(Lines("web-01", "FLEET")); // its own ban was in its firewall already

        await a.Sensor.Unblock([scanner], "user:alice");
        foreach (var (host, name) in new[] { (b, "web-02"), (c, "web-03") })
        {
            Eventually(() => !Holds(host, scanner), $"{name} kept the ban web-01 lifted:\n{Log(name)}");
            Assert.Contains("FLEET UNBANNED 203.0.113.9 by web-01", Log(name));
        }
    }

    [PostgresFact]
    public async Task A_sensor_that_was_down_catches_up_with_what_changed_meanwhile()
    {
        SensorHost a = Start("web-01");
        SensorHost b = Start("web-02");
        NetPrefix lifted = NetPrefix.Parse("198.51.100.20"), added = NetPrefix.Parse("198.51.100.21");
        await a.Sensor.Block(lifted, null, "old", "user:alice");
        Eventually(() => Holds(b, lifted), Log("web-02"));
        Stop(b);

        await a.Sensor.Unblock([lifted], "user:alice");
        await a.Sensor.Block(added, TimeSpan.FromHours(2), "new", "user:alice");
        _logs["web-02"].Clear();
        b = Start("web-02");
        Eventually(() => Holds(b, added) && Log("web-02").Contains("FLEET UNBANNED 198.51.100.20 by web-01", StringComparison.Ordinal), Log("web-02"));
        Assert.Contains("RESTORED 1 bans into dry-run", Log("web-02"));
        Assert.False(Holds(b, lifted));
        long latest = (long)PostgresServer.Execute(_database.Value, "SELECT max(changed) FROM bans")!;
        Eventually(() => Applied("web-02") == latest, $"web-02 recorded {Applied("web-02")}, not {latest}"); // within a second
    }

    [PostgresFact]
    public async Task A_sensor_new_to_the_fleet_that_stops_before_any_change_still_catches_up_the_lifts_made_meanwhile()
    {
        SensorHost a = Start("web-01");
        NetPrefix banned = NetPrefix.Parse("198.51.100.30");
        await a.Sensor.Block(banned, TimeSpan.FromHours(1), "before web-02 came", "user:alice");
        SensorHost b = Start("web-02"); // its restore puts the ban in; no change follows
        Assert.True(Holds(b, banned));
        Eventually(() => PostgresServer.Execute(_database.Value, "SELECT applied FROM sensors WHERE name = 'web-02'") is long, "web-02 never recorded its place");
        Stop(b);

        await a.Sensor.Unblock([banned], "user:alice");
        Start("web-02");
        Eventually(() => Log("web-02").Contains("FLEET UNBANNED 198.51.100.30 by web-01", StringComparison.Ordinal), Log("web-02"));
    }

    [PostgresFact]
    public async Task A_sensor_whose_connection_to_the_fleet_is_cut_says_so_reconnects_and_misses_nothing()
    {
        SensorHost a = Start("web-01");
        SensorHost b = Start("web-02");
        // The server ends web-02's listening connection, as a restart of the server or a cut in the network would.
        Assert.Equal(1L, PostgresServer.Execute(_database.Value, """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'portsentinel web-02' AND query LIKE 'LISTEN%'
            """));
        NetPrefix meanwhile = NetPrefix.Parse("203.0.113.60");
        var (ban, refusal) = await a.Sensor.Block(meanwhile, TimeSpan.FromHours(1), "while cut off", "user:alice");
        Assert.True(ban is not null, refusal);

        Eventually(() => Holds(b, meanwhile), Log("web-02"));
        Assert.Contains(Log("web-02").Split('\n'), l => l.StartsWith("WARNING the fleet's blocklist cannot be followed: ", StringComparison.Ordinal) && l.EndsWith("; trying again in 1s (bans made here still apply here)", StringComparison.Ordinal));
        Assert.Contains("FLEET blocklist reachable again; catching up after change ", Log("web-02"), StringComparison.Ordinal);
    }

    [PostgresFact]
    public void A_sensor_whose_database_goes_away_keeps_running_says_so_and_bans_again_once_it_is_back()
    {
        SensorHost a = Start("web-01");
        PostgresServer.SetReachable(_database.Value, reachable: false);
        try
        {
            // No outage spool yet: the decision reads the record (the offence count) and fails, logged.
            a.Sensor.Detected(Scans.Vertical("203.0.113.70", ports: 30));
            Eventually(() => Lines("web-01", "ERROR ").Count > 0 && Lines("web-01", "WARNING the fleet's blocklist cannot be followed").Count > 0, Log("web-01"));
            Assert.Empty(Lines("web-01", "BANNED 203.0.113.70"));
        }
        finally
        {
            PostgresServer.SetReachable(_database.Value, reachable: true);
        }
        Eventually(() => Log("web-01").Contains("FLEET blocklist reachable again", StringComparison.Ordinal), Log("web-01"));
        a.Sensor.Detected(Scans.Vertical("203.0.113.71", ports: 30));
        Eventually(() => Lines("web-01", "BANNED 203.0.113.71 ").Count == 1, Log("web-01"));
        Assert.True(Holds(a, NetPrefix.Parse("203.0.113.71")));
    }

    [PostgresFact]
    public async Task A_ban_row_that_names_no_network_is_reported_and_skipped_and_the_bans_after_it_still_travel()
    {
        Start("web-01");
        SensorHost b = Start("web-02");
        PostgresServer.Execute(_database.Value, """
            INSERT INTO bans (network, reason, created, expires, offence, sensor, changed_by)
            VALUES ('203.0.113.999; DROP TABLE bans', 'by hand', now(), now() + interval '1 hour', 1, 'someone', 'someone')
            """);
        var (ban, refusal) = await _hosts[0].Sensor.Block(NetPrefix.Parse("203.0.113.80"), TimeSpan.FromHours(1), "after the bad row", "user:alice");
        Assert.True(ban is not null, refusal);

        Eventually(() => Holds(b, NetPrefix.Parse("203.0.113.80")), Log("web-02"));
        Assert.Contains("WARNING 1 bans of the fleet's record name no network (e.g. \"203.0.113.999; DROP TABLE bans\"): skipped", Log("web-02"), StringComparison.Ordinal);
        Assert.DoesNotContain("cannot be followed", Log("web-02"), StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task What_a_sensors_own_allowlist_covers_is_refused_there_and_applied_elsewhere()
    {
        SensorHost a = Start("web-01");
        SensorHost b = Start("web-02", allowed: [NetPrefix.Parse("203.0.113.0/24")]);
        SensorHost c = Start("web-03");
        NetPrefix gateway = NetPrefix.Parse("203.0.113.1");

        var (ban, refusal) = await a.Sensor.Block(gateway, TimeSpan.FromHours(1), "noisy", "user:alice");
        Assert.True(ban is not null, refusal);
        Eventually(() => Holds(c, gateway), Log("web-03"));
        Eventually(() => Lines("web-02", "REFUSED").Count > 0, Log("web-02"));
        Assert.StartsWith("REFUSED fleet ban of 203.0.113.1 by web-01: 203.0.113.1 is not banned: it covers", Assert.Single(Lines("web-02", "REFUSED")));
        Assert.False(Holds(b, gateway));

        // Nor does the restore at the next start put it in.
        Stop(b);
        b = Start("web-02", allowed: [NetPrefix.Parse("203.0.113.0/24")]);
        Assert.Contains("RESTORED 0 bans into dry-run, 1 kept out (allowlisted or too wide here)", Log("web-02"));
        Assert.False(Holds(b, gateway));
    }

    [PostgresFact]
    public async Task A_hold_stays_on_the_sensor_that_doubted_and_a_ban_after_it_still_travels()
    {
        SensorHost a = Start("web-01");
        SensorHost b = Start("web-02");
        a.Sensor.Detected(Scans.Vertical("203.0.113.50", ports: 30, verified: false));
        Eventually(() => Holds(a, NetPrefix.Parse("203.0.113.50")), Log("web-01"));
        Assert.Contains(Log("web-01").Split('\n'), l => l.StartsWith("HELD 203.0.113.50 ", StringComparison.Ordinal));

        await a.Sensor.Block(NetPrefix.Parse("203.0.113.51"), TimeSpan.FromHours(1), "after the hold", "user:alice");
        Eventually(() => Holds(b, NetPrefix.Parse("203.0.113.51")), Log("web-02"));
        Assert.False(Holds(b, NetPrefix.Parse("203.0.113.50")), "a hold, whose source may be forged, was pushed to the fleet");
    }

    [PostgresFact]
    public async Task A_blocklist_of_ten_thousand_reaches_the_other_sensor_in_one_batch_with_its_log_summarised()
    {
        SensorHost a = Start("web-01");
        SensorHost b = Start("web-02");
        NetPrefix[] list = [.. Enumerable.Range(0, 10_000).Select(i => NetPrefix.Parse($"10.{i / 256 % 256}.{i % 256}.1"))];
        var clock = Stopwatch.StartNew();
        Assert.Equal(10_000, (await a.Sensor.Preempt(list, TimeSpan.FromDays(1), "blocklist test")).Banned);
        Eventually(() => Holds(b, list[^1]) && b.Firewall.List().Count >= 10_000, Log("web-02"));
        Console.WriteLine($"fleet: 10,000 bans from one sensor's import in the other's firewall after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(20, Lines("web-02", "FLEET BANNED 10.").Count);
        Assert.Contains("FLEET BANNED 9980 more networks", Log("web-02"));
    }

    [PostgresFact]
    public async Task An_entry_of_the_fleet_wide_allowlist_is_blocked_by_no_sensor_until_it_is_removed()
    {
        SensorHost a = Start("web-01");
        SensorHost b = Start("web-02");
        var fleet = (IFleetStore)a.Store;
        NetPrefix probe = NetPrefix.Parse("198.51.100.9");
        const string Allowed = "FLEET ALLOWLIST 1 entries never blocked here: 198.51.100.0/24 (monitoring)";

        Assert.True(fleet.Allow(NetPrefix.Parse("198.51.100.0/24"), "monitoring", "cli:root", DateTimeOffset.UtcNow));
        Eventually(() => Log("web-01").Contains(Allowed, StringComparison.Ordinal) && Log("web-02").Contains(Allowed, StringComparison.Ordinal), Log("web-02"));
        b.Sensor.Detected(Scans.Vertical("198.51.100.9", ports: 30));
        Eventually(() => Lines("web-02", "DETECTED 198.51.100.9 ").Count > 0, Log("web-02"));
        Assert.Contains("allowlisted: allowlisted fleet-wide: monitoring (198.51.100.0/24)", Assert.Single(Lines("web-02", "DETECTED 198.51.100.9 ")), StringComparison.Ordinal);
        var (ban, refusal) = await a.Sensor.Block(probe, TimeSpan.FromHours(1), "by hand", "user:alice");
        Assert.Null(ban);
        Assert.Contains("allowlisted fleet-wide: monitoring", refusal, StringComparison.Ordinal);

        // A sensor that starts later has it before its first decision.
        Start("web-03");
        Assert.Contains(Allowed, Log("web-03"), StringComparison.Ordinal);

        Assert.True(fleet.Disallow(NetPrefix.Parse("198.51.100.0/24")));
        Eventually(() => Log("web-01").Contains("FLEET ALLOWLIST empty", StringComparison.Ordinal), Log("web-01"));
        (ban, refusal) = await a.Sensor.Block(probe, TimeSpan.FromHours(1), "by hand", "user:alice");
        Assert.True(ban is not null, refusal);
        Eventually(() => Holds(b, probe), Log("web-02"));
    }

    [PostgresFact]
    public void A_second_sensor_of_a_name_in_use_is_refused_until_the_first_stops()
    {
        SensorHost first = Start("web-01");
        StoreException e = Assert.Throws<StoreException>(() => Start("web-01"));
        Assert.Contains("another sensor named web-01 is running on this fleet's store; give this one a name of its own (--name or Sensor:Name)", e.Message, StringComparison.Ordinal);

        Stop(first);
        Start("web-01");
        Assert.Equal(2, _logs["web-01"].Count(l => l.StartsWith("RUNNING ", StringComparison.Ordinal))); // the first, and this one
    }

    private SensorHost Start(string name, IReadOnlyList<NetPrefix>? allowed = null)
    {
        ConcurrentQueue<string> log = _logs.GetOrAdd(name, _ => new ConcurrentQueue<string>());
        SensorHost host = SensorHost.Create(new SensorConfiguration
        {
            DataDirectory = Path.Combine(_data, name),
            Sensor = new SensorOptions { Firewall = new PortSentinel.Respond.FirewallOptions { Backend = "dry-run" } },
            Reports = new ReportsOptions { DailyAt = "" },
            Allowed = allowed ?? [],
            Store = _database.Value,
            Name = name,
        }, log.Enqueue);
        _hosts.Add(host);
        host.Start();
        return host;
    }

    private void Stop(SensorHost host)
    {
        _hosts.Remove(host);
        host.Dispose();
    }

    private static bool Holds(SensorHost host, NetPrefix network) => host.Firewall.List().Any(e => e.Network == network);

    private string Log(string name) => string.Join('\n', _logs[name]);

    private List<string> Lines(string name, string start) => [.. _logs[name].Where(l => l.StartsWith(start, StringComparison.Ordinal))];

    private long Applied(string name) => (long)PostgresServer.Execute(_database.Value, $"SELECT applied FROM sensors WHERE name = '{name}'")!;

    private static void Eventually(Func<bool> condition, string because)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < _within, because);
            Thread.Sleep(20);
        }
    }
}
