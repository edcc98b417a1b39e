using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Tests;

/// <summary>Made-up detections for tests that feed the sensor directly.</summary>
internal static class Scans
{
    /// <summary>A finished SYN scan of <paramref name="ports"/> closed TCP ports (1 to N) on 192.0.2.2, recognised by TRW.</summary>
    public static Detection Vertical(string source, int ports, bool verified = true) => new()
    {
        Source = NetAddress.Parse(source),
        Kinds = ScanKinds.TcpSyn | ScanKinds.Vertical,
        Targets = [NetAddress.Parse("192.0.2.2")],
        TargetCount = 1,
        Ports = ports,
        PortRanges = $"tcp 1-{ports}",
        Protocols = 0,
        Probes = ports,
        First = DateTimeOffset.UtcNow.AddSeconds(-1),
        Last = DateTimeOffset.UtcNow,
        Trigger = "trw",
        Confidence = 1,
        Outcomes = new DetectionOutcomes(0, ports, 0, 0, 0),
        Final = true,
        Verified = verified,
    };
}
