using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PortSentinel.Record;
using PortSentinel.Web.Accounts;

namespace PortSentinel.Web.Live;

/// <summary>
/// GET /api/v1/live: Server-Sent Events for the open pages, authenticated like the rest. Every
/// quarter of a second the page gets what happened: each alert and ban when there are few, one
/// summary when there are many (a flood of thousands a second must not drown the browser), and
/// the traffic sample once a second. A source's AbuseIPDB reputation comes as a "reputation" event,
/// before its alert when it was known as the alert was decided, on its own when the lookup completes
/// later. A page too slow to read loses its oldest events, counted in a "lost" event; the sensor
/// never waits for it.
/// </summary>
public static class LiveApi
{
    /// <summary>More events than this in one quarter-second become one summary.</summary>
    public const int EachUpTo = 20;

    private static readonly TimeSpan _every = TimeSpan.FromMilliseconds(250);

    public sealed record AlertSummary(int Count, int Raised, int Ended, IReadOnlyDictionary<string, int> BySeverity, IReadOnlyList<AlertRecord> Latest);

    public sealed record BanSummary(int Count, int Added, int Lifted, IReadOnlyList<BanEvent> Latest);

    public sealed record Lost(long Events);

    public static void MapLive(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/live", (DashboardContext dashboard, TrafficSampler sampler, HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "no-store";
            return TypedResults.ServerSentEvents(Events(dashboard, sampler, http.RequestAborted));
        }).RequireAuthorization(Authentication.Viewer);

    internal static async IAsyncEnumerable<SseItem<object>> Events(DashboardContext dashboard, TrafficSampler sampler, [EnumeratorCancellation] CancellationToken cancel)
    {
        using SensorFeed.Subscription feed = dashboard.Sensor.Feed.Subscribe(dashboard.Options.LiveQueue);
        var traffic = Channel.CreateBounded<TrafficSample>(new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.DropOldest });
        void OnSample(TrafficSample s) => traffic.Writer.TryWrite(s);
        sampler.Sampled += OnSample;
        try
        {
            yield return new SseItem<object>(new { every = _every.TotalMilliseconds, eachUpTo = EachUpTo }, "hello");
            using var timer = new PeriodicTimer(_every);
            long lost = 0;
            var alerts = new List<AlertEvent>();
            var bans = new List<BanEvent>();
            var reputations = new OrderedDictionary<string, Intel.Reputation>();
            while (!cancel.IsCancellationRequested && await timer.WaitForNextTickAsync(CancellationToken.None).ConfigureAwait(false))
            {
                alerts.Clear();
                bans.Clear();
                reputations.Clear();
                while (feed.Reader.TryRead(out SensorEvent? e))
                {
                    if (e is AlertEvent alert)
                    {
                        alerts.Add(alert);
                        if (alert.Reputation is { } known)
                        {
                            Latest(reputations, known);
                        }
                    }
                    else if (e is BanEvent ban)
                    {
                        bans.Add(ban);
                    }
                    else if (e is ReputationEvent looked)
                    {
                        Latest(reputations, looked.Reputation);
                    }
                }
                foreach (Intel.Reputation reputation in reputations.Values.Skip(reputations.Count - EachUpTo))
                {
                    yield return new SseItem<object>(reputation, "reputation");
                }
                if (alerts.Count <= EachUpTo)
                {
                    foreach (AlertEvent a in alerts)
                    {
                        yield return new SseItem<object>(a.Alert, a.Ended ? "alert-ended" : "alert");
                    }
                }
                else
                {
                    yield return new SseItem<object>(new AlertSummary(alerts.Count, alerts.Count(a => !a.Ended), alerts.Count(a => a.Ended),
                        alerts.Where(a => !a.Ended).GroupBy(a => a.Alert.Severity ?? "none").ToDictionary(g => g.Key, g => g.Count()),
                        [.. alerts.Where(a => !a.Ended).TakeLast(EachUpTo).Select(a => a.Alert)]), "alerts");
                }
                if (bans.Count <= EachUpTo)
                {
                    foreach (BanEvent b in bans)
                    {
                        yield return new SseItem<object>(Ban(b), b.Lifted ? "unban" : "ban");
                    }
                }
                else
                {
                    yield return new SseItem<object>(new BanSummary(bans.Count, bans.Count(b => !b.Lifted), bans.Count(b => b.Lifted), [.. bans.TakeLast(EachUpTo)]), "bans");
                }
                while (traffic.Reader.TryRead(out TrafficSample? sample))
                {
                    yield return new SseItem<object>(sample, "traffic");
                }
                if (feed.Lost != lost)
                {
                    lost = feed.Lost;
                    yield return new SseItem<object>(new Lost(lost), "lost");
                }
            }
        }
        finally
        {
            sampler.Sampled -= OnSample;
        }
    }

    /// <summary>Keeps one reputation per address, the latest last.</summary>
    private static void Latest(OrderedDictionary<string, Intel.Reputation> reputations, Intel.Reputation reputation)
    {
        reputations.Remove(reputation.Address);
        reputations.Add(reputation.Address, reputation);
    }

    private static object Ban(BanEvent e) => new { network = e.Ban.Network.ToString(), e.Ban.Reason, e.Ban.Created, e.Ban.Expires, e.Ban.Offence, e.Ban.Hold, e.By, at = e.At };
}
