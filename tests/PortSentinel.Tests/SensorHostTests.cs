using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using PortSentinel.Decode;
using PortSentinel.Record;
using PortSentinel.Report;
using PortSentinel.Respond;

namespace PortSentinel.Tests;

/// <summary>The composition root of <c>run</c>: every part made in one place, and disposed so that each outlives the parts that use it.</summary>
public sealed class SensorHostTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("ps-host-").FullName;
    private readonly ConcurrentQueue<string> _log = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public void What_the_sensor_decides_while_stopping_still_reaches_its_watchers_before_they_close()
    {
        string events = Path.Combine(_data, "events.jsonl");
        var configuration = new SensorConfiguration
        {
            DataDirectory = _data,
            Sensor = new SensorOptions { Firewall = new FirewallOptions { Backend = "dry-run" } },
            EventLog = new EventLogOptions { Path = events },
            Reports = new ReportsOptions { DailyAt = "" },
        };

        using (SensorHost host = SensorHost.Create(configuration, _log.Enqueue))
        {
            host.Start();
            Assert.Contains(_log, l => l.StartsWith($"RUNNING with dry-run, data in {host.Store.Location}", StringComparison.Ordinal));
            // Queued now, decided while the host stops: the sensor drains its queue before the event log closes.
            host.Sensor.Detected(Scans.Vertical("203.0.113.9", ports: 30));
        }

        Assert.Contains(_log, l => l.StartsWith("BANNED 203.0.113.9 ", StringComparison.Ordinal));
        Assert.Equal(["scan-detected", "ban-added"], File.ReadAllLines(events).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event").GetProperty("action").GetString()));
    }

    [Fact]
    public async Task A_ban_of_a_network_allowlisted_since_is_kept_out_of_the_firewall_at_the_next_start()
    {
        SensorConfiguration configuration = new()
        {
            DataDirectory = _data,
            Sensor = new SensorOptions { Firewall = new FirewallOptions { Backend = "dry-run" } },
            Reports = new ReportsOptions { DailyAt = "" },
        };
        using (SensorHost host = SensorHost.Create(configuration, _log.Enqueue))
        {
            host.Start();
            Assert.NotNull((await host.Sensor.Block(NetPrefix.Parse("198.51.100.7"), TimeSpan.FromHours(1), "by hand", "user:alice")).Ban);
            Assert.NotNull((await host.Sensor.Block(NetPrefix.Parse("203.0.113.7"), TimeSpan.FromHours(1), "by hand", "user:alice")).Ban);
        }

        _log.Clear();
        using SensorHost again = SensorHost.Create(configuration with { Allowed = [NetPrefix.Parse("198.51.100.0/24")] }, _log.Enqueue);
        again.Start();
        Assert.Contains("RESTORED 1 bans into dry-run, 1 kept out (allowlisted or too wide here)", _log);
        Assert.Equal([NetPrefix.Parse("203.0.113.7")], again.Firewall.List().Select(e => e.Network));
    }

    [Fact]
    public void A_store_that_cannot_be_opened_stops_the_host_naming_the_directory()
    {
        var configuration = new SensorConfiguration
        {
            DataDirectory = Path.Combine("/proc", "portsentinel-no-such-dir"),
            Sensor = new SensorOptions { Firewall = new FirewallOptions { Backend = "dry-run" } },
        };

        StoreException e = Assert.Throws<StoreException>(() => SensorHost.Create(configuration, _log.Enqueue));
        Assert.Contains("/proc/portsentinel-no-such-dir", e.Message, StringComparison.Ordinal);
    }
}
