using PortSentinel.Decode;
using static PortSentinel.Tests.Decode.DecodeHelper;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Decode;

public class LinkLayerTests
{
    private static byte[] V4Syn() => Ipv4(V4Source, V4Destination, Tcp(40000, 22, TcpFlags.Syn));

    private static byte[] V6Syn() => Ipv6(V6Source, V6Destination, Tcp(40000, 22, TcpFlags.Syn));

    private static void AssertSyn(Packet packet, int ipVersion)
    {
        Assert.Equal(ipVersion, packet.IpVersion);
        Assert.True(packet.HasTransport);
        Assert.Equal(IpProtocol.Tcp, packet.Protocol);
        Assert.Equal(40000, packet.SourcePort);
        Assert.Equal(22, packet.DestinationPort);
        Assert.Equal(TcpFlags.Syn, packet.TcpFlags);
    }

    [Fact]
    public void Ethernet_carries_ipv4_and_ipv6()
    {
        AssertSyn(DecodeOk(Ethernet(V4Syn())), 4);
        AssertSyn(DecodeOk(Ethernet(V6Syn())), 6);
    }

    [Fact]
    public void Ethernet_shorter_than_its_header_is_truncated()
    {
        byte[] frame = Ethernet(V4Syn());
        for (int length = 0; length < EthernetHeaderLength; length++)
        {
            DecodeFails(DecodeEvent.LinkTruncated, frame.AsSpan(0, length));
        }
    }

    [Fact]
    public void Ethernet_padding_after_the_ip_packet_is_ignored()
    {
        // 14 + 20 + 20 = 54 bytes: the sender pads to 60, and the padding is not TCP payload.
        byte[] frame = Pad(Ethernet(V4Syn()));
        Assert.Equal(EthernetMinimumLength, frame.Length);
        Packet packet = DecodeOk(frame);
        AssertSyn(packet, 4);
        Assert.Equal(0, packet.PayloadLength);

        Packet udp = DecodeOk(Pad(Ethernet(Ipv4(V4Source, V4Destination, Udp(5353, 53)))));
        Assert.Equal(0, udp.PayloadLength);

        Packet empty = DecodeOk(Pad(Ethernet(Ipv6(V6Source, V6Destination, Payload(59, [])))));
        Assert.Equal(59, empty.Protocol);
        Assert.Equal(0, empty.PayloadLength);
    }

    [Fact]
    public void Single_802_1q_tag()
    {
        AssertSyn(DecodeOk(Ethernet(V4Syn(), tags: VlanTag.Dot1Q(100))), 4);
        AssertSyn(DecodeOk(Ethernet(V6Syn(), tags: VlanTag.Dot1Q(4094))), 6);
    }

    [Fact]
    public void QinQ_with_802_1ad_and_legacy_9100_outer_tags()
    {
        AssertSyn(DecodeOk(Ethernet(V4Syn(), tags: [VlanTag.Dot1ad(10), VlanTag.Dot1Q(20)])), 4);
        AssertSyn(DecodeOk(Ethernet(V4Syn(), tags: [new VlanTag(EtherTypeQinQLegacy, 10), VlanTag.Dot1Q(20)])), 4);
    }

    [Fact]
    public void Three_tags_decode_and_four_are_too_deep()
    {
        AssertSyn(DecodeOk(Ethernet(V4Syn(), tags: [VlanTag.Dot1ad(1), VlanTag.Dot1ad(2), VlanTag.Dot1Q(3)])), 4);
        DecodeFails(
            DecodeEvent.VlanTooDeep,
            Ethernet(V4Syn(), tags: [VlanTag.Dot1ad(1), VlanTag.Dot1ad(2), VlanTag.Dot1Q(3), VlanTag.Dot1Q(4)]));
    }

    [Fact]
    public void A_tag_cut_short_is_link_truncated()
    {
        byte[] frame = Ethernet(V4Syn(), tags: [VlanTag.Dot1ad(10), VlanTag.Dot1Q(20)]);
        for (int length = EthernetHeaderLength; length < EthernetHeaderLength + 8; length++)
        {
            DecodeFails(DecodeEvent.LinkTruncated, frame.AsSpan(0, length));
        }
    }

    [Fact]
    public void Arp_and_other_non_ip_frames_are_ignored_not_malformed()
    {
        byte[] arp = new byte[28];
        Assert.Equal(DecodeEvent.IgnoredNotIp, DecodeFrame(Ethernet(arp, EtherTypeArp), out Packet packet));
        Assert.Equal(0, packet.IpVersion);
        Assert.False(packet.HasTransport);

        Assert.Equal(DecodeEvent.IgnoredNotIp, DecodeFrame(Ethernet(arp, EtherTypeArp, VlanTag.Dot1Q(5)), out _));
        // An 802.3 frame has a length where the EtherType would be (LLC, STP, CDP …).
        Assert.Equal(DecodeEvent.IgnoredNotIp, DecodeFrame(Ethernet(new byte[38], 38), out _));
        Assert.False(DecodeEvent.IgnoredNotIp.IsMalformed());
    }

    [Fact]
    public void Linux_cooked_v1_carries_ipv4_ipv6_and_a_reinserted_vlan_tag()
    {
        AssertSyn(DecodeOk(LinuxSll(V4Syn()), LinkType.LinuxSll), 4);
        AssertSyn(DecodeOk(LinuxSll(V6Syn(), packetType: 4), LinkType.LinuxSll), 6);

        // libpcap puts an offloaded tag back between the header and the packet.
        byte[] tagged = LinuxSll([0x00, 0x64, 0x08, 0x00, .. V4Syn()], EtherTypeVlan);
        AssertSyn(DecodeOk(tagged, LinkType.LinuxSll), 4);

        Assert.Equal(DecodeEvent.IgnoredNotIp, DecodeFrame(LinuxSll(new byte[28], EtherTypeArp), out _, LinkType.LinuxSll));
        // Protocol 4 is 802.2 LLC under Linux cooked capture.
        Assert.Equal(DecodeEvent.IgnoredNotIp, DecodeFrame(LinuxSll(new byte[28], 4), out _, LinkType.LinuxSll));
        for (int length = 0; length < 16; length++)
        {
            DecodeFails(DecodeEvent.LinkTruncated, LinuxSll(V4Syn()).AsSpan(0, length), LinkType.LinuxSll);
        }
    }

    [Fact]
    public void Linux_cooked_v2_carries_ipv4_ipv6_and_a_reinserted_vlan_tag()
    {
        AssertSyn(DecodeOk(LinuxSll2(V4Syn()), LinkType.LinuxSll2), 4);
        AssertSyn(DecodeOk(LinuxSll2(V6Syn(), packetType: 4), LinkType.LinuxSll2), 6);

        byte[] tagged = LinuxSll2([0x00, 0x64, 0x86, 0xDD, .. V6Syn()], EtherTypeVlan);
        AssertSyn(DecodeOk(tagged, LinkType.LinuxSll2), 6);

        Assert.Equal(DecodeEvent.IgnoredNotIp, DecodeFrame(LinuxSll2(new byte[28], EtherTypeArp), out _, LinkType.LinuxSll2));
        for (int length = 0; length < 20; length++)
        {
            DecodeFails(DecodeEvent.LinkTruncated, LinuxSll2(V4Syn()).AsSpan(0, length), LinkType.LinuxSll2);
        }
    }

    [Theory]
    [InlineData(FamilyInet, 4, false)]
    [InlineData(FamilyInet, 4, true)]
    [InlineData(FamilyInet6NetBsd, 6, false)]
    [InlineData(FamilyInet6NetBsd, 6, true)]
    [InlineData(FamilyInet6FreeBsd, 6, false)]
    [InlineData(FamilyInet6FreeBsd, 6, true)]
    [InlineData(FamilyInet6Darwin, 6, false)]
    [InlineData(FamilyInet6Darwin, 6, true)]
    public void Bsd_null_accepts_the_family_in_either_byte_order(uint family, int version, bool bigEndian)
    {
        byte[] packet = version == 4 ? V4Syn() : V6Syn();
        AssertSyn(DecodeOk(Null(packet, family, bigEndian), LinkType.Null), version);
    }

    [Fact]
    public void Bsd_null_with_another_family_is_ignored_and_a_short_one_truncated()
    {
        // AF_APPLETALK = 16 on the BSDs; 10 is Linux's AF_INET6, never written by DLT_NULL.
        Assert.Equal(DecodeEvent.IgnoredNotIp, DecodeFrame(Null(V4Syn(), 16), out _, LinkType.Null));
        Assert.Equal(DecodeEvent.IgnoredNotIp, DecodeFrame(Null(V6Syn(), 10), out _, LinkType.Null));
        for (int length = 0; length < 4; length++)
        {
            DecodeFails(DecodeEvent.LinkTruncated, Null(V4Syn()).AsSpan(0, length), LinkType.Null);
        }
    }

    [Fact]
    public void Openbsd_loop_reads_the_family_in_network_order_only()
    {
        AssertSyn(DecodeOk(Loop(V4Syn()), LinkType.Loop), 4);
        AssertSyn(DecodeOk(Loop(V6Syn()), LinkType.Loop), 6);
        Assert.Equal(DecodeEvent.IgnoredNotIp, DecodeFrame(Null(V4Syn(), FamilyInet, bigEndian: false), out _, LinkType.Loop));
    }

    [Theory]
    [InlineData(LinkType.Raw)]
    [InlineData(LinkType.RawDlt)]
    [InlineData(LinkType.RawDltBsd)]
    public void Raw_ip_chooses_the_version_by_its_nibble(LinkType link)
    {
        AssertSyn(DecodeOk(V4Syn(), link), 4);
        AssertSyn(DecodeOk(V6Syn(), link), 6);

        byte[] bad = V4Syn();
        bad[0] = 0x55;
        DecodeFails(DecodeEvent.Ipv4BadVersion, bad, link);
        DecodeFails(DecodeEvent.Ipv4Truncated, [], link);
    }

    [Fact]
    public void Ipv4_and_ipv6_link_types_fix_the_version()
    {
        AssertSyn(DecodeOk(V4Syn(), LinkType.Ipv4), 4);
        AssertSyn(DecodeOk(V6Syn(), LinkType.Ipv6), 6);
        DecodeFails(DecodeEvent.Ipv4BadVersion, Pad(V6Syn(), 60), LinkType.Ipv4);
        DecodeFails(DecodeEvent.Ipv6BadVersion, Pad(V4Syn(), 60), LinkType.Ipv6);
    }

    [Theory]
    [InlineData(105)] // IEEE 802.11
    [InlineData(127)] // radiotap
    [InlineData(9999)]
    public void Unknown_link_types_are_ignored(int link)
    {
        Assert.Equal(DecodeEvent.IgnoredLinkType, DecodeFrame(Ethernet(V4Syn()), out Packet packet, (LinkType)link));
        Assert.False(packet.HasTransport);
        Assert.False(DecodeEvent.IgnoredLinkType.IsMalformed());
    }
}
