using Microsoft.Data.Sqlite;
using PortSentinel.Intel;

namespace PortSentinel.Record.Sqlite;

/// <summary>The cache of AbuseIPDB reputations, one row per address, replaced at each lookup; and when scanners were reported.</summary>
public sealed partial class SqliteStore
{
    private const string ReputationColumns = "address, score, country, isp, domain, total_reports, last_reported, checked";

    public void SaveReputation(Reputation reputation)
    {
        ArgumentNullException.ThrowIfNull(reputation);
        Change($"INSERT OR REPLACE INTO reputation ({ReputationColumns}) VALUES ($address, $score, $country, $isp, $domain, $reports, $last, $checked)",
            ("$address", reputation.Address), ("$score", reputation.Score), ("$country", (object?)reputation.CountryCode ?? DBNull.Value),
            ("$isp", (object?)reputation.Isp ?? DBNull.Value), ("$domain", (object?)reputation.Domain ?? DBNull.Value), ("$reports", reputation.TotalReports),
            ("$last", reputation.LastReportedAt is { } last ? Ms(last) : DBNull.Value), ("$checked", Ms(reputation.CheckedAt)));
    }

    public Reputation? Reputation(string address) =>
        Read($"SELECT {ReputationColumns} FROM reputation WHERE address = $address", ReadReputation, ("$address", address)) is [var r] ? r : null;

    public IReadOnlyDictionary<string, Reputation> Reputations(IReadOnlyCollection<string> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        return addresses.Count == 0 ? new Dictionary<string, Reputation>() : Read(
            $"SELECT {ReputationColumns} FROM reputation WHERE address IN (SELECT value FROM json_each($addresses))", ReadReputation,
            ("$addresses", System.Text.Json.JsonSerializer.Serialize(addresses))).ToDictionary(r => r.Address);
    }

    public DateTimeOffset? LastReported(string address) =>
        Read("SELECT reported FROM abuse_reports WHERE address = $address", row => Time(row, 0), ("$address", address)) is [var at] ? at : null;

    public void Reported(string address, DateTimeOffset at) =>
        Change("INSERT OR REPLACE INTO abuse_reports (address, reported) VALUES ($address, $at)", ("$address", address), ("$at", Ms(at)));

    private static Reputation ReadReputation(SqliteDataReader row) => new(
        row.GetString(0), row.GetInt32(1), row.IsDBNull(2) ? null : row.GetString(2), row.IsDBNull(3) ? null : row.GetString(3),
        row.IsDBNull(4) ? null : row.GetString(4), row.GetInt32(5), TimeOrNull(row, 6), Time(row, 7));
}
