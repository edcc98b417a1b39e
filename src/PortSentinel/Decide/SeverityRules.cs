using PortSentinel.Detect;

namespace PortSentinel.Decide;

/// <summary>
/// Severity from what a detection shows. Starting points: a sweep is reconnaissance of who is
/// there (low); a port scan looks for services (medium); probes no conforming stack sends
/// (FIN, XMAS, NULL, Maimon, other illegal flags) are deliberate evasion (high); a tripwire
/// is critical. Each of these raises it one step: breadth (1,000 ports or 256 hosts), speed (100
/// probes a second or more), and a repeat offence.
/// </summary>
public static class SeverityRules
{
    private const ScanKinds Evasive = ScanKinds.TcpFin | ScanKinds.TcpXmas | ScanKinds.TcpNull | ScanKinds.TcpMaimon | ScanKinds.TcpOther;

    private const ScanKinds PortScans = ScanKinds.TcpSyn | ScanKinds.TcpConnect | ScanKinds.TcpAck | ScanKinds.Udp
        | ScanKinds.SctpInit | ScanKinds.IpProtocol | ScanKinds.Vertical | ScanKinds.Block | ScanKinds.Slow | ScanKinds.Distributed;

    public static Severity Of(Detection detection, int previousOffences)
    {
        ArgumentNullException.ThrowIfNull(detection);
        if ((detection.Kinds & ScanKinds.Tripwire) != 0)
        {
            return Severity.Critical;
        }
        int level = (detection.Kinds & Evasive) != 0 ? (int)Severity.High
            : (detection.Kinds & PortScans) != 0 ? (int)Severity.Medium
            : (int)Severity.Low;
        if (detection.Ports >= 1000 || detection.TargetCount >= 256)
        {
            level++;
        }
        double seconds = Math.Max((detection.Last - detection.First).TotalSeconds, 0.001);
        if (detection.Probes >= 100 && detection.Probes / seconds >= 100)
        {
            level++;
        }
        if (previousOffences > 0)
        {
            level++;
        }
        return (Severity)Math.Min(level, (int)Severity.Critical);
    }
}
