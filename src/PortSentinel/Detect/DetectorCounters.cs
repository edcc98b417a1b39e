namespace PortSentinel.Detect;

/// <summary>What the detector did, for health and metrics. Single-writer (the capture thread).</summary>
public sealed class DetectorCounters
{
    public long Packets { get; internal set; }

    /// <summary>First contacts: new (source, target, port or ICMP type, protocol) probes.</summary>
    public long FirstContacts { get; internal set; }

    /// <summary>Packets whose 5-tuple's contact was already final, which skipped the tables (<see cref="SettledCache"/>).</summary>
    public long SettledSkips { get; internal set; }

    /// <summary>UDP traceroute probes recognised and left out of detection.</summary>
    public long Traceroute { get; internal set; }

    public long Raised { get; internal set; }

    /// <summary>Walks that crossed their bound on evidence that named no kind, and started afresh instead of raising.</summary>
    public long Unnamed { get; internal set; }

    public long Closed { get; internal set; }
}
