using Npgsql;
using PortSentinel.Intel;

namespace PortSentinel.Record.Postgres;

/// <summary>The cache of AbuseIPDB reputations, shared by the fleet (one lookup serves every sensor); and when scanners were reported.</summary>
public sealed partial class PostgresStore
{
    private const string ReputationColumns = "address, score, country, isp, domain, total_reports, last_reported, checked";

    public void SaveReputation(Reputation reputation)
    {
        ArgumentNullException.ThrowIfNull(reputation);
        Change($"""
            INSERT INTO reputation ({ReputationColumns}) VALUES (@address, @score, @country, @isp, @domain, @reports, @last, @checked)
            ON CONFLICT (address) DO UPDATE SET score = excluded.score, country = excluded.country, isp = excluded.isp, domain = excluded.domain,
                total_reports = excluded.total_reports, last_reported = excluded.last_reported, checked = excluded.checked
            """,
            ("@address", reputation.Address), ("@score", reputation.Score), ("@country", reputation.CountryCode), ("@isp", reputation.Isp),
            ("@domain", reputation.Domain), ("@reports", reputation.TotalReports), ("@last", reputation.LastReportedAt), ("@checked", reputation.CheckedAt));
    }

    public Reputation? Reputation(string address) =>
        Read($"SELECT {ReputationColumns} FROM reputation WHERE address = @address", ReadReputation, ("@address", address)) is [var r] ? r : null;

    public IReadOnlyDictionary<string, Reputation> Reputations(IReadOnlyCollection<string> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        return addresses.Count == 0 ? new Dictionary<string, Reputation>() : Read(
            $"SELECT {ReputationColumns} FROM reputation WHERE address = ANY(@addresses)", ReadReputation, ("@addresses", addresses.ToArray())).ToDictionary(r => r.Address);
    }

    public DateTimeOffset? LastReported(string address) =>
        Read("SELECT reported FROM abuse_reports WHERE address = @address", row => Time(row, 0), ("@address", address)) is [var at] ? at : null;

    public void Reported(string address, DateTimeOffset at) =>
        Change("INSERT INTO abuse_reports (address, reported) VALUES (@address, @at) ON CONFLICT (address) DO UPDATE SET reported = excluded.reported", ("@address", address), ("@at", at));

    private static Reputation ReadReputation(NpgsqlDataReader row) => new(
        row.GetString(0), row.GetInt32(1), TextOrNull(row, 2), TextOrNull(row, 3), TextOrNull(row, 4), row.GetInt32(5), TimeOrNull(row, 6), Time(row, 7));
}
