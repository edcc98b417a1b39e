using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>How the first contacts of a detection were answered.</summary>
public sealed record DetectionOutcomes(int Open, int Closed, int Unreachable, int Unanswered, int Dropped);

/// <summary>
/// A recognised scan: who, what kinds and shapes, what was probed, when, and the evidence. Emitted
/// rarely (when a source is first recognised, and once more when its scan ends), so it may allocate.
/// </summary>
public sealed record Detection
{
    /// <summary>The scanning source (an IPv6 prefix's first address when IPv6 aggregation is on).</summary>
    public required NetAddress Source { get; init; }

    public required ScanKinds Kinds { get; init; }

    /// <summary>Addresses probed, in address order (at most <see cref="DetectorOptions.MaxTargetsPerDetection"/>).</summary>
    public required IReadOnlyList<NetAddress> Targets { get; init; }

    /// <summary>Distinct addresses probed, including any beyond the kept list.</summary>
    public required int TargetCount { get; init; }

    /// <summary>Distinct ports probed (TCP, UDP and SCTP ports counted apart).</summary>
    public required int Ports { get; init; }

    /// <summary>Ports probed as ranges by protocol, e.g. "tcp 1-200,443; udp 53".</summary>
    public required string PortRanges { get; init; }

    /// <summary>Distinct IP protocol numbers probed by protocol scans.</summary>
    public required int Protocols { get; init; }

    /// <summary>First contacts (distinct probes) the source made.</summary>
    public required long Probes { get; init; }

    public required DateTimeOffset First { get; init; }

    public required DateTimeOffset Last { get; init; }

    /// <summary>What recognised the source first: trw, threshold, slow, ip-protocol or tripwire.</summary>
    public required string Trigger { get; init; }

    /// <summary>
    /// The TRW posterior probability that the source is a scanner (equal priors), raised to 0.9 when
    /// a count threshold fired and to 1 for a tripwire.
    /// </summary>
    public required double Confidence { get; init; }

    public required DetectionOutcomes Outcomes { get; init; }

    /// <summary>True for the report made when the scan ended; false for the early one.</summary>
    public required bool Final { get; init; }

    /// <summary>
    /// The source has shown it is at its address: it acknowledged a SYN-ACK sent to it (an ACK,
    /// data or a RST+ACK carrying its sequence number plus one), which a sender of forged packets
    /// never sees. A connect scan (nmap -sT) of an open port does; a SYN scan's bare RST does not.
    /// </summary>
    public bool Verified { get; init; }

    /// <summary>A contact with a port of the connect-mode trap at <paramref name="now"/>: a tripwire hit, whose one contact is the whole evidence.</summary>
    public static Detection Trapped(NetAddress source, NetAddress target, ushort port, byte protocol, DateTimeOffset now)
    {
        bool tcp = protocol == IpProtocol.Tcp;
        return new Detection
        {
            Source = source,
            Kinds = ScanKinds.Tripwire | (tcp ? ScanKinds.TcpConnect : ScanKinds.Udp),
            Targets = [target],
            TargetCount = 1,
            Ports = 1,
            PortRanges = $"{(tcp ? "tcp" : "udp")} {port}",
            Protocols = 0,
            Probes = 1,
            First = now,
            Last = now,
            Trigger = "trap",
            Confidence = 1,
            Outcomes = new DetectionOutcomes(tcp ? 1 : 0, 0, 0, tcp ? 0 : 1, 0),
            Final = true, // the alert is complete when raised
            Verified = tcp, // the trap accepted its connection: it completed a handshake
        };
    }
}

/// <summary>Receives detections from the detector, on the thread that calls <see cref="Detector.Process"/>.</summary>
public interface IDetectionSink
{
    /// <summary>
    /// <paramref name="source"/> is being recognised as a scanner: <see cref="Raised"/> follows, once
    /// its evidence is gathered. A sink that decides can start getting ready for it meanwhile.
    /// </summary>
    void Raising(NetAddress source)
    {
    }

    /// <summary>A source was just recognised as a scanner: evidence so far.</summary>
    void Raised(Detection detection);

    /// <summary>The source's scan ended (idle for <see cref="DetectorOptions.IdleSeconds"/>, or input ended): the whole evidence.</summary>
    void Closed(Detection detection);

    /// <summary>
    /// The source of a scan that goes on was just verified at its address
    /// (<see cref="Detection.Verified"/>), after it was raised: evidence so far. At most once per scan.
    /// </summary>
    void Verified(Detection detection)
    {
    }
}
