using System.Globalization;
using System.Text;
using PortSentinel.Decide;
using PortSentinel.Record;

namespace PortSentinel.Notify;

/// <summary>
/// The alerts of one interval for one channel: the first <see cref="Listed"/> of them in full, and
/// how many there were in all, by severity.
/// </summary>
public sealed record Digest(IReadOnlyList<AlertRecord> Listed, int Count, IReadOnlyDictionary<string, int> BySeverity, DateTimeOffset From, DateTimeOffset To)
{
    /// <summary>How many alerts a message lists; the rest are counted.</summary>
    public const int ListedMost = 20;

    public bool OneAlert => Count == 1 && Listed.Count == 1;

    public string Subject => OneAlert
        ? $"PortSentinel: {Listed[0].Severity} {string.Join(',', Listed[0].Kinds)} scan from {Listed[0].Source} ({Listed[0].Action})"
        : $"PortSentinel: {Count} alerts ({Severities}) from {From:HH:mm:ss} to {To:HH:mm:ss} UTC";

    public string Severities => string.Join(", ", Enum.GetNames<Severity>().Reverse().Select(n => n.ToLowerInvariant())
        .Where(BySeverity.ContainsKey).Select(n => $"{BySeverity[n]} {n}"));

    /// <summary>One alert as one line of text.</summary>
    public static string Line(AlertRecord a) => string.Create(CultureInfo.InvariantCulture,
        $"{a.Raised ?? a.Last:yyyy-MM-dd HH:mm:ss} UTC {a.Severity} {a.Source} {string.Join(',', a.Kinds)} ports={a.Ports} ({a.PortRanges}) targets={a.Targets} probes={a.Probes} {a.Action}: {a.Reason}");

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
