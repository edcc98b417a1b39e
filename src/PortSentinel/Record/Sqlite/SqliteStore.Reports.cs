namespace PortSentinel.Record.Sqlite;

/// <summary>What the activity report reads: the alerts and bans of a period, few columns.</summary>
public sealed partial class SqliteStore
{
    public IReadOnlyList<(DateTimeOffset At, string Kinds, string PortRanges, string? Action)> AlertsBetween(DateTimeOffset start, DateTimeOffset until) =>
        Read($"SELECT {AlertTime}, kinds, port_ranges, action FROM detections WHERE {AlertTime} >= $start AND {AlertTime} < $until",
            row => (Time(row, 0), row.GetString(1), row.GetString(2), row.IsDBNull(3) ? null : row.GetString(3)), ("$start", Ms(start)), ("$until", Ms(until)));

    public IReadOnlyList<DateTimeOffset> BansBetween(DateTimeOffset start, DateTimeOffset until) =>
        Read("SELECT created FROM bans WHERE created >= $start AND created < $until", row => Time(row, 0), ("$start", Ms(start)), ("$until", Ms(until)));
}
