using Npgsql;
using PortSentinel.Decode;

namespace PortSentinel.Record.Postgres;

public sealed partial class PostgresStore
{
    private const string BanColumns = "network, reason, created, expires, offence, lifted, lifted_by, hold";

    // One statement for the whole burst (a blocklist import is thousands): one round trip, one
    // announcement to the fleet.
    public void AddBans(IReadOnlyList<BanRecord> bans)
    {
        ArgumentNullException.ThrowIfNull(bans);
        if (bans.Count == 0)
        {
            return;
        }
        Change($"""
            INSERT INTO bans ({BanColumns}, sensor, changed_by)
            SELECT n, r, c, e, o, l, b, h, @sensor, @sensor FROM unnest(@n, @r, @c, @e, @o, @l, @b, @h) AS t(n, r, c, e, o, l, b, h)
            """,
            ("@n", bans.Select(b => b.Network.ToString()).ToArray()), ("@r", bans.Select(b => b.Reason).ToArray()),
            ("@c", bans.Select(b => b.Created.ToUniversalTime()).ToArray()), ("@e", bans.Select(b => b.Expires?.ToUniversalTime()).ToArray()),
            ("@o", bans.Select(b => b.Offence).ToArray()), ("@l", bans.Select(b => b.Lifted?.ToUniversalTime()).ToArray()),
            ("@b", bans.Select(b => b.LiftedBy).ToArray()), ("@h", bans.Select(b => b.Hold).ToArray()), ("@sensor", Writer));
    }

    public IReadOnlyList<BanRecord> ActiveBans(DateTimeOffset now) =>
        ReadBans($"SELECT {BanColumns} FROM bans WHERE lifted IS NULL AND (expires IS NULL OR expires > @now) ORDER BY created, id", ("@now", now));

    public IReadOnlyList<BanRecord> BansOf(NetPrefix network) =>
        ReadBans($"SELECT {BanColumns} FROM bans WHERE network = @n ORDER BY created, id", ("@n", network.ToString()));

    public IReadOnlyList<BanRecord> BanHistory(int offset, int limit) =>
        ReadBans($"SELECT {BanColumns} FROM bans ORDER BY created DESC, id DESC LIMIT @limit OFFSET @offset", ("@limit", limit), ("@offset", offset));

    public long BanCount() => Scalar<long>("SELECT count(*) FROM bans");

    public int PreviousBans(NetPrefix network) =>
        Scalar<int>("SELECT count(*) FROM bans WHERE network = @n AND NOT hold", ("@n", network.ToString()));

    public int LiftBans(IReadOnlyList<NetPrefix> networks, DateTimeOffset now, string by) =>
        UpdateEach(networks, now, by, "UPDATE bans SET lifted = @now, lifted_by = @by, changed_by = @sensor WHERE network = ANY(@n) AND lifted IS NULL AND (expires IS NULL OR expires > @now)");

    public IReadOnlyList<NetPrefix> ExpiredUnlifted(DateTimeOffset now) =>
        Read("""
            SELECT DISTINCT network FROM bans b
            WHERE lifted IS NULL AND expires <= @now
              AND NOT EXISTS (SELECT 1 FROM bans a WHERE a.network = b.network AND a.lifted IS NULL AND (a.expires IS NULL OR a.expires > @now))
            """, row => NetPrefix.Parse(row.GetString(0)), ("@now", now));

    public void MarkExpired(IReadOnlyList<NetPrefix> networks, DateTimeOffset now) =>
        UpdateEach(networks, now, "expiry", "UPDATE bans SET lifted = expires, lifted_by = @by, changed_by = @sensor WHERE network = ANY(@n) AND lifted IS NULL AND expires <= @now");

    public IReadOnlyList<DateTimeOffset> BansBetween(DateTimeOffset start, DateTimeOffset until) =>
        Read("SELECT created FROM bans WHERE created >= @start AND created < @until", row => Time(row, 0), ("@start", start), ("@until", until));

    /// <summary>Runs <paramref name="sql"/> (with @n, the networks as an array, @now, @by and @sensor, the writer) once; returns the rows changed.</summary>
    private int UpdateEach(IReadOnlyList<NetPrefix> networks, DateTimeOffset now, string by, string sql)
    {
        ArgumentNullException.ThrowIfNull(networks);
        return networks.Count == 0 ? 0 : Change(sql, ("@n", networks.Select(n => n.ToString()).ToArray()), ("@now", now), ("@by", by), ("@sensor", Writer));
    }

    private List<BanRecord> ReadBans(string sql, params (string Name, object? Value)[] parameters) =>
        Read(sql, row => new BanRecord(NetPrefix.Parse(row.GetString(0)), row.GetString(1), Time(row, 2), TimeOrNull(row, 3), row.GetInt32(4), TimeOrNull(row, 5), TextOrNull(row, 6), row.GetBoolean(7)), parameters);
}
