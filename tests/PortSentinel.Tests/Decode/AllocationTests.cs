using PortSentinel.Decode;
using static PortSentinel.Tests.Decode.DecodeHelper;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Decode;

/// <summary>The decoder runs once per captured packet and must not allocate (house rule 2).</summary>
public class AllocationTests
{
    [Fact]
    public void Decoding_allocates_nothing()
    {
        (byte[] Frame, LinkType Link)[] frames =
        [
            (Ethernet(Ipv4(V4Source, V4Destination, Tcp(1, 2, TcpFlags.Syn, options: LinuxSynOptions()))), LinkType.Ethernet),
            (Ethernet(Ipv4(V4Source, V4Destination, Udp(3, 4)), tags: [VlanTag.Dot1ad(1), VlanTag.Dot1Q(2)]), LinkType.Ethernet),
            (LinuxSll(Ipv4(V4Destination, V4Source, IcmpPortUnreachable(Ipv4(V4Source, V4Destination, Udp(5, 6))))), LinkType.LinuxSll),
            (LinuxSll2(Ipv6(V6Source, V6Destination, Udp(7, 8), extensions: [HopByHop(), Ipv6Fragment(0, true)])), LinkType.LinuxSll2),
            (Null(Ipv6(V6Destination, V6Source, Icmpv6PortUnreachable(Ipv6(V6Source, V6Destination, Tcp(9, 10, TcpFlags.Syn))))), LinkType.Null),
            (Ipv4(V4Source, V4Destination, Sctp(11, 12)), LinkType.Raw),
            (Ethernet(Ipv4(V4Source, V4Destination, Payload(IpProtocol.Tcp, new byte[8]), fragmentOffset: 8)), LinkType.Ethernet),
            (Ethernet(Ipv6(V6Source, V6Destination, Esp())), LinkType.Ethernet),
            (Ethernet(new byte[28], EtherTypeArp), LinkType.Ethernet),
            (Ethernet(Ipv4(V4Source, V4Destination, Tcp(1, 2, TcpFlags.Syn, options: [2, 0, 0, 0]))), LinkType.Ethernet),
            (new byte[3], LinkType.Ethernet),
            (new byte[3], (LinkType)9999),
        ];
        var packet = new Packet();
        // Warm up first: tiered JIT and static initialisation may allocate on the first calls.
        DecodeAll(frames, ref packet, 100);

        int okCount = 0;
        List<long> runs = Allocations.OfRuns(() => okCount = DecodeAll(frames, ref packet, 10_000));

        Assert.True(runs[^1] == 0, $"bytes allocated in each run of 120,000 frames: {string.Join(", ", runs)}");
        Assert.Equal(8 * 10_000, okCount);
    }

    private static int DecodeAll((byte[] Frame, LinkType Link)[] frames, ref Packet packet, int rounds)
    {
        int ok = 0;
        for (int round = 0; round < rounds; round++)
        {
            foreach ((byte[] frame, LinkType link) in frames)
            {
                packet.WireLength = frame.Length;
                if (PacketDecoder.Decode(frame, link, ref packet) == DecodeEvent.Ok)
                {
                    ok++;
                }
            }
        }
        return ok;
    }
}
