using PortSentinel.Decide;
using PortSentinel.Detect;

namespace PortSentinel.Record;

/// <summary>
/// A detection as recorded: raised (with the decision taken) when the source was recognised,
/// completed with the whole evidence when its scan ended. <see cref="Ended"/> is null while the
/// scan goes on; <see cref="Raised"/> is null for one recorded only at its end.
/// </summary>
public sealed record AlertRecord(
    long Id,
    string Source,
    IReadOnlyList<string> Kinds,
    DateTimeOffset First,
    DateTimeOffset Last,
    DateTimeOffset? Raised,
    DateTimeOffset? Ended,
    int Targets,
    IReadOnlyList<string> TargetList,
    int Ports,
    string PortRanges,
    int Protocols,
    long Probes,
    string Trigger,
    double Confidence,
    string? Severity,
    string? Action,
    string? Reason,
    DetectionOutcomes Outcomes,
    bool Verified = false)
{
    /// <summary>The record of <paramref name="detection"/> as the store keeps it, decided or not, for those who watch it live.</summary>
    public static AlertRecord From(long id, Detection detection, Decision? decision, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(detection);
        return new(id, detection.Source.ToString(), ScanKindNames.Names(detection.Kinds), detection.First, detection.Last,
            decision is null ? null : at, detection.Final ? at : null, detection.TargetCount, [.. detection.Targets.Select(t => t.ToString())],
            detection.Ports, detection.PortRanges, detection.Protocols, detection.Probes, detection.Trigger, detection.Confidence,
            decision?.Severity.ToString().ToLowerInvariant(), decision?.Action.ToString().ToLowerInvariant(), decision?.Reason, detection.Outcomes, detection.Verified);
    }
}

/// <summary>Which alerts, newest first: every filter is optional; <see cref="Text"/> matches source, kinds, ports and reason.</summary>
public sealed record AlertQuery
{
    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }

    public string? Source { get; init; }

    public string? Kind { get; init; }

    public string? Severity { get; init; }

    public bool? Blocked { get; init; }

    public string? Text { get; init; }

    public int Offset { get; init; }

    public int Limit { get; init; } = 50;
}
