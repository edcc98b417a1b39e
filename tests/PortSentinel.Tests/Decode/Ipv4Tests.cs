using System.Buffers.Binary;
using PortSentinel.Decode;
using static PortSentinel.Tests.Decode.DecodeHelper;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Decode;

public class Ipv4Tests
{
    private const int IpStart = EthernetHeaderLength;

    private static byte[] SynFrame(byte[]? options = null) =>
        Ethernet(Ipv4(V4Source, V4Destination, Tcp(51000, 443, TcpFlags.Syn), ttl: 57, options: options));

    [Fact]
    public void Every_ip_field_is_decoded_and_the_caller_fields_are_kept()
    {
        byte[] frame = SynFrame();
        var packet = new Packet { Timestamp = 42, WireLength = frame.Length };

        Assert.Equal(DecodeEvent.Ok, PacketDecoder.Decode(frame, LinkType.Ethernet, ref packet));

        Assert.Equal(42, packet.Timestamp);
        Assert.Equal(frame.Length, packet.WireLength);
        Assert.Equal(4, packet.IpVersion);
        Assert.Equal(Address(V4Source), packet.Source);
        Assert.Equal(Address(V4Destination), packet.Destination);
        Assert.True(packet.Source.IsV4);
        Assert.Equal(57, packet.Ttl);
        Assert.Equal(IpProtocol.Tcp, packet.Protocol);
        Assert.False(packet.IsFragment);
        Assert.True(packet.HasTransport);
    }

    [Fact]
    public void A_reused_packet_keeps_nothing_from_the_previous_frame()
    {
        var packet = new Packet { Timestamp = 1, WireLength = 0 };
        byte[] error = Ethernet(Ipv4(V4Destination, V4Source,
            IcmpPortUnreachable(Ipv4(V4Source, V4Destination, Udp(33434, 161, new byte[12])))));
        Assert.Equal(DecodeEvent.Ok, PacketDecoder.Decode(error, LinkType.Ethernet, ref packet));
        Assert.True(packet.HasEmbedded);

        packet.Timestamp = 2;
        packet.WireLength = 42;
        Assert.Equal(DecodeEvent.IgnoredNotIp, PacketDecoder.Decode(Ethernet(new byte[28], EtherTypeArp), LinkType.Ethernet, ref packet));

        Assert.Equal(new Packet { Timestamp = 2, WireLength = 42 }, packet);
    }

    [Fact]
    public void Options_are_skipped_by_the_header_length()
    {
        // NOP, Router Alert (RFC 2113), then a Record Route with room for 8 addresses: 40 bytes, IHL 15.
        byte[] recordRoute = new byte[35];
        recordRoute[0] = 7;
        recordRoute[1] = 35;
        recordRoute[2] = 4;
        byte[] options = [1, 0x94, 4, 0, 0, .. recordRoute];
        Assert.Equal(40, options.Length);
        Packet packet = DecodeOk(SynFrame(options));
        Assert.Equal(51000, packet.SourcePort);
        Assert.Equal(443, packet.DestinationPort);
        Assert.Equal(TcpFlags.Syn, packet.TcpFlags);
        Assert.Equal(0, packet.PayloadLength);

        Packet shortOptions = DecodeOk(SynFrame([1, 1, 1, 0]));
        Assert.Equal(443, shortOptions.DestinationPort);
    }

    [Fact]
    public void A_version_other_than_4_is_bad()
    {
        byte[] frame = SynFrame();
        frame[IpStart] = 0x65;
        DecodeFails(DecodeEvent.Ipv4BadVersion, frame);

        // An IPv6 packet behind the IPv4 EtherType.
        DecodeFails(DecodeEvent.Ipv4BadVersion, Ethernet(Ipv6(V6Source, V6Destination, Udp(1, 2)), EtherTypeIpv4));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void A_header_length_below_5_words_is_bad(int ihl)
    {
        byte[] frame = SynFrame();
        frame[IpStart] = (byte)(0x40 | ihl);
        DecodeFails(DecodeEvent.Ipv4BadHeaderLength, frame);
    }

    [Fact]
    public void A_header_shorter_than_20_or_than_its_ihl_is_truncated()
    {
        byte[] frame = SynFrame();
        for (int length = IpStart; length < IpStart + Ipv4HeaderLength; length++)
        {
            DecodeFails(DecodeEvent.Ipv4Truncated, frame.AsSpan(0, length), wireLength: frame.Length);
        }

        byte[] withOptions = SynFrame(new byte[40]);
        for (int length = IpStart + Ipv4HeaderLength; length < IpStart + 60; length++)
        {
            DecodeFails(DecodeEvent.Ipv4Truncated, withOptions.AsSpan(0, length), wireLength: withOptions.Length);
        }
    }

    [Fact]
    public void A_total_length_below_the_header_or_beyond_the_wire_is_bad()
    {
        byte[] frame = SynFrame(new byte[4]);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(IpStart + 2), 23);
        DecodeFails(DecodeEvent.Ipv4BadTotalLength, frame);

        frame = SynFrame();
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(IpStart + 2), (ushort)(frame.Length - IpStart + 1));
        DecodeFails(DecodeEvent.Ipv4BadTotalLength, frame);
    }

    [Fact]
    public void A_total_length_beyond_the_captured_bytes_but_within_the_wire_is_a_snaplen_not_an_error()
    {
        byte[] frame = Ethernet(Ipv4(V4Source, V4Destination, Tcp(51000, 443, TcpFlags.Ack | TcpFlags.Psh, payload: new byte[1400])));
        int headers = IpStart + Ipv4HeaderLength + TcpHeaderLength;
        Packet packet = DecodeOk(frame.AsSpan(0, headers + 10), wireLength: frame.Length);
        Assert.True(packet.HasTransport);
        Assert.Equal(1400, packet.PayloadLength);
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, packet.TcpFlags);
    }

    [Fact]
    public void The_first_fragment_carries_the_transport_header()
    {
        IpPayload datagram = Udp(5353, 53, new byte[200]);
        IpPayload firstPart = Payload(IpProtocol.Udp, datagram.Bytes[..104]);
        Packet packet = DecodeOk(Ethernet(Ipv4(V4Source, V4Destination, firstPart, moreFragments: true)));

        Assert.True(packet.IsFragment);
        Assert.True(packet.HasTransport);
        Assert.Equal(5353, packet.SourcePort);
        Assert.Equal(53, packet.DestinationPort);
        // The UDP length describes the whole datagram, which runs on past this fragment.
        Assert.Equal(200, packet.PayloadLength);
    }

    [Fact]
    public void Later_fragments_have_no_transport_header_and_are_ok()
    {
        byte[] rest = new byte[96];
        Packet middle = DecodeOk(Ethernet(Ipv4(V4Source, V4Destination, Payload(IpProtocol.Tcp, rest), fragmentOffset: 104, moreFragments: true)));
        Assert.True(middle.IsFragment);
        Assert.False(middle.HasTransport);
        Assert.Equal(IpProtocol.Tcp, middle.Protocol);
        Assert.Equal(0, middle.DestinationPort);
        Assert.Equal(96, middle.PayloadLength);

        // The last fragment has offset > 0 and no more-fragments flag; it looks like ports would
        // be at its start, but they must not be read.
        byte[] last = [0x01, 0xBB, 0x00, 0x50, .. new byte[12]];
        Packet tail = DecodeOk(Ethernet(Ipv4(V4Source, V4Destination, Payload(IpProtocol.Tcp, last), fragmentOffset: 1480)));
        Assert.True(tail.IsFragment);
        Assert.False(tail.HasTransport);
        Assert.Equal(0, tail.SourcePort);
    }

    [Theory]
    [InlineData(IpProtocol.Tcp, 19)]
    [InlineData(IpProtocol.Udp, 7)]
    [InlineData(IpProtocol.Icmp, 7)]
    [InlineData(IpProtocol.Sctp, 11)]
    [InlineData(IpProtocol.Tcp, 8)]
    public void A_first_fragment_too_short_for_the_fixed_header_is_ok_without_transport(byte protocol, int length)
    {
        Packet packet = DecodeOk(Ethernet(Ipv4(V4Source, V4Destination, Payload(protocol, new byte[length]), moreFragments: true)));
        Assert.True(packet.IsFragment);
        Assert.False(packet.HasTransport);
        Assert.Equal(protocol, packet.Protocol);
        Assert.Equal(length, packet.PayloadLength);
    }

    [Fact]
    public void Dont_fragment_is_not_a_fragment()
    {
        Packet packet = DecodeOk(Ethernet(Ipv4(V4Source, V4Destination, Tcp(1, 2, TcpFlags.Rst), dontFragment: true)));
        Assert.False(packet.IsFragment);
        Assert.True(packet.HasTransport);
    }

    [Theory]
    [InlineData(0)]   // hop-by-hop number, meaningless in IPv4
    [InlineData(47)]  // GRE
    [InlineData(50)]  // ESP
    [InlineData(58)]  // ICMPv6 inside IPv4 is not decoded as ICMP
    [InlineData(255)]
    public void Other_protocols_are_ok_without_transport(byte protocol)
    {
        Packet packet = DecodeOk(Ethernet(Ipv4(V4Source, V4Destination, Payload(protocol, new byte[24]))));
        Assert.Equal(protocol, packet.Protocol);
        Assert.False(packet.HasTransport);
        Assert.Equal(24, packet.PayloadLength);
        Assert.Equal(Address(V4Source), packet.Source);
    }
}
