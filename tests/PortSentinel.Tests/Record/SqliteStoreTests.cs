using Microsoft.Data.Sqlite;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;

namespace PortSentinel.Tests.Record;

/// <summary>The SQLite store on a real file in a directory of the test's own.</summary>
public sealed class SqliteStoreTests : StoreContract, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"ps-store-{Guid.NewGuid():N}");

    protected override IStore Open() => SqliteStore.Open(_directory);

    protected override int SchemaVersion => Migrations.Steps.Length;

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
    public void Ten_thousand_ended_scans_go_in_as_one_batch()
    {
        using SqliteStore store = SqliteStore.Open(_directory);
        Detection detection = Scan("203.0.113.7", final: true);
        store.EndAlerts([.. Enumerable.Range(0, 10_000).Select(i => ((long?)null, detection with { Probes = i }))], T0.AddMinutes(1));
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
        Assert.Equal(T0.AddMinutes(1).ToUnixTimeMilliseconds(), row.GetInt64(4));
        Assert.Equal("192.0.2.2,192.0.2.3", row.GetString(5));
        Assert.Equal(198, row.GetInt32(6));
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
