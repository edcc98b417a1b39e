namespace PortSentinel.Decode;

/// <summary>Decodes an ICMP message (RFC 792) and, for errors, the header it quotes.</summary>
internal static class Icmp
{
    private const int HeaderLength = TransportLayer.IcmpHeaderLength;

    private const byte DestinationUnreachable = 3;
    private const byte SourceQuench = 4;
    private const byte Redirect = 5;
    private const byte TimeExceeded = 11;
    private const byte ParameterProblem = 12;

    /// <summary>
    /// Decodes the ICMP header at the start of <paramref name="segment"/>;
    /// <paramref name="payloadLength"/> is the IP payload length.
    /// </summary>
    internal static DecodeEvent Decode(ReadOnlySpan<byte> segment, int payloadLength, ref Packet packet)
    {
        if (segment.Length < HeaderLength)
        {
            return DecodeEvent.IcmpTruncated;
        }
        byte type = segment[0];
        packet.IcmpType = type;
        packet.IcmpCode = segment[1];
        if (IsError(type))
        {
            // RFC 792: an error carries the original datagram's header after its 8-byte header.
            // One that does not decode only costs the Embedded… fields; the error itself is sound.
            Ipv4.DecodeEmbedded(segment[HeaderLength..], ref packet);
        }
        packet.PayloadLength = payloadLength - HeaderLength;
        packet.HasTransport = true;
        return DecodeEvent.Ok;
    }

    private static bool IsError(byte type) =>
        type is DestinationUnreachable or SourceQuench or Redirect or TimeExceeded or ParameterProblem;
}
