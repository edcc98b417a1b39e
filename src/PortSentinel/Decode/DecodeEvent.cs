namespace PortSentinel.Decode;

/// <summary>
/// The outcome of decoding one frame. <see cref="Ok"/> and the <c>Ignored…</c> values are normal
/// traffic; every other value names the first check a malformed frame failed, in the order the
/// decoder makes them (length, version, header length, total length, captured length).
/// </summary>
public enum DecodeEvent : byte
{
    Ok = 0,

    /// <summary>A frame that is not IP (ARP, LLDP, …): normal, not counted as malformed.</summary>
    IgnoredNotIp,

    /// <summary>The capture's link type is one the decoder does not read.</summary>
    IgnoredLinkType,

    LinkTruncated,
    VlanTooDeep,
    Ipv4Truncated,
    Ipv4BadVersion,
    Ipv4BadHeaderLength,
    Ipv4BadTotalLength,
    Ipv6Truncated,
    Ipv6BadVersion,
    Ipv6BadPayloadLength,
    Ipv6ExtensionTruncated,
    Ipv6ExtensionChainTooLong,
    TcpTruncated,
    TcpBadHeaderLength,
    TcpBadOption,
    UdpTruncated,
    UdpBadLength,
    IcmpTruncated,
    Icmpv6Truncated,
    SctpTruncated,
}

public static class DecodeEventExtensions
{
    public static bool IsMalformed(this DecodeEvent e) => e > DecodeEvent.IgnoredLinkType;

    /// <summary>A stable dotted name for logs and metrics, after Suricata's <c>decoder.ipv4.trunc_pkt</c>.</summary>
    public static string Name(this DecodeEvent e) => e switch
    {
        DecodeEvent.Ok => "ok",
        DecodeEvent.IgnoredNotIp => "ignored.not_ip",
        DecodeEvent.IgnoredLinkType => "ignored.link_type",
        DecodeEvent.LinkTruncated => "decoder.link.trunc",
        DecodeEvent.VlanTooDeep => "decoder.vlan.too_deep",
        DecodeEvent.Ipv4Truncated => "decoder.ipv4.trunc",
        DecodeEvent.Ipv4BadVersion => "decoder.ipv4.bad_version",
        DecodeEvent.Ipv4BadHeaderLength => "decoder.ipv4.bad_header_length",
        DecodeEvent.Ipv4BadTotalLength => "decoder.ipv4.bad_total_length",
        DecodeEvent.Ipv6Truncated => "decoder.ipv6.trunc",
        DecodeEvent.Ipv6BadVersion => "decoder.ipv6.bad_version",
        DecodeEvent.Ipv6BadPayloadLength => "decoder.ipv6.bad_payload_length",
        DecodeEvent.Ipv6ExtensionTruncated => "decoder.ipv6.ext_trunc",
        DecodeEvent.Ipv6ExtensionChainTooLong => "decoder.ipv6.ext_chain_too_long",
        DecodeEvent.TcpTruncated => "decoder.tcp.trunc",
        DecodeEvent.TcpBadHeaderLength => "decoder.tcp.bad_header_length",
        DecodeEvent.TcpBadOption => "decoder.tcp.bad_option",
        DecodeEvent.UdpTruncated => "decoder.udp.trunc",
        DecodeEvent.UdpBadLength => "decoder.udp.bad_length",
        DecodeEvent.IcmpTruncated => "decoder.icmp.trunc",
        DecodeEvent.Icmpv6Truncated => "decoder.icmpv6.trunc",
        DecodeEvent.SctpTruncated => "decoder.sctp.trunc",
        _ => "decoder.unknown",
    };
}

/// <summary>How many frames ended in each <see cref="DecodeEvent"/>. Single-writer (the capture thread).</summary>
public sealed class DecodeCounters
{
    private readonly long[] _counts = new long[Enum.GetValues<DecodeEvent>().Length];

    public void Add(DecodeEvent e) => _counts[(int)e]++;

    public long this[DecodeEvent e] => _counts[(int)e];

    public long Total
    {
        get
        {
            long sum = 0;
            foreach (long c in _counts)
            {
                sum += c;
            }
            return sum;
        }
    }

    public long Malformed
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _counts.Length; i++)
            {
                if (((DecodeEvent)i).IsMalformed())
                {
                    sum += _counts[i];
                }
            }
            return sum;
        }
    }

    /// <summary>Non-zero malformed counters by name, for reports.</summary>
    public IReadOnlyDictionary<string, long> MalformedByReason()
    {
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < _counts.Length; i++)
        {
            if (((DecodeEvent)i).IsMalformed() && _counts[i] > 0)
            {
                result[((DecodeEvent)i).Name()] = _counts[i];
            }
        }
        return result;
    }
}
