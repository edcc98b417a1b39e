using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Synthetic;

/// <summary>One scan planted in a synthetic capture: who, what, and the probe kind a detector should name.</summary>
public sealed record PlantedScan
{
    /// <summary>A short name, e.g. "tcp-syn 1000 ports".</summary>
    public required string Name { get; init; }

    /// <summary>The probe kind a detection of this scan must report (one of the probe kinds of <see cref="ScanKinds"/>).</summary>
    public required ScanKinds Kind { get; init; }

    public required NetAddress Source { get; init; }

    /// <summary>The targets, as people write them ("192.0.2.10", "192.0.2.0/24").</summary>
    public required string Targets { get; init; }

    /// <summary>Probes sent (answers not counted).</summary>
    public required int Probes { get; init; }

    /// <summary>Packets of the scan, probes and answers.</summary>
    public required int Packets { get; init; }

    /// <summary>Timestamp of the first and last packet of the scan, microseconds since the Unix epoch.</summary>
    public required long First { get; init; }

    public required long Last { get; init; }
}

/// <summary>What a <see cref="TrafficGenerator"/> wrote.</summary>
public sealed record TrafficSummary
{
    public required long Packets { get; init; }

    /// <summary>Bytes written: the file's length for a savefile, captured bytes otherwise.</summary>
    public required long Bytes { get; init; }

    public required int Seed { get; init; }

    public required TrafficMix Mix { get; init; }

    /// <summary>First and last timestamp, microseconds since the Unix epoch.</summary>
    public required long First { get; init; }

    public required long Last { get; init; }

    /// <summary>Ordinary traffic: TCP connections, DNS, ping, ARP.</summary>
    public required long BenignPackets { get; init; }

    public required long ScanPackets { get; init; }

    /// <summary>Spoofed-source SYNs and their answers: traffic that must not raise a detection.</summary>
    public required long NoisePackets { get; init; }

    /// <summary>Distinct spoofed source addresses.</summary>
    public required int NoiseSources { get; init; }

    public required long Ipv6Packets { get; init; }

    /// <summary>Frames that carry no IP packet (ARP).</summary>
    public required long NonIpPackets { get; init; }

    public required IReadOnlyList<PlantedScan> Scans { get; init; }

    /// <summary>The distinct sources of <see cref="Scans"/>: exactly the sources a detector should report.</summary>
    public IReadOnlyList<NetAddress> Scanners => Scans.Select(s => s.Source).Distinct().ToArray();
}
