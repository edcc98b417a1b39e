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
        Assert.Equal(1, store.SchemaVersion);
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
            Assert.Equal(1, reopened.SchemaVersion);
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

    [Fact]
    public void Ten_thousand_detections_go_in_as_one_batch_with_their_decisions()
    {
        using SqliteStore store = SqliteStore.Open(_directory);
        var detection = new Detection
        {
            Source = NetAddress.Parse("203.0.113.7"),
            Kinds = ScanKinds.TcpSyn | ScanKinds.Vertical,
            Targets = [NetAddress.Parse("192.0.2.2")],
            TargetCount = 1,
            Ports = 200,
            PortRanges = "tcp 1-200",
            Protocols = 0,
            Probes = 200,
            First = _t0,
            Last = _t0.AddSeconds(1),
            Trigger = "trw",
            Confidence = 0.99,
            Outcomes = new DetectionOutcomes(2, 198, 0, 0, 2),
            Final = true,
        };
        var decision = new Decision(detection, Severity.Medium, DecisionAction.Block, TimeSpan.FromHours(1), 1, "blocked");
        store.AddDetections([.. Enumerable.Range(0, 10_000).Select(i => (detection with { Probes = i }, (Decision?)(i % 2 == 0 ? decision : null)))]);
        Assert.Equal(10_000, store.DetectionCount());

        using var raw = new SqliteConnection($"Data Source={store.Path}");
        raw.Open();
        using SqliteCommand query = raw.CreateCommand();
        query.CommandText = "SELECT kinds, typeof(last_seen), severity, action FROM detections WHERE probes = 4";
        using SqliteDataReader row = query.ExecuteReader();
        Assert.True(row.Read());
        Assert.Equal("tcp-syn,vertical", row.GetString(0));
        Assert.Equal("integer", row.GetString(1));
        Assert.Equal("medium", row.GetString(2));
        Assert.Equal("block", row.GetString(3));
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
