using Microsoft.Data.Sqlite;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Record.Sqlite;

/// <summary>
/// The default store: one SQLite file (<c>portsentinel.db</c>) in the data directory, in WAL mode
/// so that readers (the dashboard) never wait for the writer. Writes come in batches, each one
/// transaction, from one writer thread (the recorder). Times are stored as Unix milliseconds.
/// </summary>
public sealed class SqliteStore : IDisposable
{
    public const string FileName = "portsentinel.db";

    private readonly SqliteConnection _connection;

    private SqliteStore(string path, SqliteConnection connection)
    {
        Path = path;
        _connection = connection;
    }

    public string Path { get; }

    /// <summary>Opens (creating when needed) the store in <paramref name="dataDirectory"/> and brings its schema up to date.</summary>
    public static SqliteStore Open(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        string path = System.IO.Path.Combine(dataDirectory, FileName);
        try
        {
            Directory.CreateDirectory(dataDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"the data directory {dataDirectory} cannot be created: {e.Message}; choose another with --data-dir or fix its permissions.", e);
        }
        SQLitePCL.Batteries_V2.Init();
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;");
            Migrate(connection, path);
            return new SqliteStore(path, connection);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new StoreException($"{path}: {e.Message} (SQLite error {e.SqliteErrorCode}). If the file is damaged or not a PortSentinel database, move it aside and start again: a new one is created.", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The schema version (PRAGMA user_version).</summary>
    public int SchemaVersion => Convert.ToInt32(Scalar(_connection, "PRAGMA user_version"));

    public void AddBans(IReadOnlyList<BanRecord> bans)
    {
        ArgumentNullException.ThrowIfNull(bans);
        using SqliteTransaction tx = _connection.BeginTransaction();
        using SqliteCommand insert = _connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = "INSERT INTO bans (network, reason, created, expires, offence, lifted, lifted_by) VALUES ($n, $r, $c, $e, $o, $l, $b)";
        SqliteParameter network = insert.Parameters.Add("$n", SqliteType.Text);
        SqliteParameter reason = insert.Parameters.Add("$r", SqliteType.Text);
        SqliteParameter created = insert.Parameters.Add("$c", SqliteType.Integer);
        SqliteParameter expires = insert.Parameters.Add("$e", SqliteType.Integer);
        SqliteParameter offence = insert.Parameters.Add("$o", SqliteType.Integer);
        SqliteParameter lifted = insert.Parameters.Add("$l", SqliteType.Integer);
        SqliteParameter liftedBy = insert.Parameters.Add("$b", SqliteType.Text);
        foreach (BanRecord ban in bans)
        {
            network.Value = ban.Network.ToString();
            reason.Value = ban.Reason;
            created.Value = ban.Created.ToUnixTimeMilliseconds();
            expires.Value = (object?)ban.Expires?.ToUnixTimeMilliseconds() ?? DBNull.Value;
            offence.Value = ban.Offence;
            lifted.Value = (object?)ban.Lifted?.ToUnixTimeMilliseconds() ?? DBNull.Value;
            liftedBy.Value = (object?)ban.LiftedBy ?? DBNull.Value;
            insert.ExecuteNonQuery();
        }
        tx.Commit();
    }

    /// <summary>Bans in force at <paramref name="now"/>: not lifted, not expired. What is re-applied to the firewall at start.</summary>
    public IReadOnlyList<BanRecord> ActiveBans(DateTimeOffset now)
    {
        using SqliteCommand query = _connection.CreateCommand();
        query.CommandText = "SELECT network, reason, created, expires, offence, lifted, lifted_by FROM bans WHERE lifted IS NULL AND (expires IS NULL OR expires > $now) ORDER BY created, id";
        query.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        return ReadBans(query);
    }

    /// <summary>Every ban of <paramref name="network"/>, oldest first (its history).</summary>
    public IReadOnlyList<BanRecord> BansOf(NetPrefix network)
    {
        using SqliteCommand query = _connection.CreateCommand();
        query.CommandText = "SELECT network, reason, created, expires, offence, lifted, lifted_by FROM bans WHERE network = $n ORDER BY created, id";
        query.Parameters.AddWithValue("$n", network.ToString());
        return ReadBans(query);
    }

    /// <summary>How many times <paramref name="network"/> was banned: the decider's repeat-offence count.</summary>
    public int PreviousBans(NetPrefix network)
    {
        using SqliteCommand query = _connection.CreateCommand();
        query.CommandText = "SELECT count(*) FROM bans WHERE network = $n";
        query.Parameters.AddWithValue("$n", network.ToString());
        return Convert.ToInt32(query.ExecuteScalar());
    }

    /// <summary>Lifts the active bans of these networks (kept as history); returns how many were lifted.</summary>
    public int LiftBans(IReadOnlyList<NetPrefix> networks, DateTimeOffset now, string by) =>
        UpdateEach(networks, now, by, "UPDATE bans SET lifted = $now, lifted_by = $by WHERE network = $n AND lifted IS NULL AND (expires IS NULL OR expires > $now)");

    /// <summary>
    /// Networks whose bans have all run out by <paramref name="now"/> and were never marked lifted:
    /// what a firewall without timeouts still holds and the sensor must lift.
    /// </summary>
    public IReadOnlyList<NetPrefix> ExpiredUnlifted(DateTimeOffset now)
    {
        using SqliteCommand query = _connection.CreateCommand();
        query.CommandText = """
            SELECT DISTINCT network FROM bans b
            WHERE lifted IS NULL AND expires <= $now
              AND NOT EXISTS (SELECT 1 FROM bans a WHERE a.network = b.network AND a.lifted IS NULL AND (a.expires IS NULL OR a.expires > $now))
            """;
        query.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        var networks = new List<NetPrefix>();
        using SqliteDataReader reader = query.ExecuteReader();
        while (reader.Read())
        {
            networks.Add(NetPrefix.Parse(reader.GetString(0)));
        }
        return networks;
    }

    /// <summary>Marks the run-out bans of these networks lifted, at the time each ran out, by <c>expiry</c>.</summary>
    public void MarkExpired(IReadOnlyList<NetPrefix> networks, DateTimeOffset now) =>
        UpdateEach(networks, now, "expiry", "UPDATE bans SET lifted = expires, lifted_by = $by WHERE network = $n AND lifted IS NULL AND expires <= $now");

    /// <summary>Runs <paramref name="sql"/> (with $n, $now, $by) once per network, in one transaction; returns the rows changed.</summary>
    private int UpdateEach(IReadOnlyList<NetPrefix> networks, DateTimeOffset now, string by, string sql)
    {
        ArgumentNullException.ThrowIfNull(networks);
        int changed = 0;
        using SqliteTransaction tx = _connection.BeginTransaction();
        using SqliteCommand update = _connection.CreateCommand();
        update.Transaction = tx;
        update.CommandText = sql;
        update.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        update.Parameters.AddWithValue("$by", by);
        SqliteParameter network = update.Parameters.Add("$n", SqliteType.Text);
        foreach (NetPrefix n in networks)
        {
            network.Value = n.ToString();
            changed += update.ExecuteNonQuery();
        }
        tx.Commit();
        return changed;
    }

    /// <summary>Records detections with the decision taken on each (if any), in one transaction.</summary>
    public void AddDetections(IReadOnlyList<(Detection Detection, Decision? Decision)> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        using SqliteTransaction tx = _connection.BeginTransaction();
        using SqliteCommand insert = _connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO detections (source, kinds, first_seen, last_seen, targets, ports, port_ranges, probes, trigger, confidence, severity, action)
            VALUES ($s, $k, $f, $l, $t, $p, $pr, $pb, $tr, $c, $sev, $a)
            """;
        insert.Transaction = tx;
        (string Name, SqliteType Type)[] columns =
        [
            ("$s", SqliteType.Text), ("$k", SqliteType.Text), ("$f", SqliteType.Integer), ("$l", SqliteType.Integer),
            ("$t", SqliteType.Integer), ("$p", SqliteType.Integer), ("$pr", SqliteType.Text), ("$pb", SqliteType.Integer),
            ("$tr", SqliteType.Text), ("$c", SqliteType.Real), ("$sev", SqliteType.Text), ("$a", SqliteType.Text),
        ];
        SqliteParameter[] p = [.. columns.Select(c => insert.Parameters.Add(c.Name, c.Type))];
        foreach (var (d, decision) in items)
        {
            p[0].Value = d.Source.ToString();
            p[1].Value = string.Join(',', ScanKindNames.Names(d.Kinds));
            p[2].Value = d.First.ToUnixTimeMilliseconds();
            p[3].Value = d.Last.ToUnixTimeMilliseconds();
            p[4].Value = d.TargetCount;
            p[5].Value = d.Ports;
            p[6].Value = d.PortRanges;
            p[7].Value = d.Probes;
            p[8].Value = d.Trigger;
            p[9].Value = d.Confidence;
            p[10].Value = (object?)decision?.Severity.ToString().ToLowerInvariant() ?? DBNull.Value;
            p[11].Value = (object?)decision?.Action.ToString().ToLowerInvariant() ?? DBNull.Value;
            insert.ExecuteNonQuery();
        }
        tx.Commit();
    }

    public long DetectionCount() => Convert.ToInt64(Scalar(_connection, "SELECT count(*) FROM detections"));

    public void Dispose() => _connection.Dispose();

    private static void Migrate(SqliteConnection connection, string path)
    {
        int version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"));
        if (version > Migrations.Steps.Length)
        {
            throw new StoreException($"{path}: schema version {version} is newer than this PortSentinel knows ({Migrations.Steps.Length}); upgrade PortSentinel, or start with another --data-dir.");
        }
        for (int step = version; step < Migrations.Steps.Length; step++)
        {
            using SqliteTransaction tx = connection.BeginTransaction();
            Execute(connection, Migrations.Steps[step], tx);
            Execute(connection, $"PRAGMA user_version = {step + 1}", tx);
            tx.Commit();
        }
    }

    private static List<BanRecord> ReadBans(SqliteCommand query)
    {
        var bans = new List<BanRecord>();
        using SqliteDataReader reader = query.ExecuteReader();
        while (reader.Read())
        {
            bans.Add(new BanRecord(
                NetPrefix.Parse(reader.GetString(0)),
                reader.GetString(1),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                reader.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                reader.GetInt32(4),
                reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                reader.IsDBNull(6) ? null : reader.GetString(6)));
        }
        return bans;
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? tx = null)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
