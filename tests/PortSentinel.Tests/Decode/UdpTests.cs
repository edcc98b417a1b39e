using System.Buffers.Binary;
using PortSentinel.Decode;
using static PortSentinel.Tests.Decode.DecodeHelper;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Decode;

public class UdpTests
{
    private const int UdpStart = EthernetHeaderLength + Ipv4HeaderLength;

    private static byte[] Frame(IpPayload datagram) => Ethernet(Ipv4(V4Source, V4Destination, datagram));

    [Fact]
    public void Every_udp_field_is_decoded()
    {
        Packet packet = DecodeOk(Frame(Udp(33434, 161, new byte[37])));
        Assert.True(packet.HasTransport);
        Assert.Equal(IpProtocol.Udp, packet.Protocol);
        Assert.Equal(33434, packet.SourcePort);
        Assert.Equal(161, packet.DestinationPort);
        Assert.Equal(37, packet.PayloadLength);

        Packet v6 = DecodeOk(Ethernet(Ipv6(V6Source, V6Destination, Udp(546, 547, new byte[3]))));
        Assert.Equal(547, v6.DestinationPort);
        Assert.Equal(3, v6.PayloadLength);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void A_length_below_8_is_bad(int length)
    {
        byte[] frame = Frame(Udp(1, 2, new byte[4]));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(UdpStart + 4), (ushort)length);
        DecodeFails(DecodeEvent.UdpBadLength, frame);
    }

    [Fact]
    public void A_length_beyond_the_ip_payload_is_bad()
    {
        byte[] frame = Frame(Udp(1, 2, new byte[4]));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(UdpStart + 4), 13);
        DecodeFails(DecodeEvent.UdpBadLength, frame);
    }

    [Fact]
    public void A_length_short_of_the_ip_payload_gives_the_payload_length()
    {
        byte[] frame = Frame(Udp(1, 2, new byte[10]));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(UdpStart + 4), 12);
        Assert.Equal(4, DecodeOk(frame).PayloadLength);
    }

    [Fact]
    public void A_datagram_shorter_than_8_bytes_is_truncated()
    {
        for (int length = 0; length < UdpHeaderLength; length++)
        {
            DecodeFails(DecodeEvent.UdpTruncated, Frame(Payload(IpProtocol.Udp, Udp(1, 2).Bytes[..length])));
        }
    }
}
