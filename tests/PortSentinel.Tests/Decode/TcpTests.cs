using PortSentinel.Decode;
using static PortSentinel.Tests.Decode.DecodeHelper;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Decode;

public class TcpTests
{
    private const int TcpStart = EthernetHeaderLength + Ipv4HeaderLength;

    private static byte[] Frame(IpPayload segment) => Ethernet(Ipv4(V4Source, V4Destination, segment));

    /// <summary>A frame whose TCP option bytes are exactly <paramref name="options"/> (a multiple of 4).</summary>
    private static byte[] WithOptions(params byte[] options) => Frame(Tcp(1234, 80, TcpFlags.Syn, options: options));

    [Fact]
    public void Every_tcp_field_is_decoded()
    {
        byte[] frame = Frame(Tcp(
            61000, 3306, TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr,
            sequence: 0xDEAD_BEEF, acknowledgment: 0x0102_0304, window: 64240,
            options: LinuxSynOptions(1380), payload: new byte[5]));
        Packet packet = DecodeOk(frame);

        Assert.True(packet.HasTransport);
        Assert.Equal(61000, packet.SourcePort);
        Assert.Equal(3306, packet.DestinationPort);
        Assert.Equal(0xDEAD_BEEFu, packet.TcpSequence);
        Assert.Equal(0x0102_0304u, packet.TcpAcknowledgment);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr, packet.TcpFlags);
        Assert.Equal(64240, packet.TcpWindow);
        Assert.Equal(
            TcpOptionKinds.Mss | TcpOptionKinds.SackPermitted | TcpOptionKinds.Timestamp | TcpOptionKinds.WindowScale,
            packet.TcpOptions);
        Assert.Equal(1380, packet.TcpMss);
        Assert.Equal(5, packet.PayloadLength);
    }

    [Theory]
    [InlineData(TcpFlags.None)]                                 // NULL scan
    [InlineData(TcpFlags.Fin)]                                  // FIN scan
    [InlineData(TcpFlags.Fin | TcpFlags.Psh | TcpFlags.Urg)]    // XMAS scan
    [InlineData(TcpFlags.Ack)]                                  // ACK scan
    [InlineData(TcpFlags.Syn | TcpFlags.Ack)]
    [InlineData((TcpFlags)0xFF)]
    public void Flags_are_decoded_as_sent(TcpFlags flags)
    {
        Assert.Equal(flags, DecodeOk(Frame(Tcp(1, 2, flags))).TcpFlags);
    }

    [Fact]
    public void The_ns_bit_is_ignored()
    {
        byte[] frame = Frame(Tcp(1, 2, TcpFlags.Syn));
        frame[TcpStart + 12] |= 0x01;
        Assert.Equal(TcpFlags.Syn, DecodeOk(frame).TcpFlags);
    }

    [Fact]
    public void No_options_means_none()
    {
        Packet packet = DecodeOk(Frame(Tcp(1, 2, TcpFlags.Syn)));
        Assert.Equal(TcpOptionKinds.None, packet.TcpOptions);
        Assert.Equal(0, packet.TcpMss);
    }

    [Fact]
    public void Sack_and_unknown_options_are_recorded()
    {
        byte[] multipath = [30, 4, 0x81, 0x01]; // MPTCP (RFC 8684)
        Packet packet = DecodeOk(WithOptions(TcpOptions(TcpNop(), TcpNop(), TcpSack(10, 20), multipath)));
        Assert.Equal(TcpOptionKinds.Sack | TcpOptionKinds.Other, packet.TcpOptions);
    }

    [Fact]
    public void A_known_option_with_the_wrong_length_counts_as_other()
    {
        Packet packet = DecodeOk(WithOptions(2, 3, 5, 0));
        Assert.Equal(TcpOptionKinds.Other, packet.TcpOptions);
        Assert.Equal(0, packet.TcpMss);
    }

    [Fact]
    public void End_of_option_list_stops_the_walk()
    {
        Packet packet = DecodeOk(WithOptions([0, 0, 0, 0, .. TcpMss(1460)]));
        Assert.Equal(TcpOptionKinds.None, packet.TcpOptions);
        Assert.Equal(0, packet.TcpMss);
    }

    [Theory]
    [InlineData(new byte[] { 2, 0, 0, 0 })]              // length 0
    [InlineData(new byte[] { 2, 1, 0, 0 })]              // length 1
    [InlineData(new byte[] { 1, 8, 10, 0 })]             // timestamp running 7 bytes past the header
    [InlineData(new byte[] { 1, 1, 1, 2 })]              // a kind with no room for its length
    [InlineData(new byte[] { 3, 3, 7, 30, 6, 0, 0, 0 })] // the second option runs past the header
    public void A_malformed_option_is_bad(byte[] options)
    {
        DecodeFails(DecodeEvent.TcpBadOption, WithOptions(options));
    }

    [Fact]
    public void Options_cut_by_the_capture_end_quietly()
    {
        byte[] frame = WithOptions(LinuxSynOptions());
        // MSS (4) and SACK-permitted (2) are captured; the timestamp is cut in its value.
        int captured = TcpStart + TcpHeaderLength + 6 + 5;
        Packet packet = DecodeOk(frame.AsSpan(0, captured), wireLength: frame.Length);
        Assert.True(packet.HasTransport);
        Assert.Equal(TcpOptionKinds.Mss | TcpOptionKinds.SackPermitted, packet.TcpOptions);
        Assert.Equal(1460, packet.TcpMss);

        // Every cut gives a subset of the options, never a wrong one.
        TcpOptionKinds all = DecodeOk(frame).TcpOptions;
        for (int length = TcpStart + TcpHeaderLength; length <= frame.Length; length++)
        {
            Packet cut = DecodeOk(frame.AsSpan(0, length), wireLength: frame.Length);
            Assert.Equal(TcpOptionKinds.None, cut.TcpOptions & ~all);
            Assert.True(cut.TcpMss is 0 or 1460);
            Assert.Equal(1234, cut.SourcePort);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void A_data_offset_below_5_is_a_bad_header_length(int dataOffset)
    {
        byte[] frame = Frame(Tcp(1, 2, TcpFlags.Syn));
        frame[TcpStart + 12] = (byte)(dataOffset << 4);
        DecodeFails(DecodeEvent.TcpBadHeaderLength, frame);
    }

    [Fact]
    public void A_data_offset_beyond_the_ip_payload_is_a_bad_header_length()
    {
        // 24 bytes of segment, but the header claims 28.
        byte[] frame = Frame(Tcp(1, 2, TcpFlags.Syn, options: TcpMss(1460)));
        frame[TcpStart + 12] = 7 << 4;
        DecodeFails(DecodeEvent.TcpBadHeaderLength, frame);
    }

    [Fact]
    public void A_segment_shorter_than_20_bytes_is_truncated()
    {
        for (int length = 0; length < TcpHeaderLength; length++)
        {
            byte[] frame = Frame(Payload(IpProtocol.Tcp, Tcp(1, 2, TcpFlags.Syn).Bytes[..length]));
            DecodeFails(DecodeEvent.TcpTruncated, frame);
        }
    }

    [Fact]
    public void A_snaplen_cut_payload_keeps_the_length_from_the_ip_header()
    {
        byte[] frame = Frame(Tcp(443, 50000, TcpFlags.Ack, options: TcpOptions(TcpNop(), TcpNop(), TcpTimestamp(7, 9)), payload: new byte[1448]));
        int headers = TcpStart + TcpHeaderLength + 12;
        Packet packet = DecodeOk(frame.AsSpan(0, headers), wireLength: frame.Length);
        Assert.True(packet.HasTransport);
        Assert.Equal(TcpOptionKinds.Timestamp, packet.TcpOptions);
        Assert.Equal(1448, packet.PayloadLength);

        Packet v6 = DecodeOk(
            Ethernet(Ipv6(V6Source, V6Destination, Tcp(443, 50000, TcpFlags.Ack, payload: new byte[1000]))).AsSpan(0, 96),
            wireLength: 14 + 40 + 20 + 1000);
        Assert.Equal(1000, v6.PayloadLength);
    }
}
