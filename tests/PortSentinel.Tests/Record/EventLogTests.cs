using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using PortSentinel.Capture;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;
using PortSentinel.Respond;

namespace PortSentinel.Tests.Record;

/// <summary>The JSON-lines event log: real sensor events written with their documented (ECS) names, and rotation by size.</summary>
public sealed class EventLogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ps-events-").FullName;
    private readonly ConcurrentQueue<string> _log = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static List<JsonElement> Lines(string path) =>
        [.. File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    [Fact]
    public async Task Detections_and_bans_of_a_real_sensor_are_written_with_their_ecs_names()
    {
        string path = Path.Combine(_directory, "events.jsonl");
        var options = new EventLogOptions { Path = path };
        Assert.Empty(options.Validate());
        using var store = SqliteStore.Open(_directory);
        using (var sensor = new Sensor(new SensorOptions(), new Decider(new Allowlist(HostFacts.Read(), []), new DecideOptions()), new DryRunFirewall(), store, _log.Enqueue))
        using (var events = new EventLog(options, sensor.Feed, _log.Enqueue))
        {
            sensor.Start();
            sensor.Detected(Scans.Vertical("203.0.113.9", ports: 30));
            Assert.True(SpinWait.SpinUntil(() => store.ActiveBans(DateTimeOffset.UtcNow).Count == 1, TimeSpan.FromSeconds(10)));
            await sensor.Unblock([NetPrefix.Parse("203.0.113.9")], "user:alice");
        }

        List<JsonElement> lines = Lines(path);
        Assert.Equal(["scan-detected", "ban-added", "ban-lifted"], lines.Select(l => l.GetProperty("event").GetProperty("action").GetString()));
        JsonElement alert = lines[0];
        Assert.Equal("alert", alert.GetProperty("event").GetProperty("kind").GetString());
        Assert.Equal("203.0.113.9", alert.GetProperty("source").GetProperty("ip").GetString());
        Assert.Equal("192.0.2.2", alert.GetProperty("destination").GetProperty("ip").GetString());
        Assert.Equal(2, alert.GetProperty("event").GetProperty("severity").GetInt32()); // medium
        Assert.Equal("block", alert.GetProperty("portsentinel").GetProperty("decision").GetString());
        Assert.True(alert.GetProperty("portsentinel").GetProperty("verified").GetBoolean());
        Assert.Equal(["tcp-syn", "vertical"], alert.GetProperty("portsentinel").GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("tcp 1-30", alert.GetProperty("portsentinel").GetProperty("port_ranges").GetString());
        Assert.True(DateTimeOffset.TryParse(alert.GetProperty("@timestamp").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.Equal("PortSentinel", alert.GetProperty("observer").GetProperty("product").GetString());

        JsonElement added = lines[1];
        Assert.Equal(("event", "203.0.113.9"), (added.GetProperty("event").GetProperty("kind").GetString(), added.GetProperty("source").GetProperty("ip").GetString()));
        Assert.Equal(JsonValueKind.String, added.GetProperty("portsentinel").GetProperty("ban").GetProperty("expires").ValueKind);
        Assert.False(added.GetProperty("portsentinel").GetProperty("ban").GetProperty("hold").GetBoolean());
        Assert.Equal("user:alice", lines[2].GetProperty("portsentinel").GetProperty("ban").GetProperty("by").GetString());
    }

    [Fact]
    public void The_file_is_rotated_by_size_keeping_the_newest_and_no_line_is_cut()
    {
        string path = Path.Combine(_directory, "events.jsonl");
        var feed = new SensorFeed();
        var options = new EventLogOptions { Path = path, MaxBytes = 4096, Keep = 2 };
        var now = DateTimeOffset.UtcNow;
        using (var events = new EventLog(options, feed, _log.Enqueue))
        {
            for (int i = 0; i < 200; i++)
            {
                feed.Publish(new BanEvent(now, new BanRecord(NetPrefix.Parse($"198.51.100.{i % 250}"), $"test {i}", now, now.AddHours(1), 1), Lifted: false));
            }
        }
        Assert.True(File.Exists(path + ".1") && File.Exists(path + ".2"));
        Assert.False(File.Exists(path + ".3"));
        foreach (string file in new[] { path, path + ".1", path + ".2" })
        {
            Assert.InRange(new FileInfo(file).Length, 1, 4096);
            Assert.All(Lines(file), l => Assert.Equal("ban-added", l.GetProperty("event").GetProperty("action").GetString()));
        }
        // The newest events are in the current file, the last one last.
        Assert.Equal("test 199", Lines(path)[^1].GetProperty("event").GetProperty("reason").GetString());
    }
}
