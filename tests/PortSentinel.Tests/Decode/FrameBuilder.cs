using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using PortSentinel.Decode;

namespace PortSentinel.Tests.Decode;

/// <summary>A transport message (or any other IP payload) and the protocol number that carries it.</summary>
public sealed record IpPayload(byte Protocol, byte[] Bytes);

/// <summary>
/// An IPv6 extension header. <see cref="Bytes"/> is the whole header; its first byte (Next
/// Header) is filled in when <see cref="FrameBuilder.Ipv6"/> chains it.
/// </summary>
public sealed record Ipv6Extension(byte Type, byte[] Bytes);

/// <summary>One 802.1Q/802.1ad tag: the TPID that announces it and the VLAN id.</summary>
public readonly record struct VlanTag(ushort Tpid, ushort VlanId)
{
    public static VlanTag Dot1Q(ushort vlanId) => new(FrameBuilder.EtherTypeVlan, vlanId);

    public static VlanTag Dot1ad(ushort vlanId) => new(FrameBuilder.EtherTypeQinQ, vlanId);
}

/// <summary>
/// Builds well-formed frames for tests, inside out:
/// <c>Ethernet(Ipv4("192.0.2.1", "198.51.100.7", Tcp(40000, 80, TcpFlags.Syn)))</c>.
/// Lengths and checksums (IPv4 header, TCP, UDP, ICMP, ICMPv6 and SCTP's CRC32c) are filled in,
/// so a frame written to a pcap also reads cleanly in Wireshark. Transport checksums are left at
/// 0 in fragments, whose datagram is not all there.
/// </summary>
public static class FrameBuilder
{
    public const ushort EtherTypeIpv4 = 0x0800;
    public const ushort EtherTypeArp = 0x0806;
    public const ushort EtherTypeIpv6 = 0x86DD;
    public const ushort EtherTypeVlan = 0x8100;
    public const ushort EtherTypeQinQ = 0x88A8;
    public const ushort EtherTypeQinQLegacy = 0x9100;

    /// <summary>Address families for <see cref="Null"/> and <see cref="Loop"/> headers.</summary>
    public const uint FamilyInet = 2;
    public const uint FamilyInet6NetBsd = 24;
    public const uint FamilyInet6FreeBsd = 28;
    public const uint FamilyInet6Darwin = 30;

    public const byte SctpInit = 1;
    public const byte SctpAbort = 6;

    /// <summary>The shortest Ethernet frame without its FCS; shorter frames are padded to it.</summary>
    public const int EthernetMinimumLength = 60;

    public const int EthernetHeaderLength = 14;
    public const int Ipv4HeaderLength = 20;
    public const int Ipv6HeaderLength = 40;
    public const int TcpHeaderLength = 20;
    public const int UdpHeaderLength = 8;

    private static readonly byte[] _destinationMac = [0x02, 0x00, 0x5E, 0x00, 0x00, 0x02];
    private static readonly byte[] _sourceMac = [0x02, 0x00, 0x5E, 0x00, 0x00, 0x01];

    // ---- Link layer ----

    /// <summary>
    /// An Ethernet II frame. The EtherType defaults to IPv4 or IPv6 by the payload's version
    /// nibble; <paramref name="tags"/> are inserted outermost first.
    /// </summary>
    public static byte[] Ethernet(byte[] payload, ushort? etherType = null, params VlanTag[] tags)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(tags);
        var frame = new byte[12 + (tags.Length * 4) + 2 + payload.Length];
        _destinationMac.CopyTo(frame, 0);
        _sourceMac.CopyTo(frame, 6);
        int offset = 12;
        foreach (VlanTag tag in tags)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), tag.Tpid);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset + 2), (ushort)(tag.VlanId & 0x0FFF));
            offset += 4;
        }
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), etherType ?? EtherTypeFor(payload));
        payload.CopyTo(frame, offset + 2);
        return frame;
    }

    /// <summary>Pads a frame with zeros to <paramref name="length"/>, as an Ethernet sender does.</summary>
    public static byte[] Pad(byte[] frame, int length = EthernetMinimumLength)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Length >= length)
        {
            return frame;
        }
        var padded = new byte[length];
        frame.CopyTo(padded, 0);
        return padded;
    }

    /// <summary>A Linux cooked (SLL) frame: 16-byte header, protocol at offset 14.</summary>
    /// <param name="packetType">0 to us, 4 sent by us (packet(7)).</param>
    public static byte[] LinuxSll(byte[] payload, ushort? protocol = null, ushort packetType = 0)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var frame = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, packetType);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), 1); // ARPHRD_ETHER
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), 6);
        _sourceMac.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), protocol ?? EtherTypeFor(payload));
        payload.CopyTo(frame, 16);
        return frame;
    }

    /// <summary>A Linux cooked v2 (SLL2) frame: 20-byte header, protocol at offset 0.</summary>
    public static byte[] LinuxSll2(byte[] payload, ushort? protocol = null, byte packetType = 0, uint interfaceIndex = 2)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var frame = new byte[20 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, protocol ?? EtherTypeFor(payload));
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), interfaceIndex);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(8), 1); // ARPHRD_ETHER
        frame[10] = packetType;
        frame[11] = 6;
        _sourceMac.CopyTo(frame, 12);
        payload.CopyTo(frame, 20);
        return frame;
    }

    /// <summary>
    /// A BSD loopback (DLT_NULL) frame. The family is written in the capturing host's byte order:
    /// little-endian unless <paramref name="bigEndian"/>. It defaults to AF_INET or Darwin's AF_INET6.
    /// </summary>
    public static byte[] Null(byte[] payload, uint? family = null, bool bigEndian = false)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var frame = new byte[4 + payload.Length];
        uint value = family ?? FamilyFor(payload);
        if (bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(frame, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(frame, value);
        }
        payload.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>An OpenBSD loopback (DLT_LOOP) frame: the family in network byte order.</summary>
    public static byte[] Loop(byte[] payload, uint? family = null) =>
        Null(payload, family ?? (IpVersion(payload) == 6 ? FamilyInet6NetBsd : FamilyInet), bigEndian: true);

    public static ushort EtherTypeFor(byte[] ipPacket) => IpVersion(ipPacket) == 6 ? EtherTypeIpv6 : EtherTypeIpv4;

    private static uint FamilyFor(byte[] ipPacket) => IpVersion(ipPacket) == 6 ? FamilyInet6Darwin : FamilyInet;

    private static int IpVersion(byte[] ipPacket) => ipPacket.Length > 0 ? ipPacket[0] >> 4 : 0;

    // ---- Network layer ----

    /// <summary>
    /// An IPv4 packet. <paramref name="options"/> are padded to a 4-byte boundary with
    /// End-of-Options; <paramref name="fragmentOffset"/> is in bytes (a multiple of 8).
    /// </summary>
    public static byte[] Ipv4(
        string source,
        string destination,
        IpPayload payload,
        byte ttl = 64,
        byte[]? options = null,
        int fragmentOffset = 0,
        bool moreFragments = false,
        bool dontFragment = false,
        ushort identification = 0x1234)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (fragmentOffset % 8 != 0)
        {
            throw new ArgumentException("The fragment offset counts 8-byte units.", nameof(fragmentOffset));
        }
        int optionsLength = Align4(options?.Length ?? 0);
        int headerLength = Ipv4HeaderLength + optionsLength;
        var packet = new byte[headerLength + payload.Bytes.Length];
        packet[0] = (byte)(0x40 | (headerLength / 4));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), identification);
        int flags = (dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), (ushort)(flags | (fragmentOffset / 8)));
        packet[8] = ttl;
        packet[9] = payload.Protocol;
        V4(source).CopyTo(packet, 12);
        V4(destination).CopyTo(packet, 16);
        options?.CopyTo(packet, Ipv4HeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), Checksum(packet.AsSpan(0, headerLength)));
        payload.Bytes.CopyTo(packet, headerLength);
        if (fragmentOffset == 0 && !moreFragments)
        {
            WriteTransportChecksum(packet.AsSpan(headerLength), payload.Protocol, PseudoHeaderV4(packet, payload));
        }
        return packet;
    }

    /// <summary>An IPv6 packet with <paramref name="extensions"/> chained in order before the payload.</summary>
    public static byte[] Ipv6(
        string source, string destination, IpPayload payload, byte hopLimit = 64, Ipv6Extension[]? extensions = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        extensions ??= [];
        int extensionLength = 0;
        foreach (Ipv6Extension extension in extensions)
        {
            extensionLength += extension.Bytes.Length;
        }
        var packet = new byte[Ipv6HeaderLength + extensionLength + payload.Bytes.Length];
        packet[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)(packet.Length - Ipv6HeaderLength));
        packet[6] = extensions.Length > 0 ? extensions[0].Type : payload.Protocol;
        packet[7] = hopLimit;
        V6(source).CopyTo(packet, 8);
        V6(destination).CopyTo(packet, 24);
        int offset = Ipv6HeaderLength;
        for (int i = 0; i < extensions.Length; i++)
        {
            extensions[i].Bytes.CopyTo(packet, offset);
            packet[offset] = i + 1 < extensions.Length ? extensions[i + 1].Type : payload.Protocol;
            offset += extensions[i].Bytes.Length;
        }
        payload.Bytes.CopyTo(packet, offset);
        if (!Array.Exists(extensions, e => e.Type == 44))
        {
            WriteTransportChecksum(packet.AsSpan(offset), payload.Protocol, PseudoHeaderV6(packet, payload));
        }
        return packet;
    }

    /// <summary>Hop-by-hop options of <paramref name="length"/> bytes (a multiple of 8), filled with PadN.</summary>
    public static Ipv6Extension HopByHop(int length = 8) => new(0, OptionsHeader(length));

    /// <summary>Destination options of <paramref name="length"/> bytes (a multiple of 8), filled with PadN.</summary>
    public static Ipv6Extension DestinationOptions(int length = 8) => new(60, OptionsHeader(length));

    /// <summary>A routing header with no segments left (RFC 8200 §4.4), so every node ignores it.</summary>
    public static Ipv6Extension Routing(int length = 8)
    {
        byte[] bytes = OptionsHeader(length);
        bytes[2] = 0;
        bytes[3] = 0;
        return new Ipv6Extension(43, bytes);
    }

    /// <summary>A fragment header; <paramref name="offset"/> is in bytes (a multiple of 8).</summary>
    public static Ipv6Extension Ipv6Fragment(int offset, bool moreFragments, uint identification = 0xCAFE)
    {
        if (offset % 8 != 0)
        {
            throw new ArgumentException("The fragment offset counts 8-byte units.", nameof(offset));
        }
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)(offset | (moreFragments ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), identification);
        return new Ipv6Extension(44, bytes);
    }

    /// <summary>An authentication header (RFC 4302) with an ICV of <paramref name="icvLength"/> bytes.</summary>
    public static Ipv6Extension AuthenticationHeader(int icvLength = 12)
    {
        var bytes = new byte[12 + icvLength];
        bytes[1] = (byte)((bytes.Length / 4) - 2);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 0x100); // SPI
        return new Ipv6Extension(51, bytes);
    }

    /// <summary>Any other IP payload: GRE, ESP, an unknown protocol.</summary>
    public static IpPayload Payload(byte protocol, byte[] bytes) => new(protocol, bytes);

    /// <summary>An ESP packet (RFC 4303): SPI, sequence number and opaque bytes.</summary>
    public static IpPayload Esp(int encryptedLength = 16)
    {
        var bytes = new byte[8 + encryptedLength];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, 0x200);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 1);
        return new IpPayload(50, bytes);
    }

    // ---- Transport layer ----

    /// <summary>A TCP segment; <paramref name="options"/> are padded to a 4-byte boundary with End-of-Options.</summary>
    public static IpPayload Tcp(
        ushort sourcePort,
        ushort destinationPort,
        TcpFlags flags,
        uint sequence = 1000,
        uint acknowledgment = 0,
        ushort window = 1024,
        byte[]? options = null,
        byte[]? payload = null)
    {
        int headerLength = TcpHeaderLength + Align4(options?.Length ?? 0);
        var segment = new byte[headerLength + (payload?.Length ?? 0)];
        BinaryPrimitives.WriteUInt16BigEndian(segment, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(4), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(8), acknowledgment);
        segment[12] = (byte)(headerLength / 4 << 4);
        segment[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(14), window);
        options?.CopyTo(segment, TcpHeaderLength);
        payload?.CopyTo(segment, headerLength);
        return new IpPayload(IpProtocol.Tcp, segment);
    }

    /// <summary>Concatenates TCP options (unpadded; <see cref="Tcp"/> pads).</summary>
    public static byte[] TcpOptions(params byte[][] options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new List<byte>();
        foreach (byte[] option in options)
        {
            result.AddRange(option);
        }
        return [.. result];
    }

    public static byte[] TcpEol() => [0];

    public static byte[] TcpNop() => [1];

    public static byte[] TcpMss(ushort mss) => [2, 4, (byte)(mss >> 8), (byte)mss];

    public static byte[] TcpWindowScale(byte shift) => [3, 3, shift];

    public static byte[] TcpSackPermitted() => [4, 2];

    /// <summary>A SACK option with one block.</summary>
    public static byte[] TcpSack(uint left, uint right)
    {
        var option = new byte[10];
        option[0] = 5;
        option[1] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(2), left);
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(6), right);
        return option;
    }

    public static byte[] TcpTimestamp(uint value, uint echoReply)
    {
        var option = new byte[10];
        option[0] = 8;
        option[1] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(2), value);
        BinaryPrimitives.WriteUInt32BigEndian(option.AsSpan(6), echoReply);
        return option;
    }

    /// <summary>The 20 option bytes of a Linux SYN: MSS, SACK permitted, timestamp, NOP, window scale.</summary>
    public static byte[] LinuxSynOptions(ushort mss = 1460) =>
        TcpOptions(TcpMss(mss), TcpSackPermitted(), TcpTimestamp(0x0001_0000, 0), TcpNop(), TcpWindowScale(7));

    /// <summary>A UDP datagram.</summary>
    public static IpPayload Udp(ushort sourcePort, ushort destinationPort, byte[]? payload = null)
    {
        var datagram = new byte[UdpHeaderLength + (payload?.Length ?? 0)];
        BinaryPrimitives.WriteUInt16BigEndian(datagram, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(4), (ushort)datagram.Length);
        payload?.CopyTo(datagram, UdpHeaderLength);
        return new IpPayload(IpProtocol.Udp, datagram);
    }

    /// <summary>An ICMP message: type, code, checksum, the 4 type-specific bytes, then <paramref name="body"/>.</summary>
    public static IpPayload Icmp(byte type, byte code, uint restOfHeader = 0, byte[]? body = null) =>
        new(IpProtocol.Icmp, IcmpMessage(type, code, restOfHeader, body));

    public static IpPayload IcmpEcho(ushort identifier, ushort sequence, byte[]? data = null, bool reply = false) =>
        Icmp(reply ? (byte)0 : (byte)8, 0, (uint)(identifier << 16 | sequence), data);

    /// <summary>
    /// An ICMP error quoting <paramref name="original"/> (an IPv4 packet): by default its header
    /// and the first 8 bytes of its payload, as RFC 792 asks.
    /// </summary>
    public static IpPayload IcmpError(byte type, byte code, byte[] original, int? quoteLength = null, uint restOfHeader = 0)
    {
        ArgumentNullException.ThrowIfNull(original);
        int length = Math.Min(original.Length, quoteLength ?? ((original[0] & 0x0F) * 4) + 8);
        return Icmp(type, code, restOfHeader, original[..length]);
    }

    /// <summary>Destination unreachable, port unreachable (type 3, code 3).</summary>
    public static IpPayload IcmpPortUnreachable(byte[] original) => IcmpError(3, 3, original);

    /// <summary>An ICMPv6 message: type, code, checksum, the 4 type-specific bytes, then <paramref name="body"/>.</summary>
    public static IpPayload Icmpv6(byte type, byte code, uint restOfHeader = 0, byte[]? body = null) =>
        new(IpProtocol.Ipv6Icmp, IcmpMessage(type, code, restOfHeader, body));

    public static IpPayload Icmpv6Echo(ushort identifier, ushort sequence, byte[]? data = null, bool reply = false) =>
        Icmpv6(reply ? (byte)129 : (byte)128, 0, (uint)(identifier << 16 | sequence), data);

    /// <summary>
    /// An ICMPv6 error quoting <paramref name="original"/> (an IPv6 packet): by default as much as
    /// fits in the minimum MTU (RFC 4443 §2.4 c).
    /// </summary>
    public static IpPayload Icmpv6Error(byte type, byte code, byte[] original, int? quoteLength = null, uint restOfHeader = 0)
    {
        ArgumentNullException.ThrowIfNull(original);
        int length = Math.Min(original.Length, quoteLength ?? 1280 - Ipv6HeaderLength - 8);
        return Icmpv6(type, code, restOfHeader, original[..length]);
    }

    /// <summary>Destination unreachable, port unreachable (type 1, code 4).</summary>
    public static IpPayload Icmpv6PortUnreachable(byte[] original) => Icmpv6Error(1, 4, original);

    /// <summary>
    /// An SCTP packet: the common header and one chunk of <paramref name="chunkType"/> (a full
    /// INIT for <see cref="SctpInit"/>, a bare 4-byte chunk otherwise), or no chunk when null.
    /// </summary>
    public static IpPayload Sctp(ushort sourcePort, ushort destinationPort, byte? chunkType = SctpInit, uint verificationTag = 0)
    {
        int chunkLength = chunkType switch
        {
            null => 0,
            SctpInit => 20,
            _ => 4,
        };
        var packet = new byte[12 + chunkLength];
        BinaryPrimitives.WriteUInt16BigEndian(packet, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), verificationTag);
        if (chunkType is byte type)
        {
            packet[12] = type;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(14), (ushort)chunkLength);
        }
        if (chunkType == SctpInit)
        {
            BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(16), 0x1EE7_C0DE); // initiate tag
            BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(20), 65535);       // a_rwnd
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), 10);          // outbound streams
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(26), 2048);        // inbound streams
            BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(28), 1);           // initial TSN
        }
        // RFC 9260 Appendix A: CRC32c over the packet with the field zeroed, least significant byte first.
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(8), Crc32C(packet));
        return new IpPayload(IpProtocol.Sctp, packet);
    }

    // ---- Helpers ----

    private static byte[] IcmpMessage(byte type, byte code, uint restOfHeader, byte[]? body)
    {
        var message = new byte[8 + (body?.Length ?? 0)];
        message[0] = type;
        message[1] = code;
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), restOfHeader);
        body?.CopyTo(message, 8);
        return message;
    }

    private static byte[] OptionsHeader(int length)
    {
        if (length < 8 || length % 8 != 0)
        {
            throw new ArgumentException("Extension headers are a multiple of 8 bytes.", nameof(length));
        }
        var bytes = new byte[length];
        bytes[1] = (byte)((length / 8) - 1);
        bytes[2] = 1; // PadN over the rest (RFC 8200 §4.2)
        bytes[3] = (byte)(length - 4);
        return bytes;
    }

    private static int Align4(int length) => (length + 3) & ~3;

    private static byte[] V4(string address)
    {
        IPAddress parsed = IPAddress.Parse(address);
        return parsed.AddressFamily == AddressFamily.InterNetwork
            ? parsed.GetAddressBytes()
            : throw new ArgumentException($"{address} is not an IPv4 address.", nameof(address));
    }

    private static byte[] V6(string address)
    {
        IPAddress parsed = IPAddress.Parse(address);
        return parsed.AddressFamily == AddressFamily.InterNetworkV6
            ? parsed.GetAddressBytes()
            : throw new ArgumentException($"{address} is not an IPv6 address.", nameof(address));
    }

    private static byte[] PseudoHeaderV4(byte[] packet, IpPayload payload)
    {
        var pseudo = new byte[12];
        packet.AsSpan(12, 8).CopyTo(pseudo);
        pseudo[9] = payload.Protocol;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), (ushort)payload.Bytes.Length);
        return pseudo;
    }

    private static byte[] PseudoHeaderV6(byte[] packet, IpPayload payload)
    {
        var pseudo = new byte[40];
        packet.AsSpan(8, 32).CopyTo(pseudo);
        BinaryPrimitives.WriteUInt32BigEndian(pseudo.AsSpan(32), (uint)payload.Bytes.Length);
        pseudo[39] = payload.Protocol;
        return pseudo;
    }

    /// <summary>Fills the checksum of TCP, UDP, ICMP (no pseudo-header) and ICMPv6 in place.</summary>
    private static void WriteTransportChecksum(Span<byte> transport, byte protocol, byte[] pseudoHeader)
    {
        (int offset, bool pseudo) = protocol switch
        {
            IpProtocol.Tcp => (16, true),
            IpProtocol.Udp => (6, true),
            IpProtocol.Icmp => (2, false),
            IpProtocol.Ipv6Icmp => (2, true),
            _ => (-1, false),
        };
        if (offset < 0 || transport.Length < offset + 2)
        {
            return;
        }
        var data = new byte[(pseudo ? pseudoHeader.Length : 0) + transport.Length];
        if (pseudo)
        {
            pseudoHeader.CopyTo(data, 0);
        }
        transport.CopyTo(data.AsSpan(data.Length - transport.Length));
        ushort sum = Checksum(data);
        // RFC 768: a computed UDP checksum of 0 is sent as all ones (0 means "none").
        BinaryPrimitives.WriteUInt16BigEndian(transport[offset..], protocol == IpProtocol.Udp && sum == 0 ? (ushort)0xFFFF : sum);
    }

    /// <summary>The Internet checksum (RFC 1071).</summary>
    private static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }
        if (data.Length % 2 == 1)
        {
            sum += (uint)data[^1] << 8;
        }
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    /// <summary>CRC32c (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: tests need no speed.</summary>
    private static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFF_FFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1;
            }
        }
        return ~crc;
    }
}
