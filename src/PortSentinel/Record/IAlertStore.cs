using PortSentinel.Decide;
using PortSentinel.Detect;

namespace PortSentinel.Record;

/// <summary>Alerts: each source recognised as a scanner, raised with its decision and completed when its scan ends, and read back by the dashboard, the API and the report.</summary>
public interface IAlertStore
{
    /// <summary>
    /// Records a source just recognised, with the decision taken on it; returns the alert's id,
    /// which its end completes. A detection that is already <see cref="Detection.Final"/> (a trap
    /// contact) is recorded as ended.
    /// </summary>
    long RaiseAlert(Detection detection, Decision decision, DateTimeOffset at);

    /// <summary>A raised alert decided again (its reputation came, the cap had room, it was verified): its severity, action and reason now.</summary>
    void Redecide(long id, Decision decision);

    /// <summary>
    /// Completes alerts whose scans ended with their whole evidence, in one transaction: the row
    /// raised earlier when <c>Id</c> is known, else a new row (a scan that ended undecided).
    /// </summary>
    void EndAlerts(IReadOnlyList<(long? Id, Detection Detection)> ended, DateTimeOffset at);

    /// <summary>How many alerts are recorded.</summary>
    long DetectionCount();

    /// <summary>The alerts that match <paramref name="query"/>, newest first, one page of them, and how many match in all.</summary>
    (IReadOnlyList<AlertRecord> Page, long Total) Alerts(AlertQuery query);

    /// <summary>The alert with this id, or null.</summary>
    AlertRecord? Alert(long id);

    /// <summary>Alerts raised per minute since <paramref name="since"/>, minutes without any left out.</summary>
    IReadOnlyList<(DateTimeOffset Minute, long Alerts)> AlertsPerMinute(DateTimeOffset since);

    /// <summary>The sources with the most alerts since <paramref name="since"/>, with their probe count and latest alert.</summary>
    IReadOnlyList<(string Source, long Alerts, long Probes, DateTimeOffset Last)> TopSources(DateTimeOffset since, int limit);

    /// <summary>Each alert raised in [start, until): when, kinds, ports probed, decision.</summary>
    IReadOnlyList<(DateTimeOffset At, string Kinds, string PortRanges, string? Action)> AlertsBetween(DateTimeOffset start, DateTimeOffset until);
}
