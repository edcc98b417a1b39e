using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Data.Sqlite;
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
