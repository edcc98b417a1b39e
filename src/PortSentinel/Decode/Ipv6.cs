using System.Buffers.Binary;

namespace PortSentinel.Decode;

/// <summary>
/// Decodes an IPv6 header and its extension-header chain (RFC 8200) and hands the payload of
/// the last header on.
/// </summary>
internal static class Ipv6
{
    // RFC 8200 §3: the fixed header is 40 bytes and Payload Length counts what follows it.
    internal const int HeaderLength = 40;

    // RFC 8200 §4.1 expects each extension header at most once (destination options twice);
    // eight covers every legal chain, and caps the walk over a hostile one.
    private const int MaxExtensionHeaders = 8;

    private const byte HopByHop = 0;
    private const byte Routing = 43;
    private const byte Fragment = 44;
    private const byte AuthenticationHeader = 51;
    private const byte DestinationOptions = 60;
    private const byte Mobility = 135;
    private const byte HostIdentity = 139;
    private const byte Shim6 = 140;

    private const int FragmentHeaderLength = 8;

    /// <summary>
    /// Decodes the IPv6 header at the start of <paramref name="ip"/>. <paramref name="onWire"/>
    /// is how many bytes of the IP packet were on the wire (at least <c>ip.Length</c>).
    /// </summary>
    internal static DecodeEvent Decode(ReadOnlySpan<byte> ip, int onWire, ref Packet packet)
    {
        if (ip.Length < HeaderLength)
        {
            return DecodeEvent.Ipv6Truncated;
        }
        if (ip[0] >> 4 != 6)
        {
            return DecodeEvent.Ipv6BadVersion;
        }
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        byte nextHeader = ip[6];
        // A zero payload length with hop-by-hop options is a jumbogram (RFC 2675), which needs a
        // link MTU above 65,575 bytes; no capture this reads can hold one, so it is malformed.
        if (payloadLength > onWire - HeaderLength || (payloadLength == 0 && nextHeader == HopByHop))
        {
            return DecodeEvent.Ipv6BadPayloadLength;
        }

        packet.IpVersion = 6;
        packet.Ttl = ip[7];
        packet.Source = NetAddress.FromV6(ip[8..]);
        packet.Destination = NetAddress.FromV6(ip[24..]);
        packet.Protocol = nextHeader;
        ReadOnlySpan<byte> payload = ip[HeaderLength..Math.Min(ip.Length, HeaderLength + payloadLength)];
        return DecodeChain(payload, payloadLength, ref packet);
    }

    /// <summary>
    /// Walks the extension headers in <paramref name="payload"/> (captured, and cut at the
    /// payload length so link padding is never read as a header), starting from
    /// <see cref="Packet.Protocol"/>, which ends as the last next-header value.
    /// </summary>
    private static DecodeEvent DecodeChain(ReadOnlySpan<byte> payload, int payloadLength, ref Packet packet)
    {
        int offset = 0;
        for (int count = 0; IsExtension(packet.Protocol); count++)
        {
            if (count == MaxExtensionHeaders)
            {
                return DecodeEvent.Ipv6ExtensionChainTooLong;
            }
            ReadOnlySpan<byte> header = payload[offset..];
            int length = ExtensionLength(packet.Protocol, header);
            if (length == 0)
            {
                return DecodeEvent.Ipv6ExtensionTruncated;
            }
            bool isFragmentHeader = packet.Protocol == Fragment;
            packet.Protocol = header[0];
            offset += length;
            if (isFragmentHeader && !FirstFragment(header, ref packet))
            {
                // Only the fragment at offset 0 carries the upper-layer header (RFC 8200 §4.5).
                packet.PayloadLength = payloadLength - offset;
                return DecodeEvent.Ok;
            }
        }
        // ESP (50) and No Next Header (59) end the chain here too: neither is an extension
        // header, and the transport layer decodes neither.
        return TransportLayer.Decode(payload[offset..], payloadLength - offset, ref packet);
    }

    /// <summary>Records a fragment header; returns whether this is the fragment at offset 0.</summary>
    private static bool FirstFragment(ReadOnlySpan<byte> header, ref Packet packet)
    {
        // RFC 8200 §4.5: a 13-bit offset in 8-byte units, two reserved bits, then the M flag.
        ushort field = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
        bool first = field >> 3 == 0;
        packet.IsFragment = !first || (field & 1) != 0;
        return first;
    }

    internal static bool IsExtension(byte nextHeader) => nextHeader is
        HopByHop or Routing or Fragment or AuthenticationHeader or DestinationOptions
        or Mobility or HostIdentity or Shim6;

    /// <summary>
    /// The length of the extension header <paramref name="nextHeader"/> at the start of
    /// <paramref name="header"/>, or 0 when that many bytes are not there.
    /// </summary>
    internal static int ExtensionLength(byte nextHeader, ReadOnlySpan<byte> header)
    {
        if (header.Length < 2)
        {
            return 0;
        }
        int length = nextHeader switch
        {
            Fragment => FragmentHeaderLength,
            // RFC 4302 §2.2: AH counts 32-bit words, minus 2.
            AuthenticationHeader => (header[1] + 2) * 4,
            // RFC 8200 §4.3-4.6 and the RFCs after it: 8-octet units, not counting the first 8.
            _ => (header[1] + 1) * 8,
        };
        return length <= header.Length ? length : 0;
    }

    /// <summary>
    /// Reads the original header quoted in an ICMPv6 error into the <c>Embedded…</c> fields,
    /// skipping any extension headers that were quoted whole. The quoted payload length is not
    /// checked: the quote is cut to fit the minimum MTU (RFC 4443 §2.4 c).
    /// </summary>
    internal static void DecodeEmbedded(ReadOnlySpan<byte> original, ref Packet packet)
    {
        if (original.Length < HeaderLength || original[0] >> 4 != 6)
        {
            return;
        }
        packet.HasEmbedded = true;
        packet.EmbeddedSource = NetAddress.FromV6(original[8..]);
        packet.EmbeddedDestination = NetAddress.FromV6(original[24..]);
        byte nextHeader = original[6];
        ReadOnlySpan<byte> rest = original[HeaderLength..];
        for (int count = 0; IsExtension(nextHeader) && count < MaxExtensionHeaders; count++)
        {
            int length = ExtensionLength(nextHeader, rest);
            if (length == 0 || (nextHeader == Fragment && BinaryPrimitives.ReadUInt16BigEndian(rest[2..]) >> 3 != 0))
            {
                // Cut short, or a non-first fragment: the protocol is known no further.
                packet.EmbeddedProtocol = nextHeader;
                return;
            }
            nextHeader = rest[0];
            rest = rest[length..];
        }
        packet.EmbeddedProtocol = nextHeader;
        TransportLayer.DecodeEmbedded(rest, IpProtocol.Ipv6Icmp, ref packet);
    }
}
