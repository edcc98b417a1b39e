using Microsoft.Data.Sqlite;
using PortSentinel.Decode;

namespace PortSentinel.Record.Sqlite;

public sealed partial class SqliteStore
{
    private const string BanColumns = "network, reason, created, expires, offence, lifted, lifted_by, hold";

    public void AddBans(IReadOnlyList<BanRecord> bans)
    {
        ArgumentNullException.ThrowIfNull(bans);
        lock (_gate)
        {
            using SqliteTransaction tx = _connection.BeginTransaction();
            using SqliteCommand insert = _connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = $"INSERT INTO bans ({BanColumns}) VALUES ($n, $r, $c, $e, $o, $l, $b, $h)";
            SqliteParameter network = insert.Parameters.Add("$n", SqliteType.Text);
            SqliteParameter reason = insert.Parameters.Add("$r", SqliteType.Text);
            SqliteParameter created = insert.Parameters.Add("$c", SqliteType.Integer);
            SqliteParameter expires = insert.Parameters.Add("$e", SqliteType.Integer);
            SqliteParameter offence = insert.Parameters.Add("$o", SqliteType.Integer);
            SqliteParameter lifted = insert.Parameters.Add("$l", SqliteType.Integer);
            SqliteParameter liftedBy = insert.Parameters.Add("$b", SqliteType.Text);
            SqliteParameter hold = insert.Parameters.Add("$h", SqliteType.Integer);
            foreach (BanRecord ban in bans)
            {
                network.Value = ban.Network.ToString();
                reason.Value = ban.Reason;
                created.Value = Ms(ban.Created);
                expires.Value = Ms(ban.Expires);
                offence.Value = ban.Offence;
                lifted.Value = Ms(ban.Lifted);
                liftedBy.Value = (object?)ban.LiftedBy ?? DBNull.Value;
                hold.Value = ban.Hold ? 1 : 0;
                insert.ExecuteNonQuery();
            }
            tx.Commit();
        }
    }

    public IReadOnlyList<BanRecord> ActiveBans(DateTimeOffset now) =>
        ReadBans($"SELECT {BanColumns} FROM bans WHERE lifted IS NULL AND (expires IS NULL OR expires > $now) ORDER BY created, id", ("$now", Ms(now)));

    public IReadOnlyList<BanRecord> BansOf(NetPrefix network) =>
        ReadBans($"SELECT {BanColumns} FROM bans WHERE network = $n ORDER BY created, id", ("$n", network.ToString()));

    public IReadOnlyList<BanRecord> BanHistory(int offset, int limit) =>
        ReadBans($"SELECT {BanColumns} FROM bans ORDER BY created DESC, id DESC LIMIT $limit OFFSET $offset", ("$limit", limit), ("$offset", offset));

    public long BanCount()
    {
        lock (_gate)
        {
            return Convert.ToInt64(Scalar(_connection, "SELECT count(*) FROM bans"));
        }
    }

    public int PreviousBans(NetPrefix network)
    {
        lock (_gate)
        {
            // Asked before every decision: prepared once, so that a decision does not parse SQL.
            if (_previousBans is null)
            {
                _previousBans = _connection.CreateCommand();
                _previousBans.CommandText = "SELECT count(*) FROM bans WHERE network = $n AND hold = 0";
                _previousBans.Parameters.Add("$n", SqliteType.Text);
                _previousBans.Prepare();
            }
            _previousBans.Parameters[0].Value = network.ToString();
            return Convert.ToInt32(_previousBans.ExecuteScalar());
        }
    }

    public int LiftBans(IReadOnlyList<NetPrefix> networks, DateTimeOffset now, string by) =>
        UpdateEach(networks, now, by, "UPDATE bans SET lifted = $now, lifted_by = $by WHERE network = $n AND lifted IS NULL AND (expires IS NULL OR expires > $now)");

    public IReadOnlyList<NetPrefix> ExpiredUnlifted(DateTimeOffset now)
    {
        lock (_gate)
        {
            using SqliteCommand query = _connection.CreateCommand();
            query.CommandText = """
                SELECT DISTINCT network FROM bans b
                WHERE lifted IS NULL AND expires <= $now
                  AND NOT EXISTS (SELECT 1 FROM bans a WHERE a.network = b.network AND a.lifted IS NULL AND (a.expires IS NULL OR a.expires > $now))
                """;
            query.Parameters.AddWithValue("$now", Ms(now));
            var networks = new List<NetPrefix>();
            using SqliteDataReader reader = query.ExecuteReader();
            while (reader.Read())
            {
                networks.Add(NetPrefix.Parse(reader.GetString(0)));
            }
            return networks;
        }
    }

    public void MarkExpired(IReadOnlyList<NetPrefix> networks, DateTimeOffset now) =>
        UpdateEach(networks, now, "expiry", "UPDATE bans SET lifted = expires, lifted_by = $by WHERE network = $n AND lifted IS NULL AND expires <= $now");

    /// <summary>Runs <paramref name="sql"/> (with $n, $now, $by) once per network, in one transaction; returns the rows changed.</summary>
    private int UpdateEach(IReadOnlyList<NetPrefix> networks, DateTimeOffset now, string by, string sql)
    {
        ArgumentNullException.ThrowIfNull(networks);
        lock (_gate)
        {
            int changed = 0;
            using SqliteTransaction tx = _connection.BeginTransaction();
            using SqliteCommand update = _connection.CreateCommand();
            update.Transaction = tx;
            update.CommandText = sql;
            update.Parameters.AddWithValue("$now", Ms(now));
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
    }

    private List<BanRecord> ReadBans(string sql, params (string Name, object Value)[] parameters) =>
        Read(sql, row => new BanRecord(NetPrefix.Parse(row.GetString(0)), row.GetString(1), Time(row, 2), TimeOrNull(row, 3), row.GetInt32(4), TimeOrNull(row, 5), TextOrNull(row, 6), row.GetInt64(7) != 0), parameters);
}
