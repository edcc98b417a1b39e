using System.Buffers.Binary;

namespace PortSentinel.Decode;

/// <summary>
/// Chooses the transport decoder for <see cref="Packet.Protocol"/> once the IP layer has found
/// where the transport header starts, and reads the transport header quoted in ICMP errors.
/// </summary>
internal static class TransportLayer
{
    // The fixed headers: RFC 9293 §3.1 (TCP), RFC 768 (UDP), RFC 792 (ICMP: type, code,
    // checksum and 4 bytes that depend on the type), RFC 4443 §2.1 (ICMPv6: type, code,
    // checksum), RFC 9260 §3.1 (SCTP common header).
    internal const int TcpHeaderLength = 20;
    internal const int UdpHeaderLength = 8;
    internal const int IcmpHeaderLength = 8;
    internal const int Icmpv6HeaderLength = 4;
    internal const int SctpHeaderLength = 12;

    // RFC 792 quotes "the internet header plus the first 64 bits of the original datagram's
    // data": enough for the ports of TCP, UDP and SCTP, which all start with them.
    private const int QuotedTransportLength = 8;

    /// <summary>
    /// Decodes the transport header at the start of <paramref name="segment"/> (the captured
    /// bytes, cut at the IP length) whose IP payload is <paramref name="payloadLength"/> bytes.
    /// Protocols other than TCP, UDP, ICMP (in IPv4), ICMPv6 (in IPv6) and SCTP are
    /// <see cref="DecodeEvent.Ok"/> with no transport.
    /// </summary>
    internal static DecodeEvent Decode(ReadOnlySpan<byte> segment, int payloadLength, ref Packet packet)
    {
        int fixedLength = FixedHeaderLength(packet.Protocol, packet.IpVersion);
        // A first fragment too short to hold the whole fixed header is legal, if odd (RFC 1858
        // tiny fragments): there is simply no transport header to read in this packet.
        if (fixedLength == 0 || (packet.IsFragment && payloadLength < fixedLength))
        {
            packet.PayloadLength = payloadLength;
            return DecodeEvent.Ok;
        }
        return packet.Protocol switch
        {
            IpProtocol.Tcp => Tcp.Decode(segment, payloadLength, ref packet),
            IpProtocol.Udp => Udp.Decode(segment, payloadLength, ref packet),
            IpProtocol.Icmp => Icmp.Decode(segment, payloadLength, ref packet),
            IpProtocol.Ipv6Icmp => Icmpv6.Decode(segment, payloadLength, ref packet),
            IpProtocol.Sctp => Sctp.Decode(segment, payloadLength, ref packet),
            _ => DecodeEvent.Ok, // not reached: every other protocol has no fixed length above
        };
    }

    private static int FixedHeaderLength(byte protocol, byte ipVersion) => protocol switch
    {
        IpProtocol.Tcp => TcpHeaderLength,
        IpProtocol.Udp => UdpHeaderLength,
        IpProtocol.Icmp when ipVersion == 4 => IcmpHeaderLength,
        IpProtocol.Ipv6Icmp when ipVersion == 6 => Icmpv6HeaderLength,
        IpProtocol.Sctp => SctpHeaderLength,
        _ => 0,
    };

    /// <summary>
    /// Reads the start of the transport header quoted in an ICMP or ICMPv6 error: the ports of
    /// TCP, UDP or SCTP, or the type of an ICMP message of family <paramref name="icmpProtocol"/>.
    /// </summary>
    internal static void DecodeEmbedded(ReadOnlySpan<byte> transport, byte icmpProtocol, ref Packet packet)
    {
        byte protocol = packet.EmbeddedProtocol;
        if (protocol == icmpProtocol && transport.Length > 0)
        {
            packet.EmbeddedIcmpType = transport[0];
        }
        else if (protocol is IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Sctp
            && transport.Length >= QuotedTransportLength)
        {
            packet.EmbeddedSourcePort = BinaryPrimitives.ReadUInt16BigEndian(transport);
            packet.EmbeddedDestinationPort = BinaryPrimitives.ReadUInt16BigEndian(transport[2..]);
            packet.EmbeddedHasPorts = true;
        }
    }
}
