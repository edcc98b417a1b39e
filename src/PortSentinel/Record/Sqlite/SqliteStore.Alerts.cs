using Microsoft.Data.Sqlite;
using PortSentinel.Decide;
using PortSentinel.Detect;

namespace PortSentinel.Record.Sqlite;

public sealed partial class SqliteStore
{
    private const string AlertColumns = """
        id, source, kinds, first_seen, last_seen, raised, ended, targets, target_list, ports, port_ranges,
        protocols, probes, trigger, confidence, severity, action, reason, open, closed, unreachable, unanswered, dropped, verified
        """;

    private const string AlertTime = AlertFilter.AlertTime;

    public long RaiseAlert(Detection detection, Decision decision, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(detection);
        ArgumentNullException.ThrowIfNull(decision);
        lock (_gate)
        {
            using SqliteCommand insert = _connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO detections (source, kinds, first_seen, last_seen, targets, ports, port_ranges, probes, trigger, confidence,
                                        severity, action, raised, target_list, protocols, open, closed, unreachable, unanswered, dropped, verified, reason, ended)
                VALUES ($s, $k, $f, $l, $t, $p, $pr, $pb, $tr, $c, $sev, $a, $raised, $tl, $proto, $o1, $o2, $o3, $o4, $o5, $v, $reason, $ended)
                RETURNING id
                """;
            Evidence(insert, detection);
            insert.Parameters.AddWithValue("$sev", decision.Severity.ToString().ToLowerInvariant());
            insert.Parameters.AddWithValue("$a", decision.Action.ToString().ToLowerInvariant());
            insert.Parameters.AddWithValue("$raised", Ms(at));
            insert.Parameters.AddWithValue("$reason", decision.Reason);
            insert.Parameters.AddWithValue("$ended", detection.Final ? Ms(at) : DBNull.Value);
            return Convert.ToInt64(insert.ExecuteScalar());
        }
    }

    public void Redecide(long id, Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        Change("UPDATE detections SET severity = $sev, action = $a, reason = $reason, verified = max(verified, $v) WHERE id = $id",
            ("$id", id), ("$sev", decision.Severity.ToString().ToLowerInvariant()), ("$a", decision.Action.ToString().ToLowerInvariant()), ("$reason", decision.Reason),
            ("$v", decision.Detection.Verified ? 1 : 0));
    }

    public void EndAlerts(IReadOnlyList<(long? Id, Detection Detection)> ended, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(ended);
        lock (_gate)
        {
            using SqliteTransaction tx = _connection.BeginTransaction();
            using SqliteCommand update = _connection.CreateCommand();
            update.Transaction = tx;
            update.CommandText = """
                UPDATE detections SET kinds = $k, first_seen = $f, last_seen = $l, targets = $t, ports = $p, port_ranges = $pr, probes = $pb,
                       confidence = $c, target_list = $tl, protocols = $proto, open = $o1, closed = $o2, unreachable = $o3, unanswered = $o4,
                       dropped = $o5, verified = $v, ended = $ended, trigger = $tr, source = $s
                WHERE id = $id
                """;
            using SqliteCommand insert = _connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = """
                INSERT INTO detections (source, kinds, first_seen, last_seen, targets, ports, port_ranges, probes, trigger, confidence,
                                        target_list, protocols, open, closed, unreachable, unanswered, dropped, verified, ended)
                VALUES ($s, $k, $f, $l, $t, $p, $pr, $pb, $tr, $c, $tl, $proto, $o1, $o2, $o3, $o4, $o5, $v, $ended)
                """;
            foreach (var (id, detection) in ended)
            {
                SqliteCommand command = id is null ? insert : update;
                command.Parameters.Clear();
                Evidence(command, detection);
                command.Parameters.AddWithValue("$ended", Ms(at));
                if (id is { } known)
                {
                    command.Parameters.AddWithValue("$id", known);
                }
                if (command.ExecuteNonQuery() == 0)
                {
                    throw new StoreException($"{Path}: alert {id} to complete is not in the database.");
                }
            }
            tx.Commit();
        }
    }

    private static void Evidence(SqliteCommand command, Detection d)
    {
        SqliteParameterCollection p = command.Parameters;
        p.AddWithValue("$s", d.Source.ToString());
        p.AddWithValue("$k", string.Join(',', ScanKindNames.Names(d.Kinds)));
        p.AddWithValue("$f", Ms(d.First));
        p.AddWithValue("$l", Ms(d.Last));
        p.AddWithValue("$t", d.TargetCount);
        p.AddWithValue("$p", d.Ports);
        p.AddWithValue("$pr", d.PortRanges);
        p.AddWithValue("$pb", d.Probes);
        p.AddWithValue("$tr", d.Trigger);
        p.AddWithValue("$c", d.Confidence);
        p.AddWithValue("$tl", string.Join(',', d.Targets));
        p.AddWithValue("$proto", d.Protocols);
        p.AddWithValue("$o1", d.Outcomes.Open);
        p.AddWithValue("$o2", d.Outcomes.Closed);
        p.AddWithValue("$o3", d.Outcomes.Unreachable);
        p.AddWithValue("$o4", d.Outcomes.Unanswered);
        p.AddWithValue("$o5", d.Outcomes.Dropped);
        p.AddWithValue("$v", d.Verified ? 1 : 0);
    }

    public long DetectionCount()
    {
        lock (_gate)
        {
            return Convert.ToInt64(Scalar(_connection, "SELECT count(*) FROM detections"));
        }
    }

    /// <summary>The alerts that match <paramref name="query"/>, newest first, one page of them, and how many match in all.</summary>
    public (IReadOnlyList<AlertRecord> Page, long Total) Alerts(AlertQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_gate)
        {
            using SqliteCommand count = _connection.CreateCommand();
            string where = Where(count, query);
            count.CommandText = $"SELECT count(*) FROM detections{where}";
            long total = Convert.ToInt64(count.ExecuteScalar());

            using SqliteCommand select = _connection.CreateCommand();
            select.CommandText = $"SELECT {AlertColumns} FROM detections{Where(select, query)} ORDER BY {AlertTime} DESC, id DESC LIMIT $limit OFFSET $offset";
            select.Parameters.AddWithValue("$limit", query.Limit);
            select.Parameters.AddWithValue("$offset", query.Offset);
            return (ReadAlerts(select), total);
        }
    }

    public AlertRecord? Alert(long id)
    {
        lock (_gate)
        {
            using SqliteCommand select = _connection.CreateCommand();
            select.CommandText = $"SELECT {AlertColumns} FROM detections WHERE id = $id";
            select.Parameters.AddWithValue("$id", id);
            return ReadAlerts(select) is [var alert] ? alert : null;
        }
    }

    public IReadOnlyList<(DateTimeOffset Minute, long Alerts)> AlertsPerMinute(DateTimeOffset since) =>
        Read($"SELECT {AlertTime} / 60000 AS minute, count(*) FROM detections WHERE {AlertTime} >= $since GROUP BY minute ORDER BY minute",
            row => (DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(0) * 60_000), row.GetInt64(1)), ("$since", Ms(since)));

    public IReadOnlyList<(string Source, long Alerts, long Probes, DateTimeOffset Last)> TopSources(DateTimeOffset since, int limit) =>
        Read($"""
            SELECT source, count(*) AS n, sum(probes), max({AlertTime}) FROM detections WHERE {AlertTime} >= $since
            GROUP BY source ORDER BY n DESC, sum(probes) DESC LIMIT $limit
            """, row => (row.GetString(0), row.GetInt64(1), row.GetInt64(2), Time(row, 3)), ("$since", Ms(since)), ("$limit", limit));

    private static string Where(SqliteCommand command, AlertQuery q) =>
        AlertFilter.Where(q, (name, value) => command.Parameters.AddWithValue(name, value is DateTimeOffset t ? Ms(t) : value));

    private static List<AlertRecord> ReadAlerts(SqliteCommand select)
    {
        var alerts = new List<AlertRecord>();
        using SqliteDataReader row = select.ExecuteReader();
        while (row.Read())
        {
            string targets = row.GetString(8);
            alerts.Add(new AlertRecord(
                row.GetInt64(0), row.GetString(1), row.GetString(2).Split(',', StringSplitOptions.RemoveEmptyEntries),
                Time(row, 3), Time(row, 4), TimeOrNull(row, 5), TimeOrNull(row, 6), row.GetInt32(7),
                targets.Split(',', StringSplitOptions.RemoveEmptyEntries), row.GetInt32(9), row.GetString(10), row.GetInt32(11),
                row.GetInt64(12), row.GetString(13), row.GetDouble(14), TextOrNull(row, 15), TextOrNull(row, 16), TextOrNull(row, 17),
                new DetectionOutcomes(row.GetInt32(18), row.GetInt32(19), row.GetInt32(20), row.GetInt32(21), row.GetInt32(22)), row.GetInt64(23) != 0));
        }
        return alerts;
    }
}
