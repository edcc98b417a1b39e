using Microsoft.Data.Sqlite;
using PortSentinel.Intel;

namespace PortSentinel.Record.Sqlite;

/// <summary>The cache of AbuseIPDB reputations, one row per address, replaced at each lookup.</summary>
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

    /// <summary>The reputation last looked up for <paramref name="address"/>, however old; null when never.</summary>
    public Reputation? Reputation(string address) =>
        Read($"SELECT {ReputationColumns} FROM reputation WHERE address = $address", ReadReputation, ("$address", address)) is [var r] ? r : null;

    private static Reputation ReadReputation(SqliteDataReader row) => new(
        row.GetString(0), row.GetInt32(1), row.IsDBNull(2) ? null : row.GetString(2), row.IsDBNull(3) ? null : row.GetString(3),
        row.IsDBNull(4) ? null : row.GetString(4), row.GetInt32(5), TimeOrNull(row, 6), Time(row, 7));
}
