namespace PortSentinel.Decode;

/// <summary>Decodes an ICMPv6 message (RFC 4443) and, for errors, the header it quotes.</summary>
internal static class Icmpv6
{
    private const int HeaderLength = TransportLayer.Icmpv6HeaderLength;

    // RFC 4443 §3: error messages quote the original packet after 4 bytes that depend on the
    // type (unused, MTU or pointer).
    private const int QuoteOffset = 8;

    private const byte DestinationUnreachable = 1;
    private const byte ParameterProblem = 4;

    /// <summary>
    /// Decodes the ICMPv6 header at the start of <paramref name="segment"/>;
    /// <paramref name="payloadLength"/> is the payload length after the extension headers.
    /// <see cref="Packet.PayloadLength"/> is the message body after type, code and checksum.
    /// </summary>
    internal static DecodeEvent Decode(ReadOnlySpan<byte> segment, int payloadLength, ref Packet packet)
    {
        if (segment.Length < HeaderLength)
        {
            return DecodeEvent.Icmpv6Truncated;
        }
        byte type = segment[0];
        packet.IcmpType = type;
        packet.IcmpCode = segment[1];
        // RFC 4443 §2.1: types 0-127 are errors; 1-4 (unreachable, packet too big, time
        // exceeded, parameter problem) are the ones defined to quote the packet.
        if (type is >= DestinationUnreachable and <= ParameterProblem && segment.Length > QuoteOffset)
        {
            Ipv6.DecodeEmbedded(segment[QuoteOffset..], ref packet);
        }
        packet.PayloadLength = payloadLength - HeaderLength;
        packet.HasTransport = true;
        return DecodeEvent.Ok;
    }
}
