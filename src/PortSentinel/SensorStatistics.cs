namespace PortSentinel;

/// <summary>Whether the sensor captures on an interface now.</summary>
public enum InterfaceState
{
    /// <summary>A capture runs on it.</summary>
    Capturing,

    /// <summary>It is there but down, could not be captured on yet, or is named and not there yet: captured on as soon as it can be.</summary>
    Waiting,

    /// <summary>It was captured on and went away: captured on again if it comes back.</summary>
    Gone,
}

/// <summary>
/// One interface's state and counters since start, across every capture on it: what libpcap
/// received and lost, and what was decoded, by protocol. <see cref="Problem"/> says why it is not
/// captured on, when it is not.
/// </summary>
public sealed record InterfaceStatistics(string Device, InterfaceState State, long Received, long Dropped, long InterfaceDropped, long Tcp, long Udp, long Icmp, long Other, long Malformed, string? Problem);

/// <summary>
/// What the sensor has done since it started, read at one moment from any thread: the figures of
/// the dashboard's health panel and of /metrics. Counters only grow; <see cref="Latency"/> is
/// cumulative over <see cref="Respond.RespondCounters.LatencyBuckets"/>.
/// </summary>
public sealed record SensorStatistics(
    DateTimeOffset Started,
    IReadOnlyList<InterfaceStatistics> Interfaces,
    IReadOnlyDictionary<string, long> DetectionsByKind,
    long BansAdded,
    long FirewallErrors,
    long QueueOverflow,
    IReadOnlyList<(double UpperMs, long Count)> Latency,
    double LatencySumMs,
    long LatencyCount);
