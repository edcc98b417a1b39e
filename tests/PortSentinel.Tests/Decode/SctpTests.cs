using PortSentinel.Decode;
using static PortSentinel.Tests.Decode.DecodeHelper;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Decode;

public class SctpTests
{
    [Fact]
    public void Init_gives_ports_and_chunk_type()
    {
        Packet packet = DecodeOk(Ethernet(Ipv4(V4Source, V4Destination, Sctp(2905, 2905))));
        Assert.True(packet.HasTransport);
        Assert.Equal(IpProtocol.Sctp, packet.Protocol);
        Assert.Equal(2905, packet.SourcePort);
        Assert.Equal(2905, packet.DestinationPort);
        Assert.Equal(SctpInit, packet.SctpChunkType);
        Assert.Equal(20, packet.PayloadLength);

        Packet v6 = DecodeOk(Ethernet(Ipv6(V6Source, V6Destination, Sctp(10000, 36412, SctpAbort))));
        Assert.Equal(36412, v6.DestinationPort);
        Assert.Equal(SctpAbort, v6.SctpChunkType);
    }

    [Fact]
    public void No_chunk_reads_as_chunk_type_0()
    {
        Packet packet = DecodeOk(Ethernet(Ipv4(V4Source, V4Destination, Sctp(1, 2, chunkType: null))));
        Assert.True(packet.HasTransport);
        Assert.Equal(0, packet.SctpChunkType);
        Assert.Equal(0, packet.PayloadLength);
    }

    [Fact]
    public void A_common_header_shorter_than_12_bytes_is_truncated()
    {
        byte[] sctp = Sctp(1, 2).Bytes;
        for (int length = 0; length < 12; length++)
        {
            DecodeFails(DecodeEvent.SctpTruncated, Ethernet(Ipv4(V4Source, V4Destination, Payload(IpProtocol.Sctp, sctp[..length]))));
        }
    }
}
