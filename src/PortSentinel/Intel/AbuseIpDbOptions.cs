using PortSentinel.Common;

namespace PortSentinel.Intel;

/// <summary>
/// AbuseIPDB reputation lookups, bound from the <c>AbuseIpDb</c> section. Off until
/// <see cref="ApiKey"/> is set (best in the environment: <c>PORTSENTINEL__AbuseIpDb__ApiKey</c>);
/// the key is never logged nor shown.
/// </summary>
public sealed class AbuseIpDbOptions
{
    public const string Section = "AbuseIpDb";

    /// <summary>The API key; empty: no lookups.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>The API's base address (a local server in tests).</summary>
    public string BaseUrl { get; set; } = "https://api.abuseipdb.com/api/v2/";

    /// <summary>Reports older than this many days do not count (the check endpoint's maxAgeInDays, 1–365).</summary>
    public int MaxAgeInDays { get; set; } = 90;

    /// <summary>A lookup that takes longer is given up (and retried later).</summary>
    public int TimeoutSeconds { get; set; } = 5;

    /// <summary>How long a looked-up reputation is used before it is looked up again.</summary>
    public int CacheHours { get; set; } = 24;

    /// <summary>At most this many lookups a day (UTC), the plan's quota (1,000 on the free plan).</summary>
    public int DailyQuota { get; set; } = 1000;

    /// <summary>From this confidence score (0–100) a detection's severity goes one step up, and its ban lasts <see cref="BanFactor"/> times longer.</summary>
    public int RaiseAtScore { get; set; } = 50;

    /// <summary>From this score a detection is critical.</summary>
    public int CriticalAtScore { get; set; } = 90;

    /// <summary>How many times longer a known-bad source is banned (capped by Decide:MaxBanSeconds).</summary>
    public double BanFactor { get; set; } = 4;

    /// <summary>Report the scanners the sensor blocks back to AbuseIPDB (category 14, Port Scan). Off by default.</summary>
    public bool Report { get; set; }

    /// <summary>At most one report of a source in this many hours (AbuseIPDB itself refuses a second within 15 minutes).</summary>
    public int ReportEveryHours { get; set; } = 24;

    public bool Enabled => ApiKey.Length > 0;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add($"{Section}:{nameof(BaseUrl)} is \"{BaseUrl}\"; give an http(s) address, e.g. https://api.abuseipdb.com/api/v2/.");
        }
        if (MaxAgeInDays is < 1 or > 365)
        {
            errors.Add($"{Section}:{nameof(MaxAgeInDays)} is {MaxAgeInDays}; give 1–365 days.");
        }
        if (TimeoutSeconds is < 1 or > 120)
        {
            errors.Add($"{Section}:{nameof(TimeoutSeconds)} is {TimeoutSeconds}; give 1–120 seconds.");
        }
        const int Year = 8760;
        OptionRange.Check(errors, $"{Section}:{nameof(CacheHours)}", CacheHours, 1, Year, "hours");
        OptionRange.Check(errors, $"{Section}:{nameof(DailyQuota)}", DailyQuota, 1, 10_000_000, why: "the plan's daily number of checks, e.g. 1000");
        if (RaiseAtScore is < 1 or > 100 || CriticalAtScore is < 1 or > 100 || CriticalAtScore < RaiseAtScore)
        {
            errors.Add($"{Section}:{nameof(RaiseAtScore)} ({RaiseAtScore}) and {nameof(CriticalAtScore)} ({CriticalAtScore}) must be scores 1–100, the second at least the first.");
        }
        OptionRange.Check(errors, $"{Section}:{nameof(BanFactor)}", BanFactor, 1, 100, why: "1: bans as long as for anyone");
        OptionRange.Check(errors, $"{Section}:{nameof(ReportEveryHours)}", ReportEveryHours, 1, Year, "hours");
        return errors;
    }
}
