using System.Globalization;
using Npgsql;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Record;
using PortSentinel.Record.Postgres;

namespace PortSentinel.Tests.Record;

/// <summary>The PostgreSQL store on a database of its own, on the test run's real server.</summary>
public sealed class PostgresStoreTests : StoreContract, IDisposable
{
    private readonly Lazy<StoreOptions> _database = new(() => PostgresServer.NewDatabase());

    public static string? Unavailable => PostgresServer.Unavailable;

    protected override IStore Open() => PostgresStore.Open(_database.Value, "sensor-a");

    protected override int SchemaVersion => Migrations.Steps.Length;

    private StoreOptions Database => _database.Value;

    [PostgresFact]
    public void Ten_thousand_ended_scans_and_ten_thousand_bans_go_in_as_one_batch_each_stamped_with_the_sensor()
    {
        using PostgresStore store = PostgresStore.Open(Database, "sensor-a");
        Detection detection = Scan("203.0.113.7", final: true);
        store.EndAlerts([.. Enumerable.Range(0, 10_000).Select(i => ((long?)null, detection with { Probes = i }))], T0.AddMinutes(1));
        store.AddBans([.. Enumerable.Range(0, 10_000).Select(i => Ban($"2001:db8::{i:x}", 60))]);
        Assert.Equal(10_000, store.DetectionCount());
        Assert.Equal(10_000, store.ActiveBans(T0).Count);

        using NpgsqlDataSource raw = RawSource();
        using NpgsqlCommand query = raw.CreateCommand("SELECT kinds, pg_typeof(last_seen)::text, severity, raised, ended, target_list, closed, sensor FROM detections WHERE probes = 4");
        using NpgsqlDataReader row = query.ExecuteReader();
        Assert.True(row.Read());
        Assert.Equal("tcp-syn,vertical", row.GetString(0));
        Assert.Equal("timestamp with time zone", row.GetString(1));
        Assert.True(row.IsDBNull(2)); // ended undecided
        Assert.True(row.IsDBNull(3));
        Assert.Equal(T0.AddMinutes(1), row.GetFieldValue<DateTimeOffset>(4));
        Assert.Equal("192.0.2.2,192.0.2.3", row.GetString(5));
        Assert.Equal(198, row.GetInt32(6));
        Assert.Equal("sensor-a", row.GetString(7));
    }

    [PostgresFact]
    public void Sensors_share_one_blocklist_and_each_ban_says_which_sensor_made_it()
    {
        using PostgresStore a = PostgresStore.Open(Database, "sensor-a");
        using PostgresStore b = PostgresStore.Open(Database, "sensor-b");
        a.AddBans([Ban("203.0.113.7", 60)]);
        b.AddBans([Ban("203.0.113.7", 120, offence: 2)]);
        Assert.Equal(2, a.PreviousBans(NetPrefix.Parse("203.0.113.7"))); // the fleet's record, whoever banned
        Assert.Equal(2, b.ActiveBans(T0).Count);
        Assert.Equal(2, b.LiftBans([NetPrefix.Parse("203.0.113.7")], T0.AddMinutes(1), "user:alice")); // lifted for the fleet
        Assert.Equal(0, a.LiftBans([NetPrefix.Parse("203.0.113.7")], T0.AddMinutes(1), "user:alice"));
        Assert.Empty(a.ActiveBans(T0.AddMinutes(1)));

        using NpgsqlDataSource raw = RawSource();
        using NpgsqlCommand query = raw.CreateCommand("SELECT string_agg(sensor, ',' ORDER BY id) FROM bans");
        Assert.Equal("sensor-a,sensor-b", query.ExecuteScalar());
        using NpgsqlCommand sensors = raw.CreateCommand("SELECT string_agg(name || '@' || host, ',' ORDER BY name) FROM sensors");
        Assert.Equal($"sensor-a@{Environment.MachineName},sensor-b@{Environment.MachineName}", sensors.ExecuteScalar());
    }

    [PostgresFact]
    public void Every_write_of_a_ban_is_a_numbered_change_read_as_where_each_network_now_stands()
    {
        using PostgresStore a = PostgresStore.Open(Database, "sensor-a");
        using PostgresStore b = PostgresStore.Open(Database, "sensor-b");
        Assert.Equal(0, a.LatestChange());
        Assert.Null(b.LastApplied()); // new to the fleet

        a.AddBans([Ban("203.0.113.7", 60), Ban("203.0.113.8", -1)]);
        b.AddBans([Ban("203.0.113.7", 120, offence: 2), Ban("203.0.113.9", 30) with { Hold = true }]);
        FleetChanges all = b.ChangesAfter(0, T0);
        Assert.Equal(4, all.Latest); // the hold is counted, to be passed over
        Assert.Equal(["203.0.113.8 by sensor-a until ever", "203.0.113.7 by sensor-b until 11:00"],
            all.Networks.Select(c => $"{c.Network} by {c.By} until {(c.Expires is { } e ? e.ToString("HH:mm", CultureInfo.InvariantCulture) : "ever")}"));
        Assert.All(all.Networks, c => Assert.True(c.Active));

        // A lift of every ban of .7: one change, read as the network no longer banned.
        Assert.Equal(2, a.LiftBans([NetPrefix.Parse("203.0.113.7")], T0.AddMinutes(1), "user:alice"));
        FleetChanges lifted = b.ChangesAfter(all.Latest, T0.AddMinutes(1));
        BanChange change = Assert.Single(lifted.Networks);
        Assert.Equal((NetPrefix.Parse("203.0.113.7"), false, "sensor-a"), (change.Network, change.Active, change.By));
        Assert.Equal(6, lifted.Latest); // both rows of .7
        FleetChanges none = b.ChangesAfter(6, T0);
        Assert.Equal(6, none.Latest);
        Assert.Empty(none.Networks);

        b.Applied(6);
        Assert.Equal(6, b.LastApplied());
        Assert.Null(a.LastApplied());
    }

    [PostgresFact]
    public void A_change_is_announced_to_every_listener_when_it_commits()
    {
        using PostgresStore a = PostgresStore.Open(Database, "sensor-a");
        using PostgresStore b = PostgresStore.Open(Database, "sensor-b");
        using IFleetListener listener = b.Listen();
        Assert.Equal(FleetNews.None, listener.Wait(TimeSpan.FromMilliseconds(50)));
        a.AddBans([Ban("203.0.113.7", 60)]);
        Assert.Equal(FleetNews.Bans, listener.Wait(TimeSpan.FromSeconds(5)));
        a.LiftBans([NetPrefix.Parse("203.0.113.8")], T0, "user:alice"); // nothing changed: nothing announced
        Assert.Equal(FleetNews.None, listener.Wait(TimeSpan.FromMilliseconds(200)));

        Assert.True(a.Allow(NetPrefix.Parse("198.51.100.0/24"), "monitoring", "cli:root", T0));
        Assert.Equal(FleetNews.Allowlist, listener.Wait(TimeSpan.FromSeconds(5)));
        Assert.False(a.Allow(NetPrefix.Parse("198.51.100.0/24"), "the monitoring probes", "cli:root", T0.AddHours(1)));
        Assert.True(a.Allow(NetPrefix.Parse("2001:db8::/48"), "lab", "cli:root", T0.AddMinutes(1)));
        Assert.Equal(["198.51.100.0/24 the monitoring probes cli:root 09:00", "2001:db8::/48 lab cli:root 09:01"],
            b.FleetAllowlist().Select(e => $"{e.Network} {e.Comment} {e.AddedBy} {e.Added:HH:mm}"));
        Assert.True(b.Disallow(NetPrefix.Parse("2001:db8::/48")));
        Assert.False(b.Disallow(NetPrefix.Parse("2001:db8::/48")));
        Assert.Single(a.FleetAllowlist());
    }

    [PostgresFact]
    public void Sensors_that_start_together_migrate_the_schema_once()
    {
        PostgresStore[] stores = [.. Enumerable.Range(0, 6).AsParallel().WithDegreeOfParallelism(6).Select(i => PostgresStore.Open(Database, $"sensor-{i}"))];
        try
        {
            Assert.All(stores, s => Assert.Equal(Migrations.Steps.Length, s.SchemaVersion));
            stores[0].AddBans([Ban("203.0.113.7", 60)]);
            Assert.Single(stores[5].ActiveBans(T0));
        }
        finally
        {
            foreach (PostgresStore store in stores)
            {
                store.Dispose();
            }
        }
    }

    [PostgresFact]
    public void A_schema_newer_than_this_version_is_refused_as_another_sensors_upgrade()
    {
        PostgresStore.Open(Database, "sensor-a").Dispose();
        PostgresServer.Execute(Database, "UPDATE schema_version SET version = 99");
        var e = Assert.Throws<StoreException>(() => PostgresStore.Open(Database, "sensor-a"));
        Assert.Contains("schema version 99 is newer than this PortSentinel knows", e.Message);
        Assert.Contains("upgrade this one", e.Message);
    }

    [PostgresFact]
    public void A_wrong_password_is_named_with_the_keys_to_fix_and_never_shown()
    {
        string file = Path.Combine(Path.GetTempPath(), $"ps-pw-{Guid.NewGuid():N}");
        File.WriteAllText(file, "not-the-password-123\n");
        try
        {
            var e = Assert.Throws<StoreException>(() => PostgresStore.Open(new StoreOptions { ConnectionString = Database.ConnectionString, PasswordFile = file }, "sensor-a"));
            Assert.Contains("password authentication failed", e.Message);
            Assert.Contains("Store:PasswordFile or PGPASSWORD", e.Message);
            Assert.StartsWith($"postgresql://{PostgresServer.Role}@127.0.0.1:", e.Message);
            Assert.DoesNotContain("not-the-password", e.Message);
        }
        finally
        {
            File.Delete(file);
        }
        using PostgresStore store = PostgresStore.Open(Database, "sensor-a");
        Assert.DoesNotContain(File.ReadAllText(Database.PasswordFile).Trim(), store.Location);
    }

    [PostgresFact]
    public void A_host_whose_clock_is_off_from_the_servers_is_refused_with_how_far_and_the_fix()
    {
        StoreException ahead = Assert.Throws<StoreException>(() => PostgresStore.Open(Database, "sensor-a", new OffsetClock(TimeSpan.FromSeconds(30))));
        Assert.Matches(@"this host's clock is 3\d\.\d s ahead of the database server's, more than Store:MaxClockSkewSeconds \(5 s\).*Synchronise the clocks", ahead.Message);
        StoreException behind = Assert.Throws<StoreException>(() => PostgresStore.Open(new StoreOptions { ConnectionString = Database.ConnectionString, PasswordFile = Database.PasswordFile, MaxClockSkewSeconds = 60 }, "sensor-a", new OffsetClock(TimeSpan.FromMinutes(-2))));
        Assert.Contains("s behind the database server's, more than Store:MaxClockSkewSeconds (60 s)", behind.Message, StringComparison.Ordinal);

        using PostgresStore near = PostgresStore.Open(Database, "sensor-a", new OffsetClock(TimeSpan.FromSeconds(2)));
        Assert.Equal(Migrations.Steps.Length, near.SchemaVersion);
    }

    /// <summary>The system's clock, set off by <paramref name="offset"/>.</summary>
    private sealed class OffsetClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }

    [PostgresFact]
    public void A_database_that_goes_away_after_opening_fails_each_call_as_a_store_error_naming_it()
    {
        using PostgresStore store = PostgresStore.Open(Database, "sensor-a");
        PostgresServer.SetReachable(Database, reachable: false);
        try
        {
            // Each kind of call: a read, a statement, a batch, a scalar; never Npgsql's own exception.
            Action[] calls =
            [
                () => store.ActiveBans(T0), () => store.AddBans([Ban("203.0.113.7", 60)]),
                () => store.EndAlerts([(null, Scan("203.0.113.8", final: true))], T0), () => store.BanCount(),
            ];
            foreach (Action call in calls)
            {
                StoreException e = Assert.Throws<StoreException>(call);
                Assert.StartsWith(store.Location + ": ", e.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            PostgresServer.SetReachable(Database, reachable: true);
        }
        Assert.Empty(store.ActiveBans(T0)); // the pool reconnects once the server answers again
    }

    [PostgresFact]
    public void A_server_that_does_not_answer_is_named_with_what_to_check()
    {
        var options = new StoreOptions { ConnectionString = "Host=127.0.0.1;Port=1;Database=portsentinel;Username=sensor;Timeout=3", PasswordFile = Database.PasswordFile };
        var e = Assert.Throws<StoreException>(() => PostgresStore.Open(options, "sensor-a"));
        Assert.StartsWith("postgresql://sensor@127.0.0.1:1/portsentinel: ", e.Message);
        Assert.Contains("Is the server running and reachable?", e.Message);
    }

    [Fact]
    public void A_connection_string_with_a_password_or_no_host_is_refused_with_the_fix()
    {
        Assert.Contains("holds a password", Assert.Single(new StoreOptions { ConnectionString = "Host=db;Database=p;Username=u;Password=secret" }.Validate()));
        Assert.Contains("names no Host", Assert.Single(new StoreOptions { ConnectionString = "Database=p;Username=u" }.Validate()));
        Assert.Contains("not a PostgreSQL connection string", Assert.Single(new StoreOptions { ConnectionString = "Hots=db" }.Validate()));
        Assert.Contains("ConnectionString is empty", Assert.Single(new StoreOptions { PasswordFile = "/run/secrets/pg" }.Validate()));
        Assert.Contains("does not exist", Assert.Single(new StoreOptions { ConnectionString = "Host=db;Database=p;Username=u", PasswordFile = "/nonexistent/pg" }.Validate()));
        Assert.Empty(new StoreOptions().Validate());
    }

    private NpgsqlDataSource RawSource() =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Password = File.ReadAllText(Database.PasswordFile).Trim() }.ConnectionString);

    public void Dispose()
    {
        if (_database.IsValueCreated)
        {
            PostgresServer.Drop(_database.Value);
        }
    }
}
