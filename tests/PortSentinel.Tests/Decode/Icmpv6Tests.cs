using PortSentinel.Decode;
using static PortSentinel.Tests.Decode.DecodeHelper;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Decode;

public class Icmpv6Tests
{
    private const string Router = "2001:db8:ffff::1";

    private static byte[] Reply(IpPayload icmp) => Ethernet(Ipv6(V6Destination, V6Source, icmp));

    private static byte[] Probe(IpPayload transport, params Ipv6Extension[] extensions) =>
        Ipv6(V6Source, V6Destination, transport, extensions: extensions);

    [Fact]
    public void Echo_request_and_reply()
    {
        Packet request = DecodeOk(Reply(Icmpv6Echo(9, 1, new byte[32])));
        Assert.True(request.HasTransport);
        Assert.Equal(IpProtocol.Ipv6Icmp, request.Protocol);
        Assert.Equal(128, request.IcmpType);
        Assert.Equal(0, request.IcmpCode);
        Assert.Equal(4 + 32, request.PayloadLength);
        Assert.False(request.HasEmbedded);

        Assert.Equal(129, DecodeOk(Reply(Icmpv6Echo(9, 1, reply: true))).IcmpType);
    }

    [Fact]
    public void Port_unreachable_gives_the_udp_probe_it_answers()
    {
        Packet packet = DecodeOk(Reply(Icmpv6PortUnreachable(Probe(Udp(40500, 500, new byte[10])))));
        Assert.Equal(1, packet.IcmpType);
        Assert.Equal(4, packet.IcmpCode);
        Assert.True(packet.HasEmbedded);
        Assert.Equal(IpProtocol.Udp, packet.EmbeddedProtocol);
        Assert.Equal(Address(V6Source), packet.EmbeddedSource);
        Assert.Equal(Address(V6Destination), packet.EmbeddedDestination);
        Assert.True(packet.EmbeddedHasPorts);
        Assert.Equal(40500, packet.EmbeddedSourcePort);
        Assert.Equal(500, packet.EmbeddedDestinationPort);
    }

    [Theory]
    [InlineData(1, 1)] // administratively prohibited
    [InlineData(2, 0)] // packet too big
    [InlineData(3, 0)] // hop limit exceeded
    [InlineData(4, 1)] // parameter problem
    public void Every_error_type_quotes_the_original(byte type, byte code)
    {
        byte[] frame = Ethernet(Ipv6(Router, V6Source, Icmpv6Error(type, code, Probe(Tcp(41000, 993, TcpFlags.Syn)))));
        Packet packet = DecodeOk(frame);
        Assert.Equal(type, packet.IcmpType);
        Assert.Equal(IpProtocol.Tcp, packet.EmbeddedProtocol);
        Assert.Equal(993, packet.EmbeddedDestinationPort);
    }

    [Fact]
    public void Quoted_extension_headers_are_skipped()
    {
        Packet packet = DecodeOk(Reply(Icmpv6PortUnreachable(Probe(Udp(1, 5060), HopByHop(), DestinationOptions(16)))));
        Assert.Equal(IpProtocol.Udp, packet.EmbeddedProtocol);
        Assert.Equal(5060, packet.EmbeddedDestinationPort);

        Packet fragment = DecodeOk(Reply(Icmpv6PortUnreachable(Probe(Udp(1, 5060, new byte[8]), Ipv6Fragment(0, true)))));
        Assert.Equal(5060, fragment.EmbeddedDestinationPort);

        Packet later = DecodeOk(Reply(Icmpv6PortUnreachable(Probe(Payload(IpProtocol.Udp, new byte[16]), Ipv6Fragment(8, false)))));
        Assert.True(later.HasEmbedded);
        Assert.False(later.EmbeddedHasPorts);
        Assert.Equal(44, later.EmbeddedProtocol);

        Packet cut = DecodeOk(Reply(Icmpv6Error(1, 4, Probe(Udp(1, 2), DestinationOptions(16)), quoteLength: 48)));
        Assert.True(cut.HasEmbedded);
        Assert.False(cut.EmbeddedHasPorts);
    }

    [Fact]
    public void A_quoted_echo_gives_its_type()
    {
        Packet packet = DecodeOk(Ethernet(Ipv6(Router, V6Source, Icmpv6Error(3, 0, Probe(Icmpv6Echo(1, 1))))));
        Assert.Equal(IpProtocol.Ipv6Icmp, packet.EmbeddedProtocol);
        Assert.Equal(128, packet.EmbeddedIcmpType);
        Assert.False(packet.EmbeddedHasPorts);
    }

    [Fact]
    public void A_quote_shorter_than_the_ipv6_header_leaves_no_embedded()
    {
        byte[] original = Probe(Udp(1, 2));
        for (int length = 0; length < Ipv6HeaderLength; length++)
        {
            Packet packet = DecodeOk(Reply(Icmpv6Error(1, 4, original, quoteLength: length)));
            Assert.True(packet.HasTransport);
            Assert.False(packet.HasEmbedded);
        }
        byte[] notV6 = Probe(Udp(1, 2));
        notV6[0] = 0x45;
        Assert.False(DecodeOk(Reply(Icmpv6PortUnreachable(notV6))).HasEmbedded);
    }

    [Fact]
    public void Informational_messages_are_not_read_for_a_quote()
    {
        // Neighbour solicitation (135) carries a target address, not a quoted packet.
        Packet packet = DecodeOk(Reply(Icmpv6(135, 0, 0, Probe(Udp(1, 2)))));
        Assert.Equal(135, packet.IcmpType);
        Assert.False(packet.HasEmbedded);
    }

    [Fact]
    public void Four_bytes_are_enough_and_fewer_are_truncated()
    {
        byte[] message = Icmpv6(1, 4).Bytes;
        for (int length = 4; length <= message.Length; length++)
        {
            Packet packet = DecodeOk(Reply(Payload(IpProtocol.Ipv6Icmp, message[..length])));
            Assert.Equal(1, packet.IcmpType);
            Assert.Equal(4, packet.IcmpCode);
            Assert.False(packet.HasEmbedded);
        }
        for (int length = 0; length < 4; length++)
        {
            DecodeFails(DecodeEvent.Icmpv6Truncated, Reply(Payload(IpProtocol.Ipv6Icmp, message[..length])));
        }
    }
}
