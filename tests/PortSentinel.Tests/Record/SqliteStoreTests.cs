using Microsoft.Data.Sqlite;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;

namespace PortSentinel.Tests.Record;

/// <summary>The SQLite store on a real file in a directory of the test's own.</summary>
public sealed class SqliteStoreTests : IDisposable
{
    private static readonly DateTimeOffset _t0 = new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"ps-store-{Guid.NewGuid():N}");

    private static BanRecord Ban(string network, int minutes, int offence = 1) =>
        new(NetPrefix.Parse(network), "tcp-syn,vertical", _t0, minutes < 0 ? null : _t0.AddMinutes(minutes), offence);

    [Fact]
    public void A_new_store_is_created_in_wal_mode_with_the_current_schema()
    {
        using SqliteStore store = SqliteStore.Open(_directory);
        Assert.True(File.Exists(Path.Combine(_directory, SqliteStore.FileName)));
        Assert.Equal(Migrations.Steps.Length, store.SchemaVersion);
        using var raw = new SqliteConnection($"Data Source={store.Path}");
        raw.Open();
        using SqliteCommand mode = raw.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", mode.ExecuteScalar());
    }

    [Fact]
    public void Unexpired_bans_survive_a_restart_and_expired_or_lifted_ones_do_not()
    {
        using (SqliteStore store = SqliteStore.Open(_directory))
        {
            store.AddBans([Ban("203.0.113.7", 60), Ban("203.0.113.8", 5), Ban("198.51.100.0/24", -1), Ban("2001:db8::66", 120), Ban("203.0.113.9", 60)]);
            Assert.Equal(1, store.LiftBans([NetPrefix.Parse("203.0.113.9"), NetPrefix.Parse("192.0.2.200")], _t0.AddMinutes(1), "admin"));
        }
        using (SqliteStore reopened = SqliteStore.Open(_directory))
        {
            Assert.Equal(Migrations.Steps.Length, reopened.SchemaVersion);
            var active = reopened.ActiveBans(_t0.AddMinutes(10));
            Assert.Equal(["203.0.113.7", "198.51.100.0/24", "2001:db8::66"], active.Select(b => b.Network.ToString()));
            Assert.Null(active.Single(b => !b.Network.IsHost).Expires);
            BanRecord lifted = Assert.Single(reopened.BansOf(NetPrefix.Parse("203.0.113.9")));
            Assert.Equal("admin", lifted.LiftedBy);
            Assert.Equal(_t0.AddMinutes(1), lifted.Lifted);
        }
    }

    [Fact]
    public void Previous_bans_count_every_ban_of_the_network_for_escalation()
    {
        using SqliteStore store = SqliteStore.Open(_directory);
        store.AddBans([Ban("203.0.113.7", 60, 1)]);
        store.AddBans([Ban("203.0.113.7", 120, 2), Ban("203.0.113.8", 60)]);
        Assert.Equal(2, store.PreviousBans(NetPrefix.Parse("203.0.113.7")));
        Assert.Equal(0, store.PreviousBans(NetPrefix.Parse("203.0.113.70")));
    }

    private static Detection Scan(string source, ScanKinds kinds = ScanKinds.TcpSyn | ScanKinds.Vertical, int ports = 200, bool final = false) => new()
    {
        Source = NetAddress.Parse(source),
        Kinds = kinds,
        Targets = [NetAddress.Parse("192.0.2.2"), NetAddress.Parse("192.0.2.3")],
        TargetCount = 2,
        Ports = ports,
        PortRanges = $"tcp 1-{ports}",
        Protocols = 0,
        Probes = ports,
        First = _t0,
        Last = _t0.AddSeconds(1),
        Trigger = "trw",
        Confidence = 0.99,
        Outcomes = new DetectionOutcomes(2, ports - 2, 0, 0, 0),
        Final = final,
    };

    [Fact]
    public void Ten_thousand_ended_scans_go_in_as_one_batch()
    {
        using SqliteStore store = SqliteStore.Open(_directory);
        Detection detection = Scan("203.0.113.7", final: true);
        store.EndAlerts([.. Enumerable.Range(0, 10_000).Select(i => ((long?)null, detection with { Probes = i }))], _t0.AddMinutes(1));
        Assert.Equal(10_000, store.DetectionCount());

        using var raw = new SqliteConnection($"Data Source={store.Path}");
        raw.Open();
        using SqliteCommand query = raw.CreateCommand();
        query.CommandText = "SELECT kinds, typeof(last_seen), severity, raised, ended, target_list, closed FROM detections WHERE probes = 4";
        using SqliteDataReader row = query.ExecuteReader();
        Assert.True(row.Read());
        Assert.Equal("tcp-syn,vertical", row.GetString(0));
        Assert.Equal("integer", row.GetString(1));
        Assert.True(row.IsDBNull(2)); // ended undecided
        Assert.True(row.IsDBNull(3));
        Assert.Equal(_t0.AddMinutes(1).ToUnixTimeMilliseconds(), row.GetInt64(4));
        Assert.Equal("192.0.2.2,192.0.2.3", row.GetString(5));
        Assert.Equal(198, row.GetInt32(6));
    }

    [Fact]
    public void An_alert_raised_with_its_decision_is_completed_by_its_end()
    {
        using SqliteStore store = SqliteStore.Open(_directory);
        Detection early = Scan("203.0.113.7", ports: 10);
        var decision = new Decision(early, Severity.High, DecisionAction.Block, TimeSpan.FromHours(1), 1, "blocked: high");
        long id = store.RaiseAlert(early, decision, _t0.AddSeconds(1));
        AlertRecord open = store.Alert(id)!;
        Assert.Null(open.Ended);
        Assert.Equal(10, open.Ports);
        Assert.Equal("high", open.Severity);

        store.EndAlerts([(id, Scan("203.0.113.7", ports: 300, final: true))], _t0.AddMinutes(2));
        AlertRecord done = store.Alert(id)!;
        Assert.Equal(1, store.DetectionCount());
        Assert.Equal(300, done.Ports);
        Assert.Equal("high", done.Severity); // the decision stays
        Assert.Equal("block", done.Action);
        Assert.Equal("blocked: high", done.Reason);
        Assert.Equal(_t0.AddSeconds(1), done.Raised);
        Assert.Equal(_t0.AddMinutes(2), done.Ended);
        Assert.Equal(["tcp-syn", "vertical"], done.Kinds);
        Assert.Equal(298, done.Outcomes.Closed);
        Assert.Null(store.Alert(id + 1));
        Assert.Throws<StoreException>(() => store.EndAlerts([(id + 1, early)], _t0));
    }

    [Fact]
    public void Alerts_are_found_by_time_source_kind_severity_blocked_and_text_newest_first()
    {
        using SqliteStore store = SqliteStore.Open(_directory);
        for (int i = 0; i < 30; i++)
        {
            Detection d = Scan($"203.0.113.{i % 3}", i % 2 == 0 ? ScanKinds.TcpSyn | ScanKinds.Vertical : ScanKinds.Udp | ScanKinds.Horizontal);
            Severity severity = i % 5 == 0 ? Severity.Critical : Severity.Medium;
            store.RaiseAlert(d, new Decision(d, severity, i % 4 == 0 ? DecisionAction.Block : DecisionAction.Log, null, 1, $"reason {i}"), _t0.AddMinutes(i));
        }
        var (all, total) = store.Alerts(new AlertQuery { Limit = 10 });
        Assert.Equal(30, total);
        Assert.Equal(10, all.Count);
        Assert.Equal(_t0.AddMinutes(29), all[0].Raised); // newest first
        Assert.Equal(_t0.AddMinutes(20), all[9].Raised);
        Assert.Equal(_t0.AddMinutes(19), store.Alerts(new AlertQuery { Offset = 10, Limit = 1 }).Page[0].Raised);

        Assert.Equal(15, store.Alerts(new AlertQuery { Kind = "udp" }).Total);
        Assert.Equal(0, store.Alerts(new AlertQuery { Kind = "tcp" }).Total); // names match whole
        Assert.Equal(10, store.Alerts(new AlertQuery { Source = "203.0.113.1" }).Total);
        Assert.Equal(6, store.Alerts(new AlertQuery { Severity = "critical" }).Total);
        Assert.Equal(8, store.Alerts(new AlertQuery { Blocked = true }).Total);
        Assert.Equal(22, store.Alerts(new AlertQuery { Blocked = false }).Total);
        Assert.Equal(10, store.Alerts(new AlertQuery { From = _t0.AddMinutes(10), To = _t0.AddMinutes(20) }).Total);
        Assert.Equal(1, store.Alerts(new AlertQuery { Text = "reason 17" }).Total);
        Assert.Equal(0, store.Alerts(new AlertQuery { Text = "100%" }).Total); // % is a character, not a wildcard
        Assert.Equal(4, store.Alerts(new AlertQuery { Source = "203.0.113.2", Kind = "tcp-syn", Severity = "medium" }).Total); // i = 2, 8, 14, 26

        var minutes = store.AlertsPerMinute(_t0.AddMinutes(25));
        Assert.Equal(5, minutes.Count);
        Assert.All(minutes, m => Assert.Equal(1, m.Alerts));
        var top = store.TopSources(_t0, 2);
        Assert.Equal(2, top.Count);
        Assert.Equal(10, top[0].Alerts);
    }

    [Fact]
    public void A_database_of_schema_1_is_brought_up_to_date_and_keeps_its_detections()
    {
        Directory.CreateDirectory(_directory);
        using (var raw = new SqliteConnection($"Data Source={Path.Combine(_directory, SqliteStore.FileName)};Pooling=False"))
        {
            raw.Open();
            using SqliteCommand create = raw.CreateCommand();
            create.CommandText = Migrations.Steps[0] + """
                INSERT INTO detections (source, kinds, first_seen, last_seen, targets, ports, port_ranges, probes, trigger, confidence)
                VALUES ('203.0.113.9', 'udp', 1000, 2000, 1, 20, 'udp 1-20', 20, 'threshold', 0.9);
                PRAGMA user_version = 1;
                """;
            create.ExecuteNonQuery();
        }
        using SqliteStore store = SqliteStore.Open(_directory);
        Assert.Equal(Migrations.Steps.Length, store.SchemaVersion);
        AlertRecord old = Assert.Single(store.Alerts(new AlertQuery()).Page);
        Assert.Equal("203.0.113.9", old.Source);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(2000), old.Ended);
        Assert.Null(old.Raised);
    }

    [Fact]
    public void Users_are_added_once_locked_after_failures_and_removed()
    {
        using SqliteStore store = SqliteStore.Open(_directory);
        var alice = new UserRecord("alice", "admin", "hash", "stamp", _t0, 0, null);
        Assert.True(store.AddUser(alice));
        Assert.False(store.AddUser(alice with { Name = "ALICE" })); // names are case-insensitive
        Assert.Equal("alice", store.User("Alice")!.Name);
        Assert.Equal(new LoginAttempt(true, null), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), _t0));
        Assert.Equal(new LoginAttempt(true, null), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), _t0));
        Assert.Equal(new LoginAttempt(true, _t0.AddMinutes(15)), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), _t0));
        Assert.Equal(_t0.AddMinutes(15), store.User("alice")!.LockedUntil);
        // While locked: not admitted, not counted; after the lock: admitted, and counted from 1 again.
        Assert.Equal(new LoginAttempt(false, _t0.AddMinutes(15)), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), _t0.AddMinutes(1)));
        Assert.Equal(new LoginAttempt(true, null), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), _t0.AddMinutes(15)));
        Assert.Equal(1, store.User("alice")!.Failures);
        store.LoginSucceeded("alice");
        Assert.Equal(0, store.User("alice")!.Failures);
        Assert.Equal(new LoginAttempt(true, null), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), _t0.AddMinutes(16)));
        Assert.Equal(new LoginAttempt(true, null), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), _t0.AddMinutes(16)));
        Assert.Equal(new LoginAttempt(true, _t0.AddMinutes(31)), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), _t0.AddMinutes(16)));
        Assert.True(store.SetPassword("alice", "hash2", "stamp2"));
        UserRecord changed = store.User("alice")!;
        Assert.Null(changed.LockedUntil);
        Assert.Equal("stamp2", changed.Stamp);
        Assert.Equal(new LoginAttempt(false, null), store.BeginLogin("nobody", 3, TimeSpan.FromMinutes(15), _t0));
        Assert.Equal(1, store.UserCount());
        Assert.True(store.RemoveUser("alice"));
        Assert.False(store.RemoveUser("alice"));
        Assert.Empty(store.Users());
    }

    [Fact]
    public void Tokens_are_found_by_hash_until_revoked_and_the_audit_log_pages_newest_first()
    {
        using SqliteStore store = SqliteStore.Open(_directory);
        long id = store.AddToken("backup", "viewer", "h1", "user:alice", _t0);
        Assert.Equal(_t0.AddHours(1), store.UseToken("h1", _t0.AddHours(1))!.LastUsed);
        Assert.Null(store.UseToken("h2", _t0));
        Assert.True(store.RevokeToken(id, _t0.AddHours(2)));
        Assert.False(store.RevokeToken(id, _t0.AddHours(2)));
        Assert.Null(store.UseToken("h1", _t0.AddHours(3)));
        Assert.Equal(_t0.AddHours(2), Assert.Single(store.Tokens()).Revoked);

        for (int i = 0; i < 5; i++)
        {
            store.Audit(_t0.AddMinutes(i), "user:alice", "ban.add", $"203.0.113.{i}", "for 1h", "127.0.0.1");
        }
        var (page, total) = store.AuditLog(1, 2);
        Assert.Equal(5, total);
        Assert.Equal(["203.0.113.3", "203.0.113.2"], page.Select(a => a.Target));
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_named_with_the_fix()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(Path.Combine(_directory, SqliteStore.FileName), "this is not a SQLite database, only a text file long enough to be read as one");
        var e = Assert.Throws<StoreException>(() => SqliteStore.Open(_directory));
        Assert.Contains(SqliteStore.FileName, e.Message);
        Assert.Contains("move it aside", e.Message);
    }

    [ReadOnlyFact]
    public void A_read_only_data_directory_is_named_as_such_with_the_fix_not_as_a_damaged_file()
    {
        using var directory = new ReadOnlyDirectory(withDatabase: false);
        var e = Assert.Throws<StoreException>(() => SqliteStore.Open(directory.Path));
        Assert.Contains($"the data directory {directory.Path} is not writable", e.Message);
        Assert.Contains(Environment.IsPrivilegedProcess ? "read-only file system" : "permission denied", e.Message);
        Assert.Contains("make it writable", e.Message);
        Assert.Contains("--data-dir", e.Message);
        Assert.DoesNotContain("aside", e.Message);
    }

    [ReadOnlyFact]
    public void A_database_on_a_read_only_file_system_is_named_as_such_with_the_fix()
    {
        using var directory = new ReadOnlyDirectory(withDatabase: true);
        var e = Assert.Throws<StoreException>(() => SqliteStore.Open(directory.Path));
        Assert.Contains($"{directory.Path}", e.Message);
        Assert.Contains("is not writable", e.Message);
        Assert.Contains("make it writable", e.Message);
        Assert.DoesNotContain("aside", e.Message);
    }

    [ReadOnlyFact]
    public void The_cli_says_the_data_directory_is_read_only_and_exits_1()
    {
        using var directory = new ReadOnlyDirectory(withDatabase: false);
        string cli = Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll");
        var (exit, _, stderr) = ProcessRunner.RunApart("dotnet", [cli, "bans", "list", "--data-dir", directory.Path, "--firewall", "dry-run"], TimeSpan.FromSeconds(60));
        Assert.Equal(1, exit); // ExitCodes.BadInput
        Assert.Contains($"the data directory {directory.Path} is not writable", stderr);
        Assert.DoesNotContain("aside", stderr);
    }

    [Fact]
    public void A_schema_newer_than_this_version_is_refused()
    {
        using (SqliteStore store = SqliteStore.Open(_directory))
        {
            using var raw = new SqliteConnection($"Data Source={store.Path}");
            raw.Open();
            using SqliteCommand bump = raw.CreateCommand();
            bump.CommandText = "PRAGMA user_version = 99";
            bump.ExecuteNonQuery();
        }
        var e = Assert.Throws<StoreException>(() => SqliteStore.Open(_directory));
        Assert.Contains("schema version 99 is newer", e.Message);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
