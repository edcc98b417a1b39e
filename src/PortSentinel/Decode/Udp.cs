using System.Buffers.Binary;

namespace PortSentinel.Decode;

/// <summary>Decodes a UDP header (RFC 768).</summary>
internal static class Udp
{
    private const int HeaderLength = TransportLayer.UdpHeaderLength;

    /// <summary>
    /// Decodes the UDP header at the start of <paramref name="segment"/>;
    /// <paramref name="payloadLength"/> is the IP payload length.
    /// </summary>
    internal static DecodeEvent Decode(ReadOnlySpan<byte> segment, int payloadLength, ref Packet packet)
    {
        if (segment.Length < HeaderLength)
        {
            return DecodeEvent.UdpTruncated;
        }
        // RFC 768: Length counts the 8-byte header and the data, and the datagram must fit in the
        // IP payload. In a first fragment it describes the whole datagram, which runs on into the
        // later fragments, so there only the lower bound holds.
        int length = BinaryPrimitives.ReadUInt16BigEndian(segment[4..]);
        if (length < HeaderLength || (length > payloadLength && !packet.IsFragment))
        {
            return DecodeEvent.UdpBadLength;
        }
        packet.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment);
        packet.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]);
        packet.PayloadLength = length - HeaderLength;
        packet.HasTransport = true;
        return DecodeEvent.Ok;
    }
}
