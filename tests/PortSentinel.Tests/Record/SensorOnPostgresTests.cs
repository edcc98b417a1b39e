using System.Collections.Concurrent;
using System.Text.Json;
using PortSentinel.Record;
using PortSentinel.Report;
using PortSentinel.Respond;

namespace PortSentinel.Tests.Record;

/// <summary>The sensor, its CLI and doctor on a real PostgreSQL database that several sensors share.</summary>
public sealed class SensorOnPostgresTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("ps-pg-host-").FullName;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly Lazy<StoreOptions> _database = new(() => PostgresServer.NewDatabase());

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll");

    public void Dispose()
    {
        if (_database.IsValueCreated)
        {
            PostgresServer.Drop(_database.Value);
        }
        Directory.Delete(_data, recursive: true);
    }

    private SensorConfiguration Sensor(string name) => new()
    {
        DataDirectory = Path.Combine(_data, name),
        Sensor = new SensorOptions { Firewall = new FirewallOptions { Backend = "dry-run" } },
        Reports = new ReportsOptions { DailyAt = "" },
        Store = _database.Value,
        Name = name,
    };

    [PostgresFact]
    public void A_ban_one_sensor_made_is_recorded_under_its_name_and_restored_by_another_at_its_start()
    {
        using (SensorHost a = SensorHost.Create(Sensor("web-01"), _log.Enqueue))
        {
            a.Start();
            Assert.Contains(_log, l => l.StartsWith($"RUNNING with dry-run, data in postgresql://{PostgresServer.Role}@127.0.0.1:", StringComparison.Ordinal) && l.Contains(", sensor web-01,", StringComparison.Ordinal));
            a.Sensor.Detected(Scans.Vertical("203.0.113.9", ports: 30));
        }
        Assert.Contains(_log, l => l.StartsWith("BANNED 203.0.113.9 ", StringComparison.Ordinal));
        Assert.DoesNotContain(_log, l => l.Contains(File.ReadAllText(_database.Value.PasswordFile).Trim(), StringComparison.Ordinal));

        _log.Clear();
        using SensorHost b = SensorHost.Create(Sensor("web-02"), _log.Enqueue);
        b.Start();
        Assert.Contains("RESTORED 1 bans into dry-run", _log);
        Assert.Equal("203.0.113.9", Assert.Single(b.Store.Alerts(new AlertQuery()).Page).Source);
        Assert.Equal("web-01", PostgresServer.Execute(_database.Value, "SELECT string_agg(DISTINCT sensor, ',') FROM bans"));
        Assert.Equal("web-01,web-02", PostgresServer.Execute(_database.Value, "SELECT string_agg(name, ',' ORDER BY name) FROM sensors"));
    }

    [PostgresFact]
    public void The_cli_lists_and_adds_bans_of_the_shared_store_and_doctor_checks_it()
    {
        StoreOptions db = _database.Value;
        string[] store = ["--store", db.ConnectionString, "--set", $"Store:PasswordFile={db.PasswordFile}", "--data-dir", _data];
        var (exit, output) = ProcessRunner.Run("dotnet", [Cli, "bans", "add", "198.51.100.7", "--for", "1h", "--firewall", "dry-run", .. store], TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, output);

        (exit, output) = ProcessRunner.Run("dotnet", [Cli, "bans", "list", "--format", "json", .. store], TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, output);
        Assert.Equal("198.51.100.7", Assert.Single(JsonDocument.Parse(output).RootElement.EnumerateArray()).GetProperty("address").GetString());
        Assert.False(File.Exists(Path.Combine(_data, "portsentinel.db")), "the CLI opened SQLite beside the shared store");

        (exit, output) = ProcessRunner.Run("dotnet", [Cli, "doctor", "--firewall", "dry-run", "--name", "web-03", .. store], TimeSpan.FromSeconds(60));
        Assert.Matches(@$"ok    store: postgresql://{PostgresServer.Role}@127\.0\.0\.1:\d+/\w+, schema \d+, 1 bans in force, this sensor web-03", output);

        (exit, output) = ProcessRunner.Run("dotnet", [Cli, "doctor", "--firewall", "dry-run", "--store", db.ConnectionString + ";Password=hunter2", "--data-dir", _data], TimeSpan.FromSeconds(60));
        Assert.Contains("FAIL  configuration: Store:ConnectionString holds a password", output);
        Assert.DoesNotContain("hunter2", output);
    }

    [PostgresFact]
    public void The_cli_keeps_the_fleet_wide_allowlist_audited_and_refuses_it_on_one_sensors_store()
    {
        StoreOptions db = _database.Value;
        string[] store = ["--store", db.ConnectionString, "--set", $"Store:PasswordFile={db.PasswordFile}", "--data-dir", _data];
        (int Exit, string Output) Cli(params string[] arguments) => ProcessRunner.Run("dotnet", [SensorOnPostgresTests.Cli, "allowlist", .. arguments], TimeSpan.FromSeconds(60));

        var (exit, output) = Cli(["add", "198.51.100.0/24", "--comment", "monitoring", .. store]);
        Assert.True(exit == 0, output);
        Assert.Contains("Added 198.51.100.0/24 to the fleet-wide allowlist", output, StringComparison.Ordinal);
        (exit, output) = Cli(["list", .. store]);
        Assert.Matches(@"198\.51\.100\.0/24\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+cli:\S+\s+monitoring", output);
        (exit, output) = Cli(["add", "10.0.0.0/7", .. store]);
        Assert.Equal((1, true), (exit, output.Contains("10.0.0.0/7 is wider than /8", StringComparison.Ordinal)));
        (exit, output) = Cli(["remove", "198.51.100.0/24", .. store]);
        Assert.True(exit == 0, output);
        (exit, output) = Cli(["remove", "198.51.100.0/24", .. store]);
        Assert.Equal((1, true), (exit, output.Contains("198.51.100.0/24 is not on the fleet-wide allowlist", StringComparison.Ordinal)));
        Assert.Equal("allowlist.add,allowlist.remove", PostgresServer.Execute(db, "SELECT string_agg(action, ',' ORDER BY id) FROM audit"));

        (exit, output) = Cli(["list", "--data-dir", _data]);
        Assert.Equal(1, exit);
        Assert.Contains("is one sensor's store; a fleet-wide allowlist needs a fleet's (--store or Store:ConnectionString)", output, StringComparison.Ordinal);
    }
}
