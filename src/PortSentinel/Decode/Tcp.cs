using System.Buffers.Binary;

namespace PortSentinel.Decode;

/// <summary>Decodes a TCP header and the options a scanner's fingerprint shows (RFC 9293).</summary>
internal static class Tcp
{
    private const int HeaderLength = TransportLayer.TcpHeaderLength;

    private const byte EndOfOptionList = 0;
    private const byte NoOperation = 1;
    private const byte MaximumSegmentSize = 2;
    private const byte WindowScale = 3;       // RFC 7323 §2
    private const byte SackPermitted = 4;     // RFC 2018 §2
    private const byte Sack = 5;              // RFC 2018 §3
    private const byte Timestamps = 8;        // RFC 7323 §3

    /// <summary>
    /// Decodes the TCP header at the start of <paramref name="segment"/>;
    /// <paramref name="payloadLength"/> is the IP payload length, which the header must fit in.
    /// </summary>
    internal static DecodeEvent Decode(ReadOnlySpan<byte> segment, int payloadLength, ref Packet packet)
    {
        if (segment.Length < HeaderLength)
        {
            return DecodeEvent.TcpTruncated;
        }
        // RFC 9293 §3.1: Data Offset counts 32-bit words, the fixed header is 5 of them, and the
        // header cannot be longer than the segment the IP layer says it carries.
        int headerLength = (segment[12] >> 4) * 4;
        if (headerLength < HeaderLength || headerLength > payloadLength)
        {
            return DecodeEvent.TcpBadHeaderLength;
        }
        // Options are read as far as they were captured: a snaplen may cut them, and what was
        // captured is still worth having.
        ReadOnlySpan<byte> options = segment[HeaderLength..Math.Min(segment.Length, headerLength)];
        DecodeEvent result = ReadOptions(options, headerLength - HeaderLength, out TcpOptionKinds kinds, out ushort mss);
        if (result != DecodeEvent.Ok)
        {
            return result;
        }

        packet.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment);
        packet.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]);
        packet.TcpSequence = BinaryPrimitives.ReadUInt32BigEndian(segment[4..]);
        packet.TcpAcknowledgment = BinaryPrimitives.ReadUInt32BigEndian(segment[8..]);
        // Byte 13 holds CWR..FIN; the NS bit (byte 12, RFC 3540, now historic) is left out.
        packet.TcpFlags = (TcpFlags)segment[13];
        packet.TcpWindow = BinaryPrimitives.ReadUInt16BigEndian(segment[14..]);
        packet.TcpOptions = kinds;
        packet.TcpMss = mss;
        packet.PayloadLength = payloadLength - headerLength;
        packet.HasTransport = true;
        return DecodeEvent.Ok;
    }

    /// <summary>
    /// Walks the option list (RFC 9293 §3.2): <paramref name="captured"/> holds the option bytes
    /// that were captured, <paramref name="declared"/> how many the data offset says there are.
    /// An option whose length is below 2 or runs past the header is
    /// <see cref="DecodeEvent.TcpBadOption"/>; one cut by the capture ends the walk quietly.
    /// </summary>
    private static DecodeEvent ReadOptions(
        ReadOnlySpan<byte> captured, int declared, out TcpOptionKinds kinds, out ushort mss)
    {
        kinds = TcpOptionKinds.None;
        mss = 0;
        int i = 0;
        while (i < captured.Length)
        {
            byte kind = captured[i];
            if (kind == EndOfOptionList)
            {
                break;
            }
            if (kind == NoOperation)
            {
                i++;
                continue;
            }
            if (i + 1 >= declared)
            {
                return DecodeEvent.TcpBadOption;
            }
            if (i + 1 >= captured.Length)
            {
                break;
            }
            int length = captured[i + 1];
            if (length < 2 || i + length > declared)
            {
                return DecodeEvent.TcpBadOption;
            }
            if (i + length > captured.Length)
            {
                break;
            }
            TcpOptionKinds option = Classify(kind, length);
            if (option == TcpOptionKinds.Mss)
            {
                mss = BinaryPrimitives.ReadUInt16BigEndian(captured[(i + 2)..]);
            }
            kinds |= option;
            i += length;
        }
        return DecodeEvent.Ok;
    }

    /// <summary>
    /// A known kind counts only with the length its RFC fixes; with another length it is not
    /// that option (and its value cannot be read), so it counts as <see cref="TcpOptionKinds.Other"/>.
    /// </summary>
    private static TcpOptionKinds Classify(byte kind, int length) => (kind, length) switch
    {
        (MaximumSegmentSize, 4) => TcpOptionKinds.Mss,
        (WindowScale, 3) => TcpOptionKinds.WindowScale,
        (SackPermitted, 2) => TcpOptionKinds.SackPermitted,
        (Sack, _) => TcpOptionKinds.Sack,
        (Timestamps, 10) => TcpOptionKinds.Timestamp,
        _ => TcpOptionKinds.Other,
    };
}
