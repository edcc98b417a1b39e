using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PortSentinel.Web.Accounts;
using PortSentinel.Web.Live;

namespace PortSentinel.Web.Api;

/// <summary>The overview's figures, health (a bare liveness answer for anyone, details for accounts) and Prometheus metrics.</summary>
public static class StatsApi
{
    /// <summary>One interface: <c>capturing</c>, <c>waiting</c> or <c>gone</c>, why when not capturing, and its counters since start.</summary>
    public sealed record Capture(string Device, string State, string? Problem, long Received, long Dropped, long InterfaceDropped, long Malformed);

    public sealed record Health(string Status, string Firewall, DateTimeOffset Started, double UptimeSeconds, IReadOnlyList<Capture> Captures,
        double CpuPercent, long MemoryBytes, long DatabaseBytes, long FirewallErrors, long QueueOverflow, int LivePages, Intel.ReputationStatus? Reputation, IReadOnlyList<Notify.ChannelStatus> Notify);

    public sealed record MinuteCount(DateTimeOffset Minute, long Alerts);

    public sealed record Source(string Address, long Alerts, long Probes, DateTimeOffset Last);

    public sealed record Stats(Health Health, IReadOnlyList<TrafficSample> Traffic, IReadOnlyList<MinuteCount> AlertsPerMinute, IReadOnlyList<Source> TopSources,
        long ActiveBans, long BansAdded, IReadOnlyDictionary<string, long> DetectionsByKind);

    public static void MapStats(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/stats", Overview).RequireAuthorization(Authentication.Viewer);
        app.MapGet("/api/v1/health", Liveness);
        app.MapGet("/metrics", Metrics).RequireAuthorization(Authentication.Viewer);
    }

    /// <summary>Anyone gets {"status":"ok"}; an account or token gets the details too.</summary>
    private static IResult Liveness(HttpContext http, DashboardContext dashboard, TrafficSampler sampler) =>
        http.User.Identity?.IsAuthenticated == true ? Results.Ok(Details(dashboard, sampler)) : Results.Ok(new { status = "ok" });

    private static Health Details(DashboardContext dashboard, TrafficSampler sampler)
    {
        SensorStatistics stats = dashboard.Sensor.Statistics();
        TrafficSample? latest = sampler.Latest();
        using Process self = Process.GetCurrentProcess();
        DateTimeOffset now = dashboard.Time.GetUtcNow();
        return new Health("ok", dashboard.Sensor.FirewallName, stats.Started, (now - stats.Started).TotalSeconds,
            [.. stats.Interfaces.Select(i => new Capture(i.Device, StateName(i.State), i.Problem, i.Received, i.Dropped, i.InterfaceDropped, i.Malformed))],
            latest?.CpuPercent ?? 0, self.WorkingSet64, dashboard.Store.SizeBytes, stats.FirewallErrors, stats.QueueOverflow, dashboard.Sensor.Feed.Subscribers,
            dashboard.Sensor.Reputation?.Status(), dashboard.Notifier?.Status() ?? []);
    }

    private static string StateName(InterfaceState state) => state.ToString().ToLowerInvariant();

    private static IResult Overview(DashboardContext dashboard, TrafficSampler sampler, OverviewFigures figures)
    {
        OverviewFigures.FromStore store = figures.Get();
        SensorStatistics stats = dashboard.Sensor.Statistics();
        return Results.Ok(new Stats(Details(dashboard, sampler), sampler.Recent(), store.AlertsPerMinute, store.TopSources, store.ActiveBans, stats.BansAdded, stats.DetectionsByKind));
    }

    /// <summary>
    /// The overview's figures from the database, worked out at most once a second however many
    /// pages ask (each page asks at most once a second): with 100,000 alerts, the top sources of a
    /// day take tens of milliseconds to count.
    /// </summary>
    public sealed class OverviewFigures(DashboardContext dashboard)
    {
        public sealed record FromStore(DateTimeOffset At, IReadOnlyList<MinuteCount> AlertsPerMinute, IReadOnlyList<Source> TopSources, long ActiveBans);

        private readonly Lock _gate = new();
        private FromStore? _last;

        public FromStore Get()
        {
            lock (_gate)
            {
                DateTimeOffset now = dashboard.Time.GetUtcNow();
                if (_last is null || now - _last.At >= TimeSpan.FromSeconds(1) || now < _last.At)
                {
                    _last = new FromStore(now,
                        [.. dashboard.Store.AlertsPerMinute(now.AddHours(-1)).Select(m => new MinuteCount(m.Minute, m.Alerts))],
                        [.. dashboard.Store.TopSources(now.AddDays(-1), 10).Select(s => new Source(s.Source, s.Alerts, s.Probes, s.Last))],
                        dashboard.Store.ActiveBans(now).Count);
                }
                return _last;
            }
        }
    }

    /// <summary>Prometheus text format 0.0.4: counters end in _total, the latency histogram in seconds.</summary>
    private static IResult Metrics(DashboardContext dashboard)
    {
        SensorStatistics stats = dashboard.Sensor.Statistics();
        var text = new StringBuilder();
        void Family(string name, string type, string help)
        {
            text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n");
        }
        void Sample(string name, string labels, double value)
        {
            text.Append(name);
            if (labels.Length > 0)
            {
                text.Append('{').Append(labels).Append('}');
            }
            text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        static string Label(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

        Family("portsentinel_interface_state", "gauge", "Whether the sensor captures on an interface (capturing), waits for it (waiting: down or not there yet) or saw it go (gone): 1 for its state.");
        foreach (InterfaceStatistics i in stats.Interfaces)
        {
            foreach (InterfaceState state in Enum.GetValues<InterfaceState>())
            {
                Sample("portsentinel_interface_state", $"interface=\"{Label(i.Device)}\",state=\"{StateName(state)}\"", i.State == state ? 1 : 0);
            }
        }
        Family("portsentinel_packets_total", "counter", "Packets decoded, by interface and protocol.");
        foreach (InterfaceStatistics i in stats.Interfaces)
        {
            foreach (var (protocol, count) in new[] { ("tcp", i.Tcp), ("udp", i.Udp), ("icmp", i.Icmp), ("other", i.Other) })
            {
                Sample("portsentinel_packets_total", $"interface=\"{Label(i.Device)}\",protocol=\"{protocol}\"", count);
            }
        }
        // Each family's samples together, as the text format requires.
        foreach (var (name, help, value) in new (string, string, Func<InterfaceStatistics, (string, long)[]>)[]
        {
            ("portsentinel_packets_received_total", "Packets libpcap received, by interface.", i => [("", i.Received)]),
            ("portsentinel_packets_dropped_total", "Packets lost before the sensor saw them, by interface and where (kernel buffer or interface).", i => [(",where=\"kernel\"", i.Dropped), (",where=\"interface\"", i.InterfaceDropped)]),
            ("portsentinel_packets_malformed_total", "Packets that could not be decoded, by interface.", i => [("", i.Malformed)]),
        })
        {
            Family(name, "counter", help);
            foreach (InterfaceStatistics i in stats.Interfaces)
            {
                foreach (var (labels, count) in value(i))
                {
                    Sample(name, $"interface=\"{Label(i.Device)}\"" + labels, count);
                }
            }
        }
        Family("portsentinel_detections_total", "counter", "Scanners recognised, by kind (a detection counts once for each of its kinds).");
        foreach (var (kind, count) in stats.DetectionsByKind)
        {
            Sample("portsentinel_detections_total", $"kind=\"{kind}\"", count);
        }
        Family("portsentinel_bans_active", "gauge", "Bans in force.");
        Sample("portsentinel_bans_active", "", dashboard.Store.ActiveBans(dashboard.Time.GetUtcNow()).Count);
        Family("portsentinel_bans_added_total", "counter", "Bans put in place since start, by the sensor and by hand.");
        Sample("portsentinel_bans_added_total", "", stats.BansAdded);
        Family("portsentinel_firewall_errors_total", "counter", "Firewall changes the backend refused.");
        Sample("portsentinel_firewall_errors_total", $"backend=\"{Label(dashboard.Sensor.FirewallName)}\"", stats.FirewallErrors);
        Family("portsentinel_detections_overflow_total", "counter", "Detections that found the sensor's queue full.");
        Sample("portsentinel_detections_overflow_total", "", stats.QueueOverflow);
        Family("portsentinel_reaction_seconds", "histogram", "The sensor's own time from the packet that decided a detection to the firewall change.");
        foreach (var (upper, count) in stats.Latency)
        {
            Sample("portsentinel_reaction_seconds_bucket", $"le=\"{(upper / 1000).ToString("R", CultureInfo.InvariantCulture)}\"", count);
        }
        Sample("portsentinel_reaction_seconds_bucket", "le=\"+Inf\"", stats.LatencyCount);
        Sample("portsentinel_reaction_seconds_sum", "", stats.LatencySumMs / 1000);
        Sample("portsentinel_reaction_seconds_count", "", stats.LatencyCount);
        Family("portsentinel_uptime_seconds", "gauge", "Seconds since the sensor started.");
        Sample("portsentinel_uptime_seconds", "", Math.Round((dashboard.Time.GetUtcNow() - stats.Started).TotalSeconds, 3));
        return Results.Text(text.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }
}
