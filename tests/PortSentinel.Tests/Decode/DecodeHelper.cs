using PortSentinel.Decode;

namespace PortSentinel.Tests.Decode;

/// <summary>Runs <see cref="PacketDecoder.Decode"/> the way the capture loop does.</summary>
public static class DecodeHelper
{
    public const long Timestamp = 1_700_000_000_123_456;

    public const string V4Source = "192.0.2.10";
    public const string V4Destination = "198.51.100.20";
    public const string V6Source = "2001:db8::10";
    public const string V6Destination = "2001:db8:1::20";

    /// <summary>
    /// Decodes <paramref name="frame"/> into a fresh packet whose wire length is
    /// <paramref name="wireLength"/> (the frame's length unless a snaplen is being imitated).
    /// </summary>
    public static DecodeEvent DecodeFrame(
        ReadOnlySpan<byte> frame, out Packet packet, LinkType link = LinkType.Ethernet, int? wireLength = null)
    {
        packet = new Packet { Timestamp = Timestamp, WireLength = wireLength ?? frame.Length };
        return PacketDecoder.Decode(frame, link, ref packet);
    }

    /// <summary>Decodes a frame that must decode; returns the packet.</summary>
    public static Packet DecodeOk(ReadOnlySpan<byte> frame, LinkType link = LinkType.Ethernet, int? wireLength = null)
    {
        DecodeEvent result = DecodeFrame(frame, out Packet packet, link, wireLength);
        Assert.Equal(DecodeEvent.Ok, result);
        return packet;
    }

    /// <summary>Decodes a frame that must fail with <paramref name="expected"/>, and checks it claims no transport.</summary>
    public static Packet DecodeFails(
        DecodeEvent expected, ReadOnlySpan<byte> frame, LinkType link = LinkType.Ethernet, int? wireLength = null)
    {
        DecodeEvent result = DecodeFrame(frame, out Packet packet, link, wireLength);
        Assert.Equal(expected, result);
        Assert.False(packet.HasTransport);
        return packet;
    }

    public static NetAddress Address(string text) => NetAddress.Parse(text);
}
