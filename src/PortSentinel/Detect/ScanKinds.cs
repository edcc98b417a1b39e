namespace PortSentinel.Detect;

/// <summary>
/// What a detection reports: the probe kinds a source sent and the shapes its probing took. The
/// names (<see cref="ScanKindNames"/>) are part of the output format and do not change.
/// </summary>
[Flags]
public enum ScanKinds : uint
{
    None = 0,
    TcpSyn = 1 << 0,
    TcpConnect = 1 << 1,
    TcpFin = 1 << 2,
    TcpXmas = 1 << 3,
    TcpNull = 1 << 4,
    TcpMaimon = 1 << 5,
    TcpAck = 1 << 6,
    TcpOther = 1 << 7,
    Udp = 1 << 8,
    SctpInit = 1 << 9,
    IpProtocol = 1 << 10,
    IcmpSweep = 1 << 11,
    TcpPingSweep = 1 << 12,
    Vertical = 1 << 16,
    Horizontal = 1 << 17,
    Block = 1 << 18,
    Slow = 1 << 19,
    Distributed = 1 << 20,
    Tripwire = 1 << 21,
}

public static class ScanKindNames
{
    private static readonly (ScanKinds Kind, string Name)[] _names =
    [
        (ScanKinds.TcpSyn, "tcp-syn"),
        (ScanKinds.TcpConnect, "tcp-connect"),
        (ScanKinds.TcpFin, "tcp-fin"),
        (ScanKinds.TcpXmas, "tcp-xmas"),
        (ScanKinds.TcpNull, "tcp-null"),
        (ScanKinds.TcpMaimon, "tcp-maimon"),
        (ScanKinds.TcpAck, "tcp-ack"),
        (ScanKinds.TcpOther, "tcp-other"),
        (ScanKinds.Udp, "udp"),
        (ScanKinds.SctpInit, "sctp-init"),
        (ScanKinds.IpProtocol, "ip-protocol"),
        (ScanKinds.IcmpSweep, "icmp-sweep"),
        (ScanKinds.TcpPingSweep, "tcp-ping-sweep"),
        (ScanKinds.Vertical, "vertical"),
        (ScanKinds.Horizontal, "horizontal"),
        (ScanKinds.Block, "block"),
        (ScanKinds.Slow, "slow"),
        (ScanKinds.Distributed, "distributed"),
        (ScanKinds.Tripwire, "tripwire"),
    ];

    /// <summary>The names of the kinds set in <paramref name="kinds"/>, probe kinds first, then shapes.</summary>
    public static string[] Names(ScanKinds kinds)
    {
        var result = new List<string>();
        foreach (var (kind, name) in _names)
        {
            if ((kinds & kind) != 0)
            {
                result.Add(name);
            }
        }
        return [.. result];
    }

    public static bool TryParse(string name, out ScanKinds kind)
    {
        foreach (var (k, n) in _names)
        {
            if (n == name)
            {
                kind = k;
                return true;
            }
        }
        kind = ScanKinds.None;
        return false;
    }

    public static IEnumerable<string> All => _names.Select(n => n.Name);
}
