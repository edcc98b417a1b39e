using System.Buffers.Binary;
using PortSentinel.Decode;

namespace PortSentinel.Synthetic;

/// <summary>Which TCP options a synthetic segment carries.</summary>
internal enum TcpOptionSet : byte
{
    None,

    /// <summary>What a Linux connect() SYN carries: MSS, SACK-permitted, timestamps, NOP, window scale (20 bytes).</summary>
    LinuxSyn,

    /// <summary>NOP, NOP, timestamps (12 bytes): every segment of an established Linux connection.</summary>
    Timestamps,

    /// <summary>MSS alone (4 bytes): the raw SYN of nmap -sS.</summary>
    MssOnly,
}

/// <summary>
/// Builds Ethernet frames with IPv4 or IPv6 and TCP, UDP, ICMP or ICMPv6 into a caller's buffer,
/// with the length fields a real stack writes (IP total/payload length, UDP length, TCP data
/// offset) and the IPv4 header checksum; transport checksums are left zero. Payload bytes are never
/// materialised beyond the buffer: the frame is built as a capture with a snaplen would see it.
/// Every method returns the captured length and gives the length on the wire.
/// </summary>
internal static class FrameComposer
{
    public const int EthernetHeaderLength = 14;

    /// <summary>IEEE 802.3 minimum frame without the FCS, which captures do not include: shorter frames are padded.</summary>
    public const int MinimumFrameLength = 60;

    private const int Ipv4HeaderLength = 20;
    private const int Ipv6HeaderLength = 40;
    private const int TcpHeaderLength = 20;
    private const int UdpHeaderLength = 8;
    private const int IcmpHeaderLength = 8;

    private const ushort EtherTypeIpv4 = 0x0800;
    private const ushort EtherTypeIpv6 = 0x86DD;
    private const ushort EtherTypeArp = 0x0806;

    public static int OptionLength(TcpOptionSet options) => options switch
    {
        TcpOptionSet.LinuxSyn => 20,
        TcpOptionSet.Timestamps => 12,
        TcpOptionSet.MssOnly => 4,
        _ => 0,
    };

    /// <summary>A TCP segment carrying <paramref name="payload"/> bytes of data.</summary>
    public static int Tcp(
        Span<byte> frame, in NetAddress source, in NetAddress destination, byte ttl, ushort ipId,
        ushort sourcePort, ushort destinationPort, uint sequence, uint acknowledgment, TcpFlags flags,
        ushort window, TcpOptionSet options, uint tsValue, int payload, out int wireLength)
    {
        int tcpLength = TcpHeaderLength + OptionLength(options);
        int t = Ip(frame, source, destination, IpProtocol.Tcp, ttl, ipId, tcpLength + payload, dontFragment: true);
        Span<byte> tcp = frame[t..];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], (flags & TcpFlags.Ack) != 0 ? acknowledgment : 0);
        tcp[12] = (byte)((tcpLength / 4) << 4);
        tcp[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], window);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[16..], 0); // checksum and urgent pointer
        WriteOptions(tcp[TcpHeaderLength..], options, tsValue, (flags & TcpFlags.Ack) != 0 ? tsValue - 1 : 0);
        return Finish(frame, t + tcpLength, t + tcpLength + payload, out wireLength);
    }

    /// <summary>A UDP datagram with <paramref name="payload"/> bytes of data.</summary>
    public static int Udp(
        Span<byte> frame, in NetAddress source, in NetAddress destination, byte ttl, ushort ipId,
        ushort sourcePort, ushort destinationPort, int payload, out int wireLength)
    {
        int t = Ip(frame, source, destination, IpProtocol.Udp, ttl, ipId, UdpHeaderLength + payload, dontFragment: false);
        Span<byte> udp = frame[t..];
        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(UdpHeaderLength + payload));
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);
        return Finish(frame, t + UdpHeaderLength, t + UdpHeaderLength + payload, out wireLength);
    }

    /// <summary>
    /// An ICMP (IPv4) or ICMPv6 (IPv6) echo request or reply with <paramref name="payload"/> data
    /// bytes (56 for ping's default).
    /// </summary>
    public static int Echo(
        Span<byte> frame, in NetAddress source, in NetAddress destination, byte ttl, ushort ipId,
        bool reply, ushort identifier, ushort sequence, int payload, out int wireLength)
    {
        bool v6 = !source.IsV4;
        byte protocol = v6 ? IpProtocol.Ipv6Icmp : IpProtocol.Icmp;
        int t = Ip(frame, source, destination, protocol, ttl, ipId, IcmpHeaderLength + payload, dontFragment: false);
        Span<byte> icmp = frame[t..];
        // RFC 792: echo 8, echo reply 0; RFC 4443 §4: echo request 128, reply 129.
        icmp[0] = (v6, reply) switch
        {
            (false, false) => 8,
            (false, true) => 0,
            (true, false) => 128,
            (true, true) => 129,
        };
        icmp[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], identifier);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], sequence);
        return Finish(frame, t + IcmpHeaderLength, t + IcmpHeaderLength + payload, out wireLength);
    }

    /// <summary>
    /// The ICMP port unreachable (type 3 code 3; ICMPv6 type 1 code 4) that a closed UDP port
    /// sends back, quoting the probe's IP header and its first 8 bytes (RFC 792, RFC 4443 §3.1).
    /// <paramref name="probeSource"/> sent the probe to <paramref name="probeDestination"/>.
    /// </summary>
    public static int PortUnreachable(
        Span<byte> frame, in NetAddress probeSource, in NetAddress probeDestination, byte ttl, ushort ipId,
        byte probeTtl, ushort probeIpId, ushort probeSourcePort, ushort probeDestinationPort, int probePayload, out int wireLength)
    {
        bool v6 = !probeSource.IsV4;
        int quotedIp = v6 ? Ipv6HeaderLength : Ipv4HeaderLength;
        int quoted = quotedIp + UdpHeaderLength;
        byte protocol = v6 ? IpProtocol.Ipv6Icmp : IpProtocol.Icmp;
        int t = Ip(frame, probeDestination, probeSource, protocol, ttl, ipId, IcmpHeaderLength + quoted, dontFragment: false);
        Span<byte> icmp = frame[t..];
        icmp[0] = v6 ? (byte)1 : (byte)3;
        icmp[1] = v6 ? (byte)4 : (byte)3;
        BinaryPrimitives.WriteUInt32BigEndian(icmp[2..], 0); // checksum and the first half of "unused"
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], 0);
        Span<byte> original = icmp[IcmpHeaderLength..];
        int udpLength = UdpHeaderLength + probePayload;
        if (v6)
        {
            WriteIpv6Header(original, probeSource, probeDestination, IpProtocol.Udp, probeTtl, udpLength);
        }
        else
        {
            WriteIpv4Header(original, probeSource, probeDestination, IpProtocol.Udp, probeTtl, probeIpId, udpLength, dontFragment: false);
        }
        Span<byte> udp = original[quotedIp..];
        BinaryPrimitives.WriteUInt16BigEndian(udp, probeSourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], probeDestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)udpLength);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);
        int end = t + IcmpHeaderLength + quoted;
        return Finish(frame, end, end, out wireLength);
    }

    /// <summary>An ARP request (who-has, broadcast) or reply for IPv4 (RFC 826): not IP, so the decoder ignores it.</summary>
    public static int Arp(Span<byte> frame, in NetAddress sender, in NetAddress target, bool reply, out int wireLength)
    {
        if (reply)
        {
            WriteMac(frame, target);
        }
        else
        {
            frame[..6].Fill(0xFF);
        }
        WriteMac(frame[6..], sender);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], EtherTypeArp);
        Span<byte> arp = frame[EthernetHeaderLength..];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);              // hardware: Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], EtherTypeIpv4);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], reply ? (ushort)2 : (ushort)1);
        WriteMac(arp[8..], sender);
        BinaryPrimitives.WriteUInt32BigEndian(arp[14..], sender.V4);
        if (reply)
        {
            WriteMac(arp[18..], target);
        }
        else
        {
            arp.Slice(18, 6).Clear();
        }
        BinaryPrimitives.WriteUInt32BigEndian(arp[24..], target.V4);
        int end = EthernetHeaderLength + 28;
        return Finish(frame, end, end, out wireLength);
    }

    /// <summary>Ethernet and IP headers for a transport segment of <paramref name="transportLength"/> bytes; returns where the segment starts.</summary>
    private static int Ip(
        Span<byte> frame, in NetAddress source, in NetAddress destination, byte protocol, byte ttl, ushort ipId,
        int transportLength, bool dontFragment)
    {
        WriteMac(frame, destination);
        WriteMac(frame[6..], source);
        if (source.IsV4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame[12..], EtherTypeIpv4);
            WriteIpv4Header(frame[EthernetHeaderLength..], source, destination, protocol, ttl, ipId, transportLength, dontFragment);
            return EthernetHeaderLength + Ipv4HeaderLength;
        }
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], EtherTypeIpv6);
        WriteIpv6Header(frame[EthernetHeaderLength..], source, destination, protocol, ttl, transportLength);
        return EthernetHeaderLength + Ipv6HeaderLength;
    }

    private static void WriteIpv4Header(
        Span<byte> ip, in NetAddress source, in NetAddress destination, byte protocol, byte ttl, ushort ipId,
        int transportLength, bool dontFragment)
    {
        ip[0] = 0x45; // version 4, IHL 5 words
        ip[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Ipv4HeaderLength + transportLength));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], ipId);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], dontFragment ? (ushort)0x4000 : (ushort)0);
        ip[8] = ttl;
        ip[9] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], source.V4);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], destination.V4);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], HeaderChecksum(ip[..Ipv4HeaderLength]));
    }

    private static void WriteIpv6Header(
        Span<byte> ip, in NetAddress source, in NetAddress destination, byte nextHeader, byte hopLimit, int payloadLength)
    {
        // Version 6, traffic class 0, a flow label (RFC 6437) derived from the addresses.
        uint flowLabel = (uint)(source.Low ^ destination.Low) & 0xFFFFF;
        BinaryPrimitives.WriteUInt32BigEndian(ip, 0x6000_0000u | flowLabel);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)payloadLength);
        ip[6] = nextHeader;
        ip[7] = hopLimit;
        BinaryPrimitives.WriteUInt64BigEndian(ip[8..], source.High);
        BinaryPrimitives.WriteUInt64BigEndian(ip[16..], source.Low);
        BinaryPrimitives.WriteUInt64BigEndian(ip[24..], destination.High);
        BinaryPrimitives.WriteUInt64BigEndian(ip[32..], destination.Low);
    }

    private static void WriteOptions(Span<byte> options, TcpOptionSet set, uint tsValue, uint tsEcho)
    {
        switch (set)
        {
            case TcpOptionSet.LinuxSyn:
                options[0] = 2; // MSS (RFC 9293 §3.2)
                options[1] = 4;
                BinaryPrimitives.WriteUInt16BigEndian(options[2..], 1460);
                options[4] = 4; // SACK permitted (RFC 2018)
                options[5] = 2;
                WriteTimestamps(options[6..], tsValue, tsEcho);
                options[16] = 1; // NOP
                options[17] = 3; // window scale (RFC 7323 §2)
                options[18] = 3;
                options[19] = 7;
                break;
            case TcpOptionSet.Timestamps:
                options[0] = 1;
                options[1] = 1;
                WriteTimestamps(options[2..], tsValue, tsEcho);
                break;
            case TcpOptionSet.MssOnly:
                options[0] = 2;
                options[1] = 4;
                BinaryPrimitives.WriteUInt16BigEndian(options[2..], 1460);
                break;
        }
    }

    private static void WriteTimestamps(Span<byte> option, uint value, uint echo)
    {
        option[0] = 8; // RFC 7323 §3
        option[1] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(option[2..], value);
        BinaryPrimitives.WriteUInt32BigEndian(option[6..], echo);
    }

    /// <summary>
    /// A locally administered unicast MAC (02:…) from the address's last 32 bits, so that each
    /// host keeps one MAC throughout the capture.
    /// </summary>
    private static void WriteMac(Span<byte> mac, in NetAddress address)
    {
        BinaryPrimitives.WriteUInt16BigEndian(mac, 0x0200);
        BinaryPrimitives.WriteUInt32BigEndian(mac[2..], (uint)address.Low);
    }

    /// <summary>
    /// Headers end at <paramref name="headerEnd"/> and the frame on the wire at
    /// <paramref name="frameEnd"/> (before padding): zero the captured payload and padding and
    /// return the captured length.
    /// </summary>
    private static int Finish(Span<byte> frame, int headerEnd, int frameEnd, out int wireLength)
    {
        wireLength = Math.Max(frameEnd, MinimumFrameLength);
        int captured = Math.Min(wireLength, frame.Length);
        if (captured > headerEnd)
        {
            frame[headerEnd..captured].Clear();
        }
        return captured;
    }

    /// <summary>The one's-complement sum of RFC 791 §3.1 over a header whose checksum field is zero.</summary>
    private static ushort HeaderChecksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (int i = 0; i < header.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        }
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }
}
