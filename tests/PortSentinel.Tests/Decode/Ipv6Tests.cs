using System.Buffers.Binary;
using PortSentinel.Decode;
using static PortSentinel.Tests.Decode.DecodeHelper;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Decode;

public class Ipv6Tests
{
    private const int IpStart = EthernetHeaderLength;

    private static byte[] Frame(IpPayload payload, params Ipv6Extension[] extensions) =>
        Ethernet(Ipv6(V6Source, V6Destination, payload, hopLimit: 61, extensions: extensions));

    [Fact]
    public void Every_ip_field_is_decoded()
    {
        Packet packet = DecodeOk(Frame(Tcp(52000, 8080, TcpFlags.Syn)));
        Assert.Equal(6, packet.IpVersion);
        Assert.Equal(Address(V6Source), packet.Source);
        Assert.Equal(Address(V6Destination), packet.Destination);
        Assert.False(packet.Source.IsV4);
        Assert.Equal(61, packet.Ttl);
        Assert.Equal(IpProtocol.Tcp, packet.Protocol);
        Assert.False(packet.IsFragment);
        Assert.True(packet.HasTransport);
        Assert.Equal(8080, packet.DestinationPort);
    }

    [Fact]
    public void Hop_by_hop_then_first_fragment_reaches_the_transport_header()
    {
        IpPayload datagram = Udp(40001, 53, new byte[300]);
        IpPayload firstPart = Payload(IpProtocol.Udp, datagram.Bytes[..160]);
        Packet packet = DecodeOk(Frame(firstPart, HopByHop(), Ipv6Fragment(0, moreFragments: true)));

        Assert.Equal(IpProtocol.Udp, packet.Protocol);
        Assert.True(packet.IsFragment);
        Assert.True(packet.HasTransport);
        Assert.Equal(40001, packet.SourcePort);
        Assert.Equal(53, packet.DestinationPort);
        Assert.Equal(300, packet.PayloadLength);
    }

    [Fact]
    public void A_later_fragment_stops_the_chain_without_transport()
    {
        Packet packet = DecodeOk(Frame(Payload(IpProtocol.Tcp, new byte[64]), HopByHop(), Ipv6Fragment(1232, moreFragments: true)));
        Assert.Equal(IpProtocol.Tcp, packet.Protocol);
        Assert.True(packet.IsFragment);
        Assert.False(packet.HasTransport);
        Assert.Equal(64, packet.PayloadLength);

        Packet last = DecodeOk(Frame(Payload(IpProtocol.Tcp, new byte[64]), Ipv6Fragment(1232, moreFragments: false)));
        Assert.True(last.IsFragment);
        Assert.False(last.HasTransport);
    }

    [Fact]
    public void An_atomic_fragment_is_not_a_fragment()
    {
        // RFC 6946: offset 0 and no more fragments; the whole datagram is here.
        Packet packet = DecodeOk(Frame(Tcp(1, 2, TcpFlags.Syn), Ipv6Fragment(0, moreFragments: false)));
        Assert.False(packet.IsFragment);
        Assert.True(packet.HasTransport);
    }

    [Fact]
    public void A_first_fragment_too_short_for_the_fixed_header_is_ok_without_transport()
    {
        Packet packet = DecodeOk(Frame(Payload(IpProtocol.Tcp, new byte[16]), Ipv6Fragment(0, moreFragments: true)));
        Assert.True(packet.IsFragment);
        Assert.False(packet.HasTransport);
        Assert.Equal(16, packet.PayloadLength);
    }

    [Fact]
    public void Every_known_extension_header_is_skipped()
    {
        Ipv6Extension mobility = new(135, [0, 0, 0, 0, 0, 0, 0, 0]);
        Ipv6Extension hostIdentity = new(139, [0, 1, .. new byte[14]]);
        Ipv6Extension shim6 = new(140, new byte[8]);
        Packet packet = DecodeOk(Frame(
            Udp(7, 9),
            HopByHop(16), DestinationOptions(), Routing(24), AuthenticationHeader(), mobility, hostIdentity, shim6, DestinationOptions()));
        Assert.Equal(IpProtocol.Udp, packet.Protocol);
        Assert.True(packet.HasTransport);
        Assert.Equal(9, packet.DestinationPort);
    }

    [Fact]
    public void Nine_extension_headers_are_too_many()
    {
        var eight = new Ipv6Extension[8];
        Array.Fill(eight, DestinationOptions());
        Assert.True(DecodeOk(Frame(Udp(7, 9), eight)).HasTransport);

        var nine = new Ipv6Extension[9];
        Array.Fill(nine, DestinationOptions());
        DecodeFails(DecodeEvent.Ipv6ExtensionChainTooLong, Frame(Udp(7, 9), nine));
    }

    [Fact]
    public void Esp_and_no_next_header_end_the_chain()
    {
        Packet esp = DecodeOk(Frame(Esp(), HopByHop()));
        Assert.Equal(50, esp.Protocol);
        Assert.False(esp.HasTransport);
        Assert.Equal(24, esp.PayloadLength);

        Packet none = DecodeOk(Frame(Payload(59, [])));
        Assert.Equal(59, none.Protocol);
        Assert.False(none.HasTransport);
    }

    [Fact]
    public void Icmpv4_inside_ipv6_is_not_decoded_as_icmp()
    {
        Packet packet = DecodeOk(Frame(Icmp(8, 0)));
        Assert.Equal(IpProtocol.Icmp, packet.Protocol);
        Assert.False(packet.HasTransport);
    }

    [Fact]
    public void An_extension_header_past_the_payload_or_the_capture_is_truncated()
    {
        // A destination-options header that claims 16 bytes where the payload holds 8.
        Ipv6Extension tooLong = new(60, [0, 1, 1, 4, 0, 0, 0, 0]);
        DecodeFails(DecodeEvent.Ipv6ExtensionTruncated, Frame(Payload(59, []), tooLong));

        byte[] frame = Frame(Udp(7, 9), HopByHop(), Ipv6Fragment(0, true), DestinationOptions(16));
        int chainStart = IpStart + Ipv6HeaderLength;
        for (int length = chainStart; length < chainStart + 32; length++)
        {
            DecodeFails(DecodeEvent.Ipv6ExtensionTruncated, frame.AsSpan(0, length), wireLength: frame.Length);
        }
    }

    [Fact]
    public void A_payload_length_beyond_the_wire_is_bad()
    {
        byte[] frame = Frame(Udp(7, 9));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(IpStart + 4), (ushort)(frame.Length - IpStart - Ipv6HeaderLength + 1));
        DecodeFails(DecodeEvent.Ipv6BadPayloadLength, frame);
    }

    [Fact]
    public void A_jumbogram_is_bad()
    {
        byte[] frame = Frame(Udp(7, 9), HopByHop());
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(IpStart + 4), 0);
        DecodeFails(DecodeEvent.Ipv6BadPayloadLength, frame);
    }

    [Fact]
    public void A_version_other_than_6_is_bad_and_a_short_header_truncated()
    {
        byte[] frame = Frame(Udp(7, 9));
        frame[IpStart] = 0x40;
        DecodeFails(DecodeEvent.Ipv6BadVersion, frame);

        for (int length = IpStart; length < IpStart + Ipv6HeaderLength; length++)
        {
            DecodeFails(DecodeEvent.Ipv6Truncated, Frame(Udp(7, 9)).AsSpan(0, length));
        }
    }

    [Fact]
    public void Padding_after_the_payload_length_is_ignored()
    {
        byte[] padding = new byte[8];
        Packet empty = DecodeOk([.. Frame(Payload(59, [])), .. padding]);
        Assert.Equal(59, empty.Protocol);
        Assert.Equal(0, empty.PayloadLength);

        Packet udp = DecodeOk([.. Frame(Udp(7, 9)), .. padding]);
        Assert.True(udp.HasTransport);
        Assert.Equal(0, udp.PayloadLength);
    }
}
