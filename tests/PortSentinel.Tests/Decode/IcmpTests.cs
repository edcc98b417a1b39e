using System.Buffers.Binary;
using PortSentinel.Decode;
using static PortSentinel.Tests.Decode.DecodeHelper;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Decode;

public class IcmpTests
{
    private const string Router = "203.0.113.1";

    /// <summary>An ICMP message from the probed host back to the prober.</summary>
    private static byte[] Reply(IpPayload icmp) => Ethernet(Ipv4(V4Destination, V4Source, icmp));

    private static byte[] Probe(IpPayload transport) => Ipv4(V4Source, V4Destination, transport);

    [Fact]
    public void Echo_request_type_code_and_payload()
    {
        Packet packet = DecodeOk(Reply(IcmpEcho(0x1234, 1, new byte[56])));
        Assert.True(packet.HasTransport);
        Assert.Equal(IpProtocol.Icmp, packet.Protocol);
        Assert.Equal(8, packet.IcmpType);
        Assert.Equal(0, packet.IcmpCode);
        Assert.Equal(56, packet.PayloadLength);
        Assert.False(packet.HasEmbedded);
        Assert.Equal(0, packet.SourcePort);
    }

    [Fact]
    public void Port_unreachable_gives_the_udp_probe_it_answers()
    {
        Packet packet = DecodeOk(Reply(IcmpPortUnreachable(Probe(Udp(40123, 161, new byte[20])))));

        Assert.Equal(3, packet.IcmpType);
        Assert.Equal(3, packet.IcmpCode);
        Assert.True(packet.HasEmbedded);
        Assert.Equal(IpProtocol.Udp, packet.EmbeddedProtocol);
        Assert.Equal(Address(V4Source), packet.EmbeddedSource);
        Assert.Equal(Address(V4Destination), packet.EmbeddedDestination);
        Assert.True(packet.EmbeddedHasPorts);
        Assert.Equal(40123, packet.EmbeddedSourcePort);
        Assert.Equal(161, packet.EmbeddedDestinationPort);
        Assert.Equal(20 + 8, packet.PayloadLength);
    }

    [Theory]
    [InlineData(3, 13)]  // administratively prohibited: a filtered port
    [InlineData(4, 0)]   // source quench
    [InlineData(5, 1)]   // redirect
    [InlineData(11, 0)]  // time exceeded
    [InlineData(12, 0)]  // parameter problem
    public void Every_error_type_quotes_the_original(byte type, byte code)
    {
        Packet packet = DecodeOk(Ethernet(Ipv4(Router, V4Source, IcmpError(type, code, Probe(Tcp(40000, 25, TcpFlags.Syn))))));
        Assert.Equal(type, packet.IcmpType);
        Assert.Equal(code, packet.IcmpCode);
        Assert.True(packet.EmbeddedHasPorts);
        Assert.Equal(IpProtocol.Tcp, packet.EmbeddedProtocol);
        Assert.Equal(25, packet.EmbeddedDestinationPort);
    }

    [Fact]
    public void An_sctp_probe_is_quoted_with_its_ports()
    {
        Packet packet = DecodeOk(Reply(IcmpPortUnreachable(Probe(Sctp(5000, 3868)))));
        Assert.Equal(IpProtocol.Sctp, packet.EmbeddedProtocol);
        Assert.Equal(3868, packet.EmbeddedDestinationPort);
    }

    [Fact]
    public void A_quoted_echo_gives_its_type()
    {
        Packet packet = DecodeOk(Ethernet(Ipv4(Router, V4Source, IcmpError(11, 0, Probe(IcmpEcho(7, 1))))));
        Assert.True(packet.HasEmbedded);
        Assert.Equal(IpProtocol.Icmp, packet.EmbeddedProtocol);
        Assert.Equal(8, packet.EmbeddedIcmpType);
        Assert.False(packet.EmbeddedHasPorts);
    }

    [Fact]
    public void A_quote_of_the_ip_header_alone_gives_addresses_without_ports()
    {
        Packet packet = DecodeOk(Reply(IcmpError(3, 3, Probe(Udp(1, 2)), quoteLength: 20)));
        Assert.True(packet.HasEmbedded);
        Assert.False(packet.EmbeddedHasPorts);
        Assert.Equal(Address(V4Destination), packet.EmbeddedDestination);

        Packet sevenBytes = DecodeOk(Reply(IcmpError(3, 3, Probe(Udp(1, 2)), quoteLength: 27)));
        Assert.True(sevenBytes.HasEmbedded);
        Assert.False(sevenBytes.EmbeddedHasPorts);
    }

    [Fact]
    public void A_quote_that_does_not_decode_leaves_the_error_ok_without_embedded()
    {
        byte[] original = Probe(Udp(1, 2));
        for (int length = 0; length < Ipv4HeaderLength; length++)
        {
            Packet cut = DecodeOk(Reply(IcmpError(3, 3, original, quoteLength: length)));
            Assert.True(cut.HasTransport);
            Assert.False(cut.HasEmbedded);
        }

        byte[] notV4 = Probe(Udp(1, 2));
        notV4[0] = 0x65;
        Assert.False(DecodeOk(Reply(IcmpPortUnreachable(notV4))).HasEmbedded);

        byte[] shortIhl = Probe(Udp(1, 2));
        shortIhl[0] = 0x44;
        Assert.False(DecodeOk(Reply(IcmpPortUnreachable(shortIhl))).HasEmbedded);
    }

    [Fact]
    public void The_quoted_total_length_is_not_checked_and_options_are_skipped()
    {
        byte[] original = Ipv4(V4Source, V4Destination, Udp(999, 123), options: [1, 1, 1, 0]);
        BinaryPrimitives.WriteUInt16BigEndian(original.AsSpan(2), 1500);
        Packet packet = DecodeOk(Reply(IcmpPortUnreachable(original)));
        Assert.Equal(999, packet.EmbeddedSourcePort);
        Assert.Equal(123, packet.EmbeddedDestinationPort);
    }

    [Fact]
    public void A_quoted_later_fragment_gives_no_ports()
    {
        byte[] original = Ipv4(V4Source, V4Destination, Payload(IpProtocol.Udp, new byte[16]), fragmentOffset: 1480);
        Packet packet = DecodeOk(Reply(IcmpError(11, 1, original)));
        Assert.True(packet.HasEmbedded);
        Assert.False(packet.EmbeddedHasPorts);
    }

    [Fact]
    public void Only_errors_are_read_for_a_quote()
    {
        // An echo whose data happens to look like an IPv4 header and UDP ports.
        Packet packet = DecodeOk(Reply(IcmpEcho(1, 1, Probe(Udp(1, 2)))));
        Assert.False(packet.HasEmbedded);
    }

    [Fact]
    public void A_message_shorter_than_8_bytes_is_truncated()
    {
        for (int length = 0; length < 8; length++)
        {
            DecodeFails(DecodeEvent.IcmpTruncated, Reply(Payload(IpProtocol.Icmp, IcmpEcho(1, 1).Bytes[..length])));
        }
    }
}
