using Npgsql;
using PortSentinel.Decide;
using PortSentinel.Detect;

namespace PortSentinel.Record.Postgres;

public sealed partial class PostgresStore
{
    private const string AlertColumns = """
        id, source, kinds, first_seen, last_seen, raised, ended, targets, target_list, ports, port_ranges,
        protocols, probes, trigger, confidence, severity, action, reason, open, closed, unreachable, unanswered, dropped, verified
        """;

    private const string AlertTime = AlertFilter.AlertTime;

    private const string EvidenceColumns = "source, kinds, first_seen, last_seen, targets, ports, port_ranges, probes, trigger, confidence, target_list, protocols, open, closed, unreachable, unanswered, dropped, verified";
    private const string EvidenceValues = "@s, @k, @f, @l, @t, @p, @pr, @pb, @tr, @c, @tl, @proto, @o1, @o2, @o3, @o4, @o5, @v";

    public long RaiseAlert(Detection detection, Decision decision, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(detection);
        ArgumentNullException.ThrowIfNull(decision);
        return Scalar<long>($"""
            INSERT INTO detections ({EvidenceColumns}, severity, action, reason, raised, ended, sensor)
            VALUES ({EvidenceValues}, @sev, @a, @reason, @raised, @ended, @sensor)
            RETURNING id
            """,
            [.. Evidence(detection), .. Verdict(decision), ("@raised", at), ("@ended", detection.Final ? at : null), ("@sensor", Writer)]);
    }

    public void Redecide(long id, Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        Change("UPDATE detections SET severity = @sev, action = @a, reason = @reason, verified = verified OR @v WHERE id = @id",
            [("@id", id), .. Verdict(decision), ("@v", decision.Detection.Verified)]);
    }

    public void EndAlerts(IReadOnlyList<(long? Id, Detection Detection)> ended, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(ended);
        const string update = """
            UPDATE detections SET kinds = @k, first_seen = @f, last_seen = @l, targets = @t, ports = @p, port_ranges = @pr, probes = @pb,
                   confidence = @c, target_list = @tl, protocols = @proto, open = @o1, closed = @o2, unreachable = @o3, unanswered = @o4,
                   dropped = @o5, verified = @v, ended = @ended, trigger = @tr, source = @s
            WHERE id = @id
            """;
        const string insert = $"INSERT INTO detections ({EvidenceColumns}, ended, sensor) VALUES ({EvidenceValues}, @ended, @sensor)";
        Batch(
            ended.Select(e => e.Id is { } id
                ? (update, Evidence(e.Detection, ("@ended", at), ("@id", id)))
                : (insert, Evidence(e.Detection, ("@ended", at), ("@sensor", Writer)))),
            changed =>
            {
                int missing = Array.IndexOf(changed, 0);
                if (missing >= 0)
                {
                    throw new StoreException($"{Location}: alert {ended[missing].Id} to complete is not in the database.");
                }
            });
    }

    private static (string, object?)[] Evidence(Detection d, params (string, object?)[] more) =>
    [
        ("@s", d.Source.ToString()), ("@k", string.Join(',', ScanKindNames.Names(d.Kinds))), ("@f", d.First), ("@l", d.Last),
        ("@t", d.TargetCount), ("@p", d.Ports), ("@pr", d.PortRanges), ("@pb", d.Probes), ("@tr", d.Trigger), ("@c", d.Confidence),
        ("@tl", string.Join(',', d.Targets)), ("@proto", d.Protocols), ("@o1", d.Outcomes.Open), ("@o2", d.Outcomes.Closed),
        ("@o3", d.Outcomes.Unreachable), ("@o4", d.Outcomes.Unanswered), ("@o5", d.Outcomes.Dropped), ("@v", d.Verified), .. more,
    ];

    private static (string, object?)[] Verdict(Decision decision) =>
        [("@sev", decision.Severity.ToString().ToLowerInvariant()), ("@a", decision.Action.ToString().ToLowerInvariant()), ("@reason", decision.Reason)];

    public long DetectionCount() => Scalar<long>("SELECT count(*) FROM detections");

    public (IReadOnlyList<AlertRecord> Page, long Total) Alerts(AlertQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var parameters = new List<(string, object?)>();
        string where = AlertFilter.Where(query, (name, value) => parameters.Add((name, value)));
        long total = Scalar<long>($"SELECT count(*) FROM detections{where}", [.. parameters]);
        IReadOnlyList<AlertRecord> page = Read($"SELECT {AlertColumns} FROM detections{where} ORDER BY {AlertTime} DESC, id DESC LIMIT @limit OFFSET @offset",
            ReadAlert, [.. parameters, ("@limit", query.Limit), ("@offset", query.Offset)]);
        return (page, total);
    }

    public AlertRecord? Alert(long id) => Read($"SELECT {AlertColumns} FROM detections WHERE id = @id", ReadAlert, ("@id", id)) is [var alert] ? alert : null;

    public IReadOnlyList<(DateTimeOffset Minute, long Alerts)> AlertsPerMinute(DateTimeOffset since) =>
        Read($"SELECT date_trunc('minute', {AlertTime}) AS minute, count(*) FROM detections WHERE {AlertTime} >= @since GROUP BY minute ORDER BY minute",
            row => (Time(row, 0), row.GetInt64(1)), ("@since", since));

    public IReadOnlyList<(string Source, long Alerts, long Probes, DateTimeOffset Last)> TopSources(DateTimeOffset since, int limit) =>
        Read($"""
            SELECT source, count(*) AS n, sum(probes)::bigint, max({AlertTime}) FROM detections WHERE {AlertTime} >= @since
            GROUP BY source ORDER BY n DESC, sum(probes) DESC LIMIT @limit
            """, row => (row.GetString(0), row.GetInt64(1), row.GetInt64(2), Time(row, 3)), ("@since", since), ("@limit", limit));

    public IReadOnlyList<(DateTimeOffset At, string Kinds, string PortRanges, string? Action)> AlertsBetween(DateTimeOffset start, DateTimeOffset until) =>
        Read($"SELECT {AlertTime}, kinds, port_ranges, action FROM detections WHERE {AlertTime} >= @start AND {AlertTime} < @until",
            row => (Time(row, 0), row.GetString(1), row.GetString(2), TextOrNull(row, 3)), ("@start", start), ("@until", until));

    private static AlertRecord ReadAlert(NpgsqlDataReader row) => new(
        row.GetInt64(0), row.GetString(1), row.GetString(2).Split(',', StringSplitOptions.RemoveEmptyEntries),
        Time(row, 3), Time(row, 4), TimeOrNull(row, 5), TimeOrNull(row, 6), row.GetInt32(7),
        row.GetString(8).Split(',', StringSplitOptions.RemoveEmptyEntries), row.GetInt32(9), row.GetString(10), row.GetInt32(11),
        row.GetInt64(12), row.GetString(13), row.GetDouble(14), TextOrNull(row, 15), TextOrNull(row, 16), TextOrNull(row, 17),
        new DetectionOutcomes(row.GetInt32(18), row.GetInt32(19), row.GetInt32(20), row.GetInt32(21), row.GetInt32(22)), row.GetBoolean(23));
}
