using System.Globalization;
using System.Text;
using PortSentinel.Decide;
using PortSentinel.Intel;
using PortSentinel.Record;

namespace PortSentinel.Notify;

/// <summary>
/// The alerts of one interval for one channel: the first <see cref="Listed"/> of them in full, and
/// how many there were in all, by severity; <see cref="Reputations"/> holds what AbuseIPDB says of
/// the listed sources, by address, when it was known by the time the digest was sent.
/// </summary>
public sealed record Digest(IReadOnlyList<AlertRecord> Listed, int Count, IReadOnlyDictionary<string, int> BySeverity, DateTimeOffset From, DateTimeOffset To,
    IReadOnlyDictionary<string, Reputation>? Reputations = null)
{
    /// <summary>How many alerts a message lists; the rest are counted.</summary>
    public const int ListedMost = 20;

    public bool OneAlert => Count == 1 && Listed.Count == 1;

    public string Subject => OneAlert
        ? $"PortSentinel: {Listed[0].Severity} {string.Join(',', Listed[0].Kinds)} scan from {Listed[0].Source} ({Listed[0].Action})"
        : $"PortSentinel: {Count} alerts ({Severities}) from {From:HH:mm:ss} to {To:HH:mm:ss} UTC";

    public string Severities => string.Join(", ", Enum.GetNames<Severity>().Reverse().Select(n => n.ToLowerInvariant())
        .Where(BySeverity.ContainsKey).Select(n => $"{BySeverity[n]} {n}"));

    /// <summary>What AbuseIPDB says of the source of <paramref name="alert"/>, if known.</summary>
    public Reputation? ReputationOf(AlertRecord alert) => Reputations?.GetValueOrDefault(alert.Source);

    /// <summary>One alert as one line of text, with its source's reputation when known.</summary>
    public string Line(AlertRecord a)
    {
        ArgumentNullException.ThrowIfNull(a);
        string reputation = ReputationOf(a) is { } r
            ? string.Create(CultureInfo.InvariantCulture, $" abuseipdb={r.Score} reports={r.TotalReports} country={r.CountryCode ?? "-"}")
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{a.Raised ?? a.Last:yyyy-MM-dd HH:mm:ss} UTC {a.Severity} {a.Source} {string.Join(',', a.Kinds)} ports={a.Ports} ({a.PortRanges}) targets={a.Targets} probes={a.Probes}{reputation} {a.Action}: {a.Reason}");
    }

    public string Text
    {
        get
        {
            var text = new StringBuilder();
            if (!OneAlert)
            {
                text.Append(CultureInfo.InvariantCulture, $"{Count} alerts ({Severities}) from {From:yyyy-MM-dd HH:mm:ss} to {To:HH:mm:ss} UTC.\n");
            }
            foreach (AlertRecord a in Listed)
            {
                text.Append(Line(a)).Append('\n');
            }
            if (Count > Listed.Count)
            {
                // ASCII only, so that a mail's body goes as it is, unencoded.
                text.Append(CultureInfo.InvariantCulture, $"... and {Count - Listed.Count} more: see the dashboard's Alerts page.\n");
            }
            return text.ToString();
        }
    }
}

/// <summary>A channel alerts are delivered on; <see cref="SendAsync"/> throws when delivery fails.</summary>
public interface INotifyChannel : IDisposable
{
    /// <summary>What the channel is, for logs and health (the secrets left out): webhook slack https://hooks.example/…</summary>
    string Name { get; }

    Severity MinSeverity { get; }

    Task SendAsync(Digest digest, CancellationToken cancellation);
}
