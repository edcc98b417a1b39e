using System.Buffers.Binary;

namespace PortSentinel.Decode;

/// <summary>Decodes the SCTP common header and the type of the first chunk (RFC 9260 §3).</summary>
internal static class Sctp
{
    private const int HeaderLength = TransportLayer.SctpHeaderLength;

    /// <summary>
    /// Decodes the SCTP common header at the start of <paramref name="segment"/>;
    /// <paramref name="payloadLength"/> is the IP payload length.
    /// </summary>
    internal static DecodeEvent Decode(ReadOnlySpan<byte> segment, int payloadLength, ref Packet packet)
    {
        if (segment.Length < HeaderLength)
        {
            return DecodeEvent.SctpTruncated;
        }
        packet.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment);
        packet.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]);
        // RFC 9260 §3.2: the chunks follow the common header; the first one's type tells an INIT
        // (a scan probe) from the rest. A packet with none, or one cut by the capture, reads as 0.
        packet.SctpChunkType = segment.Length > HeaderLength ? segment[HeaderLength] : (byte)0;
        packet.PayloadLength = payloadLength - HeaderLength;
        packet.HasTransport = true;
        return DecodeEvent.Ok;
    }
}
