using PortSentinel.Decode;
using static PortSentinel.Tests.Decode.DecodeHelper;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Decode;

/// <summary>
/// Random and mutated frames: the decoder must return an event, not throw, and claim a
/// transport header only on <see cref="DecodeEvent.Ok"/>. The seed is fixed so a failure replays.
/// </summary>
public class FuzzTests
{
    private static readonly LinkType[] _links =
    [
        LinkType.Null, LinkType.Ethernet, LinkType.RawDlt, LinkType.RawDltBsd, LinkType.Raw,
        LinkType.Loop, LinkType.LinuxSll, LinkType.Ipv4, LinkType.Ipv6, LinkType.LinuxSll2,
    ];

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(20_240_601);
        byte[] buffer = new byte[128];
        for (int i = 0; i < 20_000; i++)
        {
            random.NextBytes(buffer);
            int length = random.Next(buffer.Length + 1);
            // Bias the version nibble towards IP so that the deeper layers are reached.
            buffer[0] = (byte)((random.Next(2) == 0 ? 0x40 : 0x60) | (buffer[0] & 0x0F));
            LinkType link = _links[random.Next(_links.Length)];
            AssertSane(buffer.AsSpan(0, length), link, length + random.Next(64));
        }
    }

    [Fact]
    public void Mutated_valid_frames_never_throw()
    {
        byte[][] seeds =
        [
            Ethernet(Ipv4(V4Source, V4Destination, Tcp(1, 2, TcpFlags.Syn, options: LinuxSynOptions()))),
            Ethernet(Ipv4(V4Destination, V4Source, IcmpPortUnreachable(Ipv4(V4Source, V4Destination, Udp(3, 4))))),
            Ethernet(Ipv6(V6Source, V6Destination, Udp(5, 6, new byte[8]), extensions: [HopByHop(), Ipv6Fragment(0, true), DestinationOptions()])),
            Ethernet(Ipv6(V6Destination, V6Source, Icmpv6PortUnreachable(Ipv6(V6Source, V6Destination, Sctp(7, 8), extensions: [HopByHop()])))),
            Ethernet(Ipv4(V4Source, V4Destination, Sctp(9, 10)), tags: [VlanTag.Dot1ad(1), VlanTag.Dot1Q(2)]),
        ];
        var random = new Random(42);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] frame = (byte[])seeds[i % seeds.Length].Clone();
            for (int flips = random.Next(1, 4); flips > 0; flips--)
            {
                frame[random.Next(frame.Length)] = (byte)random.Next(256);
            }
            int length = random.Next(frame.Length / 2, frame.Length + 1);
            AssertSane(frame.AsSpan(0, length), LinkType.Ethernet, frame.Length);
        }
    }

    private static void AssertSane(ReadOnlySpan<byte> frame, LinkType link, int wireLength)
    {
        DecodeEvent result = DecodeFrame(frame, out Packet packet, link, wireLength);
        Assert.True(Enum.IsDefined(result));
        Assert.True(result == DecodeEvent.Ok || !packet.HasTransport);
        Assert.True(packet.PayloadLength >= 0);
        Assert.Equal(Timestamp, packet.Timestamp);
    }
}
