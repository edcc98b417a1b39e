using System.Buffers.Binary;

namespace PortSentinel.Decode;

/// <summary>Decodes an IPv4 header (RFC 791) and hands the first fragment's payload on.</summary>
internal static class Ipv4
{
    // RFC 791 §3.1: the IHL counts 32-bit words and the fixed header is 5 of them.
    internal const int MinHeaderLength = 20;

    private const ushort FragmentOffsetMask = 0x1FFF;
    private const ushort MoreFragmentsFlag = 0x2000;

    /// <summary>
    /// Decodes the IPv4 header at the start of <paramref name="ip"/>. <paramref name="onWire"/>
    /// is how many bytes of the IP packet were on the wire (at least <c>ip.Length</c>).
    /// </summary>
    internal static DecodeEvent Decode(ReadOnlySpan<byte> ip, int onWire, ref Packet packet)
    {
        if (ip.Length < MinHeaderLength)
        {
            return DecodeEvent.Ipv4Truncated;
        }
        if (ip[0] >> 4 != 4)
        {
            return DecodeEvent.Ipv4BadVersion;
        }
        int headerLength = (ip[0] & 0x0F) * 4;
        if (headerLength < MinHeaderLength)
        {
            return DecodeEvent.Ipv4BadHeaderLength;
        }
        if (ip.Length < headerLength)
        {
            return DecodeEvent.Ipv4Truncated;
        }
        // RFC 791: Total Length covers header and data. Bytes past it are link padding (Ethernet
        // pads to 60 bytes); a total length beyond the wire bytes claims data that never existed.
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (totalLength < headerLength || totalLength > onWire)
        {
            return DecodeEvent.Ipv4BadTotalLength;
        }

        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        int fragmentOffset = fragment & FragmentOffsetMask;
        packet.IpVersion = 4;
        packet.Ttl = ip[8];
        packet.Protocol = ip[9];
        packet.Source = NetAddress.FromV4(ip[12..]);
        packet.Destination = NetAddress.FromV4(ip[16..]);
        packet.IsFragment = fragmentOffset > 0 || (fragment & MoreFragmentsFlag) != 0;

        int payloadLength = totalLength - headerLength;
        if (fragmentOffset > 0)
        {
            // Only the fragment at offset 0 starts with the transport header (RFC 791 §2.3).
            packet.PayloadLength = payloadLength;
            return DecodeEvent.Ok;
        }
        // Options, if any, are skipped by the IHL; the transport sees only this packet's bytes.
        ReadOnlySpan<byte> segment = ip[headerLength..Math.Min(ip.Length, totalLength)];
        return TransportLayer.Decode(segment, payloadLength, ref packet);
    }

    /// <summary>
    /// Reads the original header quoted in an ICMP error into the <c>Embedded…</c> fields.
    /// Only what is needed for addresses is required; the quoted total length is not checked,
    /// because routers quote a truncated datagram (RFC 792 asks for the header and 64 bits).
    /// </summary>
    internal static void DecodeEmbedded(ReadOnlySpan<byte> original, ref Packet packet)
    {
        if (original.Length < MinHeaderLength || original[0] >> 4 != 4)
        {
            return;
        }
        int headerLength = (original[0] & 0x0F) * 4;
        if (headerLength < MinHeaderLength || original.Length < headerLength)
        {
            return;
        }
        packet.HasEmbedded = true;
        packet.EmbeddedProtocol = original[9];
        packet.EmbeddedSource = NetAddress.FromV4(original[12..]);
        packet.EmbeddedDestination = NetAddress.FromV4(original[16..]);
        bool firstFragment = (BinaryPrimitives.ReadUInt16BigEndian(original[6..]) & FragmentOffsetMask) == 0;
        if (firstFragment)
        {
            TransportLayer.DecodeEmbedded(original[headerLength..], IpProtocol.Icmp, ref packet);
        }
    }
}
