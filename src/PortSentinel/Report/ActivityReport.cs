using System.Globalization;
using System.Text.Json;
using PortSentinel.Record;

namespace PortSentinel.Report;

/// <summary>
/// What happened over a period, for people (HTML) and machines (JSON): scans and bans by kind and
/// hour, the top sources with their reputation, the ports most probed, and the sensor's health
/// when the running sensor writes it.
/// </summary>
public sealed record ActivityReport(
    DateTimeOffset From,
    DateTimeOffset To,
    long Scans,
    long Blocked,
    long Bans,
    IReadOnlyDictionary<string, long> ScansByKind,
    IReadOnlyList<ActivityReport.Hour> ByHour,
    IReadOnlyList<ActivityReport.Source> TopSources,
    IReadOnlyList<ActivityReport.Port> TopPorts,
    ActivityReport.SensorHealth? Health,
    long DatabaseBytes)
{
    public sealed record Hour(DateTimeOffset Start, long Scans, long Bans);

    public sealed record Source(string Address, long Alerts, long Probes, DateTimeOffset Last, int? ReputationScore, string? Country);

    public sealed record Port(string Protocol, int Number, long Scans);

    /// <summary>The capture's figures: only the running sensor knows them.</summary>
    public sealed record SensorHealth(string Firewall, double UptimeSeconds, long Received, long Dropped, long FirewallErrors);

    private static readonly string[] _protocols = ["tcp", "udp", "sctp"];

    private static readonly JsonSerializerOptions _json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The report for machines, as <c>report --format json</c> prints it and DATA_DIR/reports keeps it.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, _json);

    public static ActivityReport Build(IStore store, DateTimeOffset from, DateTimeOffset to, SensorHealth? health = null, int top = 10)
    {
        ArgumentNullException.ThrowIfNull(store);
        var alerts = store.AlertsBetween(from, to);
        var bans = store.BansBetween(from, to);
        var byKind = new SortedDictionary<string, long>(StringComparer.Ordinal);
        // Ports counted with a difference array per protocol: a range adds 1 at its start and
        // takes it back after its end, so 1-65535 costs two steps, not 65,535.
        long[][] starts = [.. _protocols.Select(_ => new long[65_537])];
        foreach (var (_, kinds, ranges, _) in alerts)
        {
            foreach (string kind in kinds.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                byKind[kind] = byKind.GetValueOrDefault(kind) + 1;
            }
            foreach (var (protocol, first, last) in Ranges(ranges))
            {
                starts[protocol][first]++;
                starts[protocol][last + 1]--;
            }
        }
        var ports = new List<Port>();
        for (int p = 0; p < _protocols.Length; p++)
        {
            long running = 0;
            for (int port = 0; port < 65_536; port++)
            {
                running += starts[p][port];
                if (running > 0)
                {
                    ports.Add(new Port(_protocols[p], port, running));
                }
            }
        }
        // Hours counted in one pass over the alerts and one over the bans.
        var firstHour = new DateTimeOffset(from.UtcDateTime.Date.AddHours(from.UtcDateTime.Hour), TimeSpan.Zero);
        int hourCount = (int)Math.Ceiling((to - firstHour).TotalHours);
        long[] scansIn = new long[hourCount], bansIn = new long[hourCount];
        foreach (var (at, _, _, _) in alerts)
        {
            scansIn[(int)((at - firstHour).Ticks / TimeSpan.TicksPerHour)]++;
        }
        foreach (DateTimeOffset at in bans)
        {
            bansIn[(int)((at - firstHour).Ticks / TimeSpan.TicksPerHour)]++;
        }
        List<Hour> hours = [.. Enumerable.Range(0, hourCount).Select(h => new Hour(firstHour.AddHours(h), scansIn[h], bansIn[h]))];
        var topSources = store.TopSources(from, top);
        IReadOnlyDictionary<string, Intel.Reputation> reputations = store.Reputations([.. topSources.Select(s => s.Source)]);
        List<Source> sources = [.. topSources.Select(s => (s, r: reputations.GetValueOrDefault(s.Source)))
            .Select(x => new Source(x.s.Source, x.s.Alerts, x.s.Probes, x.s.Last, x.r?.Score, x.r?.CountryCode))];
        return new ActivityReport(from, to, alerts.Count, alerts.Count(a => a.Action is "block" or "hold"), bans.Count, byKind, hours, sources,
            [.. ports.OrderByDescending(p => p.Scans).ThenBy(p => p.Protocol, StringComparer.Ordinal).ThenBy(p => p.Number).Take(top)], health, store.SizeBytes);
    }

    /// <summary>The ranges of a port description as detections write it: "tcp 1-1000,3389; udp 53,…".</summary>
    internal static IEnumerable<(int Protocol, int First, int Last)> Ranges(string text)
    {
        foreach (string part in text.Split("; ", StringSplitOptions.RemoveEmptyEntries))
        {
            int space = part.IndexOf(' ', StringComparison.Ordinal);
            int protocol = space < 0 ? -1 : Array.IndexOf(_protocols, part[..space]);
            if (protocol < 0)
            {
                continue;
            }
            foreach (string range in part[(space + 1)..].Split(','))
            {
                string[] ends = range.Split('-');
                if (int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out int first)
                    && int.TryParse(ends[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int last)
                    && first <= last && last < 65_536)
                {
                    yield return (protocol, first, last);
                }
            }
        }
    }
}
