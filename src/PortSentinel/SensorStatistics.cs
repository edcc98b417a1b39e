namespace PortSentinel;

/// <summary>One capture's counters since start: what libpcap received and lost, and what was decoded, by protocol.</summary>
public sealed record InterfaceStatistics(string Device, long Received, long Dropped, long InterfaceDropped, long Tcp, long Udp, long Icmp, long Other, long Malformed);

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
