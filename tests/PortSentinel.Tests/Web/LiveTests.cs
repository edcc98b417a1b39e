using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using PortSentinel.Capture;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Record;

namespace PortSentinel.Tests.Web;

/// <summary>The live stream (Server-Sent Events): what reaches an open page, how fast, and how a flood is summed up.</summary>
public sealed class LiveTests
{
    /// <summary>Reads the stream's events (name, JSON data) as they come.</summary>
    private sealed class EventStream : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private EventStream(HttpResponseMessage response, StreamReader reader)
        {
            _response = response;
            _reader = reader;
        }

        public static async Task<EventStream> Open(DashboardHost.Client client)
        {
            HttpResponseMessage response = await client.Http.GetAsync("/api/v1/live", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            var stream = new EventStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
            Assert.Equal("hello", (await stream.Next(TimeSpan.FromSeconds(5))).Name);
            return stream;
        }

        public async Task<(string Name, JsonElement Data)> Next(TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            string name = "message";
            while (true)
            {
                string? line = await _reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("the stream ended");
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    return (name, JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone());
                }
            }
        }

        /// <summary>The next event called <paramref name="name"/>, skipping others (traffic samples).</summary>
        public async Task<JsonElement> Next(string name, TimeSpan within)
        {
            DateTime end = DateTime.UtcNow + within;
            while (true)
            {
                var (n, data) = await Next(end - DateTime.UtcNow);
                if (n == name)
                {
                    return data;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            await Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_ban_made_elsewhere_reaches_an_open_page_within_a_second()
    {
        await using DashboardHost host = DashboardHost.Start();
        using var viewer = await host.LogIn("viewer");
        await using var stream = await EventStream.Open(viewer);
        using var admin = await host.LogIn("admin");
        await admin.Post("/api/v1/bans", new { address = "203.0.113.77" }).Expect(HttpStatusCode.Created);
        JsonElement ban = await stream.Next("ban", TimeSpan.FromSeconds(1));
        Assert.Equal("203.0.113.77", ban.GetProperty("network").GetString());
        Assert.Equal("user:admin", ban.GetProperty("by").GetString());
        await admin.Delete("/api/v1/bans/203.0.113.77").Expect(HttpStatusCode.NoContent);
        Assert.Equal("203.0.113.77", (await stream.Next("unban", TimeSpan.FromSeconds(1))).GetProperty("network").GetString());
    }

    [Fact]
    public async Task A_trap_contact_becomes_a_live_alert_and_traffic_samples_arrive_every_second()
    {
        int port = FreePort();
        await using DashboardHost host = DashboardHost.Start(trap: new TrapOptions { TcpPorts = [port] });
        using var viewer = await host.LogIn("viewer");
        await using var stream = await EventStream.Open(viewer);
        using (var contact = new TcpClient())
        {
            await contact.ConnectAsync(IPAddress.Loopback, port);
        }
        JsonElement alert = await stream.Next("alert", TimeSpan.FromSeconds(2));
        Assert.Equal("127.0.0.1", alert.GetProperty("source").GetString());
        Assert.Equal(["tcp-connect", "tripwire"], alert.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("allowlisted", alert.GetProperty("action").GetString());
        Assert.True(alert.GetProperty("id").GetInt64() > 0);
        JsonElement traffic = await stream.Next("traffic", TimeSpan.FromSeconds(2));
        Assert.True(traffic.TryGetProperty("tcp", out _));
    }

    [Fact]
    public async Task A_reputation_comes_before_its_alert_when_known_and_on_its_own_when_looked_up_later()
    {
        await using DashboardHost host = DashboardHost.Start();
        using var viewer = await host.LogIn("viewer");
        await using var stream = await EventStream.Open(viewer);
        var known = new Reputation("45.155.205.9", 95, "NL", "Example Hosting", "example.net", 285, null, DateTimeOffset.UtcNow);
        host.Sensor.Feed.Publish(new AlertEvent(DateTimeOffset.UtcNow, Alert(9) with { Source = known.Address }, Ended: false, known));
        var (name, data) = await NextNotTraffic(stream);
        Assert.Equal(("reputation", "45.155.205.9", 95), (name, data.GetProperty("address").GetString(), data.GetProperty("score").GetInt32()));
        (name, data) = await NextNotTraffic(stream);
        Assert.Equal(("alert", "45.155.205.9"), (name, data.GetProperty("source").GetString()));

        host.Sensor.Feed.Publish(new ReputationEvent(DateTimeOffset.UtcNow, known with { Address = "45.155.205.10", Score = 0, CountryCode = null }));
        JsonElement later = await stream.Next("reputation", TimeSpan.FromSeconds(5));
        Assert.Equal(("45.155.205.10", 0, JsonValueKind.Null), (later.GetProperty("address").GetString(), later.GetProperty("score").GetInt32(), later.GetProperty("countryCode").ValueKind));
    }

    private static async Task<(string Name, JsonElement Data)> NextNotTraffic(EventStream stream)
    {
        while (true)
        {
            // Bounded, not timed: a loaded machine (CI's two cores) delayed an event past one second.
            var (name, data) = await stream.Next(TimeSpan.FromSeconds(5));
            if (name != "traffic")
            {
                return (name, data);
            }
        }
    }

    [Fact]
    public async Task A_flood_of_detections_reaches_the_page_summed_up_and_nothing_is_lost()
    {
        await using DashboardHost host = DashboardHost.Start();
        using var viewer = await host.LogIn("viewer");
        await using var stream = await EventStream.Open(viewer);
        const int Flood = 5000;
        for (int i = 0; i < Flood; i++)
        {
            host.Sensor.Feed.Publish(new AlertEvent(DateTimeOffset.UtcNow, Alert(i), Ended: false));
        }
        int seen = 0;
        int messages = 0;
        while (seen < Flood)
        {
            var (name, data) = await stream.Next(TimeSpan.FromSeconds(5));
            Assert.NotEqual("lost", name);
            if (name == "alerts")
            {
                seen += data.GetProperty("count").GetInt32();
                Assert.True(data.GetProperty("latest").GetArrayLength() <= 20);
                messages++;
            }
            else if (name == "alert")
            {
                seen++;
                messages++;
            }
        }
        Assert.Equal(Flood, seen);
        Assert.True(messages < 10, $"{messages} messages for {Flood} alerts"); // one summary a quarter-second, not 5000 messages
    }

    [Fact]
    public async Task A_page_too_slow_for_the_flood_is_told_how_much_it_lost()
    {
        await using DashboardHost host = DashboardHost.Start(o => o.LiveQueue = 100);
        using var viewer = await host.LogIn("viewer");
        await using var stream = await EventStream.Open(viewer);
        for (int i = 0; i < 1000; i++)
        {
            host.Sensor.Feed.Publish(new AlertEvent(DateTimeOffset.UtcNow, Alert(i), Ended: false));
        }
        JsonElement lost = await stream.Next("lost", TimeSpan.FromSeconds(3));
        Assert.Equal(900, lost.GetProperty("events").GetInt64());
    }

    private static AlertRecord Alert(int i) =>
        new(i, $"203.0.113.{i % 250}", ["tcp-syn"], DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null, 1, ["192.0.2.2"], 10, "tcp 1-10", 0, 10, "trw", 0.99, "low", "log", "flood", new DetectionOutcomes(0, 10, 0, 0, 0));

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
