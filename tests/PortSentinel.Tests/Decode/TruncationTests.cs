using PortSentinel.Decode;
using static PortSentinel.Tests.Decode.DecodeHelper;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Decode;

/// <summary>
/// Every frame cut at every byte: a cut inside a header is a malformed event, a cut after the
/// headers is Ok, and an Ok packet never says anything the whole frame does not.
/// </summary>
public class TruncationTests
{
    /// <summary>A frame, its link type, and where its fixed transport header ends.</summary>
    public sealed record TruncationCase(byte[] Frame, LinkType Link, int HeadersEnd);

    private static readonly Dictionary<string, TruncationCase> _cases = new()
    {
        ["ethernet-ipv4-tcp-syn"] = new(
            Ethernet(Ipv4(V4Source, V4Destination, Tcp(40000, 22, TcpFlags.Syn, options: LinuxSynOptions()))),
            LinkType.Ethernet, 14 + 20 + 20),
        ["qinq-ipv4-udp"] = new(
            Ethernet(Ipv4(V4Source, V4Destination, Udp(1, 53, new byte[30])), tags: [VlanTag.Dot1ad(1), VlanTag.Dot1Q(2)]),
            LinkType.Ethernet, 22 + 20 + 8),
        ["sll-ipv4-options-icmp-unreachable"] = new(
            LinuxSll(Ipv4(V4Destination, V4Source, IcmpPortUnreachable(Ipv4(V4Source, V4Destination, Udp(3, 161))), options: [1, 1, 1, 1, 1, 1, 1, 0])),
            LinkType.LinuxSll, 16 + 28 + 8),
        ["sll2-ipv6-hbh-fragment-udp"] = new(
            LinuxSll2(Ipv6(V6Source, V6Destination, Udp(4, 500, new byte[16]), extensions: [HopByHop(), Ipv6Fragment(0, true)])),
            LinkType.LinuxSll2, 20 + 40 + 16 + 8),
        ["null-ipv6-icmpv6-unreachable"] = new(
            Null(Ipv6(V6Destination, V6Source, Icmpv6PortUnreachable(Ipv6(V6Source, V6Destination, Tcp(5, 443, TcpFlags.Syn))))),
            LinkType.Null, 4 + 40 + 4),
        ["raw-ipv4-sctp-init"] = new(
            Ipv4(V4Source, V4Destination, Sctp(6, 2905)),
            LinkType.Raw, 20 + 12),
        ["ethernet-ipv6-tcp-data"] = new(
            Ethernet(Ipv6(V6Source, V6Destination, Tcp(7, 80, TcpFlags.Ack | TcpFlags.Psh, options: TcpOptions(TcpNop(), TcpNop(), TcpTimestamp(1, 2)), payload: new byte[100]))),
            LinkType.Ethernet, 14 + 40 + 20),
        ["ethernet-ipv4-icmp-time-exceeded-echo"] = new(
            Ethernet(Ipv4("203.0.113.1", V4Source, IcmpError(11, 0, Ipv4(V4Source, V4Destination, IcmpEcho(1, 2, new byte[40]))))),
            LinkType.Ethernet, 14 + 20 + 8),
    };

    public static TheoryData<string> Cases() => [.. _cases.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_snaplen_cut_gives_a_malformed_event_inside_the_headers_and_ok_after(string name)
    {
        TruncationCase c = _cases[name];
        Packet whole = DecodeOk(c.Frame, c.Link);
        Assert.True(whole.HasTransport);

        for (int length = 0; length < c.Frame.Length; length++)
        {
            DecodeEvent result = DecodeFrame(c.Frame.AsSpan(0, length), out Packet cut, c.Link, wireLength: c.Frame.Length);
            if (length < c.HeadersEnd)
            {
                Assert.True(result.IsMalformed(), $"{name} cut at {length}: {result}");
                Assert.False(cut.HasTransport);
            }
            else
            {
                Assert.True(result == DecodeEvent.Ok, $"{name} cut at {length}: {result}");
                AssertNothingWrong(whole, cut);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_short_packet_never_throws_and_never_claims_a_transport_it_failed(string name)
    {
        TruncationCase c = _cases[name];
        for (int length = 0; length < c.Frame.Length; length++)
        {
            // The wire really carried only these bytes: the IP lengths now overstate them.
            DecodeEvent result = DecodeFrame(c.Frame.AsSpan(0, length), out Packet cut, c.Link);
            Assert.True(result == DecodeEvent.Ok || result.IsMalformed(), $"{name} at {length}: {result}");
            Assert.True(result == DecodeEvent.Ok || !cut.HasTransport);
            if (length >= c.HeadersEnd && c.Link != LinkType.Raw)
            {
                Assert.True(result.IsMalformed(), $"{name} at {length}: {result}");
            }
        }
    }

    /// <summary>What a cut packet reports must agree with the whole one; it may only know less.</summary>
    private static void AssertNothingWrong(Packet whole, Packet cut)
    {
        Assert.Equal(whole.IpVersion, cut.IpVersion);
        Assert.Equal(whole.Source, cut.Source);
        Assert.Equal(whole.Destination, cut.Destination);
        Assert.Equal(whole.Protocol, cut.Protocol);
        Assert.Equal(whole.Ttl, cut.Ttl);
        Assert.Equal(whole.IsFragment, cut.IsFragment);
        Assert.True(cut.HasTransport);
        Assert.Equal(whole.SourcePort, cut.SourcePort);
        Assert.Equal(whole.DestinationPort, cut.DestinationPort);
        Assert.Equal(whole.TcpFlags, cut.TcpFlags);
        Assert.Equal(whole.PayloadLength, cut.PayloadLength);
        Assert.Equal(whole.IcmpType, cut.IcmpType);
        Assert.Equal(TcpOptionKinds.None, cut.TcpOptions & ~whole.TcpOptions);
        if (cut.HasEmbedded)
        {
            Assert.Equal(whole.EmbeddedSource, cut.EmbeddedSource);
            Assert.Equal(whole.EmbeddedDestination, cut.EmbeddedDestination);
            Assert.Equal(whole.EmbeddedProtocol, cut.EmbeddedProtocol);
        }
        if (cut.EmbeddedHasPorts)
        {
            Assert.Equal(whole.EmbeddedDestinationPort, cut.EmbeddedDestinationPort);
        }
        if (cut.SctpChunkType != 0)
        {
            Assert.Equal(whole.SctpChunkType, cut.SctpChunkType);
        }
    }
}
