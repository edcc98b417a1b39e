namespace PortSentinel.Intel;

/// <summary>What AbuseIPDB knows of an address (its check endpoint), and when it was asked.</summary>
public sealed record Reputation(
    string Address,
    int Score,
    string? CountryCode,
    string? Isp,
    string? Domain,
    int TotalReports,
    DateTimeOffset? LastReportedAt,
    DateTimeOffset CheckedAt);
