using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>What one first contact was, judged from the packet that opened it.</summary>
internal enum ProbeKind : byte
{
    None,
    TcpSyn,
    TcpConnect,
    TcpFin,
    TcpXmas,
    TcpNull,
    TcpMaimon,
    TcpAck,
    TcpOther,
    Udp,
    SctpInit,
    IcmpEcho,
    IcmpTimestamp,
    IcmpMask,
}

internal static class ProbeKinds
{
    public const int Count = (int)ProbeKind.IcmpMask + 1;

    private const TcpFlags Core = TcpFlags.Fin | TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Psh | TcpFlags.Ack | TcpFlags.Urg;

    /// <summary>
    /// Kinds that no conforming TCP sends outside a connection (RFC 9293: after the SYN every
    /// segment carries ACK), so a single one is already evidence and needs no answer to judge.
    /// </summary>
    public static bool IsStealth(this ProbeKind kind) =>
        kind is ProbeKind.TcpFin or ProbeKind.TcpXmas or ProbeKind.TcpNull or ProbeKind.TcpOther;

    /// <summary>
    /// The kind of a TCP segment that opens no known connection, or <see cref="ProbeKind.None"/>
    /// for segments that belong to a connection (ACK-bearing ones are judged later by the answer).
    /// </summary>
    public static ProbeKind ClassifyTcp(TcpFlags flags, TcpOptionKinds options)
    {
        TcpFlags f = flags & Core;
        if ((f & TcpFlags.Syn) != 0)
        {
            if ((f & (TcpFlags.Fin | TcpFlags.Rst)) != 0)
            {
                return ProbeKind.TcpOther;
            }
            if ((f & TcpFlags.Ack) != 0)
            {
                return ProbeKind.None;
            }
            // A SYN from connect() carries the host stack's option set (SACK-permitted, timestamps,
            // window scale); the raw SYNs of nmap -sS, masscan or zmap carry at most an MSS.
            const TcpOptionKinds osStack = TcpOptionKinds.SackPermitted | TcpOptionKinds.Timestamp | TcpOptionKinds.WindowScale;
            return (options & osStack) != 0 ? ProbeKind.TcpConnect : ProbeKind.TcpSyn;
        }
        if ((f & TcpFlags.Rst) != 0)
        {
            return ProbeKind.None;
        }
        if ((f & TcpFlags.Ack) != 0)
        {
            return f switch
            {
                TcpFlags.Ack => ProbeKind.TcpAck,
                TcpFlags.Ack | TcpFlags.Fin => ProbeKind.TcpMaimon,
                _ => ProbeKind.None,
            };
        }
        return f switch
        {
            TcpFlags.None => ProbeKind.TcpNull,
            TcpFlags.Fin => ProbeKind.TcpFin,
            TcpFlags.Fin | TcpFlags.Psh | TcpFlags.Urg => ProbeKind.TcpXmas,
            _ => ProbeKind.TcpOther,
        };
    }

    public static ScanKinds ToScanKind(this ProbeKind kind) => kind switch
    {
        ProbeKind.TcpSyn => ScanKinds.TcpSyn,
        ProbeKind.TcpConnect => ScanKinds.TcpConnect,
        ProbeKind.TcpFin => ScanKinds.TcpFin,
        ProbeKind.TcpXmas => ScanKinds.TcpXmas,
        ProbeKind.TcpNull => ScanKinds.TcpNull,
        ProbeKind.TcpMaimon => ScanKinds.TcpMaimon,
        ProbeKind.TcpAck => ScanKinds.TcpAck,
        ProbeKind.TcpOther => ScanKinds.TcpOther,
        ProbeKind.Udp => ScanKinds.Udp,
        ProbeKind.SctpInit => ScanKinds.SctpInit,
        ProbeKind.IcmpEcho or ProbeKind.IcmpTimestamp or ProbeKind.IcmpMask => ScanKinds.IcmpSweep,
        _ => ScanKinds.None,
    };
}
