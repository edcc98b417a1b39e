using Npgsql;
using PortSentinel.Decode;

namespace PortSentinel.Record.Postgres;

public sealed partial class PostgresStore : IFleetStore
{
    // Where each change of bans, and of the fleet-wide allowlist, is announced (Migrations, step 2).
    private const string BanChannel = "portsentinel_bans";
    private const string AllowlistChannel = "portsentinel_allowlist";

    // pg_try_advisory_lock's first key for the name a running sensor holds: "PSNM" (the second is the name's hash).
    private const int NameLock = 0x5053_4E4D;

    public long LatestChange() => Scalar<long>("SELECT coalesce(max(changed), 0) FROM bans");

    public long? LastApplied() => Guarded(() =>
    {
        using NpgsqlCommand read = Command("SELECT applied FROM sensors WHERE name = @name", [("@name", Writer)]);
        return read.ExecuteScalar() is long applied ? applied : (long?)null;
    });

    public void Applied(long change) =>
        Change("UPDATE sensors SET applied = @change, seen = now() WHERE name = @name", ("@change", change), ("@name", Writer));

    // One statement, one round trip (every sensor runs it at every announcement). Each network's
    // state over all its bans, not only the rows changed: a lift of one ban leaves the network
    // banned while another is in force. Up to the latest change read only, so that a change
    // committed meanwhile is read, whole, the next time. The first row carries the latest change
    // even when no network is left (only holds changed).
    public FleetChanges ChangesAfter(long after, DateTimeOffset now) => Guarded(() =>
    {
        long latest = after;
        var networks = new List<BanChange>();
        var unreadable = new List<string>();
        using NpgsqlCommand query = Command("""
            WITH latest AS (SELECT max(changed) AS n FROM bans WHERE changed > @after),
            touched AS (SELECT DISTINCT network FROM bans, latest WHERE changed > @after AND changed <= latest.n)
            SELECT latest.n, s.* FROM latest LEFT JOIN LATERAL (
                SELECT b.network, max(b.changed) AS change,
                       bool_or(b.lifted IS NULL AND (b.expires IS NULL OR b.expires > @now)),
                       bool_or(b.lifted IS NULL AND b.expires IS NULL),
                       max(b.expires) FILTER (WHERE b.lifted IS NULL AND b.expires > @now),
                       (array_agg(b.reason ORDER BY b.changed DESC))[1],
                       (array_agg(b.changed_by ORDER BY b.changed DESC))[1]
                FROM bans b JOIN touched USING (network)
                WHERE NOT b.hold AND b.changed <= latest.n
                GROUP BY b.network) s ON true
            ORDER BY s.change
            """, [("@after", after), ("@now", now)]);
        using NpgsqlDataReader row = query.ExecuteReader();
        while (row.Read())
        {
            if (row.IsDBNull(0))
            {
                break; // nothing changed
            }
            latest = row.GetInt64(0);
            if (row.IsDBNull(1))
            {
                continue;
            }
            if (NetPrefix.TryParse(row.GetString(1), out NetPrefix? network))
            {
                networks.Add(new BanChange(network.Value, row.GetInt64(2), row.GetBoolean(3), row.GetBoolean(4) ? null : TimeOrNull(row, 5), row.GetString(6), row.GetString(7)));
            }
            else
            {
                unreadable.Add(row.GetString(1));
            }
        }
        return new FleetChanges(latest, networks, unreadable);
    });

    public IReadOnlyList<FleetAllowed> FleetAllowlist() =>
        Read("SELECT network, comment, added, added_by FROM allowlist ORDER BY added, network",
            row => new FleetAllowed(NetPrefix.Parse(row.GetString(0)), row.GetString(1), Time(row, 2), row.GetString(3)));

    public bool Allow(NetPrefix network, string comment, string by, DateTimeOffset now) => Guarded(() =>
    {
        using NpgsqlCommand upsert = Command("""
            INSERT INTO allowlist (network, comment, added, added_by) VALUES (@n, @comment, @now, @by)
            ON CONFLICT (network) DO UPDATE SET comment = excluded.comment
            RETURNING xmax = 0
            """, [("@n", network.ToString()), ("@comment", comment), ("@now", now), ("@by", by)]);
        return (bool)upsert.ExecuteScalar()!;
    });

    public bool Disallow(NetPrefix network) => Change("DELETE FROM allowlist WHERE network = @n", ("@n", network.ToString())) > 0;

    public IFleetListener Listen() => Guarded(() =>
    {
        NpgsqlConnection connection = _source.OpenConnection();
        try
        {
            using (var claim = new NpgsqlCommand($"SELECT pg_try_advisory_lock({NameLock}, hashtext(@name))", connection))
            {
                claim.Parameters.AddWithValue("@name", Writer);
                if (!(bool)claim.ExecuteScalar()!)
                {
                    throw new StoreException($"{Location}: another sensor named {Writer} is running on this fleet's store; give this one a name of its own (--name or Sensor:Name), or stop the other first.");
                }
            }
            using var listen = new NpgsqlCommand($"LISTEN {BanChannel}; LISTEN {AllowlistChannel}", connection);
            listen.ExecuteNonQuery();
            return new Listener(connection, Location);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    });

    /// <summary>LISTEN on a connection of its own, out of the pool's way (it is held as long as the sensor runs).</summary>
    private sealed class Listener : IFleetListener
    {
        private readonly NpgsqlConnection _connection;
        private readonly string _location;
        private FleetNews _news;

        public Listener(NpgsqlConnection connection, string location)
        {
            _connection = connection;
            _location = location;
            _connection.Notification += (_, e) => _news |= e.Channel == AllowlistChannel ? FleetNews.Allowlist : FleetNews.Bans;
        }

        public FleetNews Wait(TimeSpan timeout)
        {
            try
            {
                // One announcement at a time: those that arrived meanwhile return at once, and the
                // read of the changes that follows each finds nothing new, which is cheap.
                _news = FleetNews.None;
                _connection.Wait(timeout);
                return _news;
            }
            catch (NpgsqlException e)
            {
                throw Failed(_location, e);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                throw new StoreException($"{_location}: the connection listening for the fleet's bans broke: {e.Message}", e);
            }
        }

        public void Dispose() => _connection.Dispose();
    }
}
