using System.Buffers.Binary;
using PortSentinel.Capture;
using PortSentinel.Decode;
using PortSentinel.Synthetic;

namespace PortSentinel.Tests.Synthetic;

public class PcapWriterTests
{
    private const int SnapLength = 128;

    [Fact]
    public void Frames_wire_lengths_and_timestamps_read_back_identically_through_libpcap()
    {
        var random = new Random(5);
        var written = new List<Frame>();
        long timestamp = 1_735_689_600_000_000;
        // Enough frames to fill the writer's buffer several times; lengths either side of the snaplen.
        for (int i = 0; i < 30_000; i++)
        {
            byte[] bytes = new byte[random.Next(1, 300)];
            random.NextBytes(bytes);
            int wire = bytes.Length + (i % 3 == 0 ? random.Next(0, 1500) : 0);
            timestamp += random.Next(0, 2_000_001); // crosses whole seconds
            written.Add(new Frame(timestamp, wire, bytes));
        }

        using var file = new TempFile();
        using (var writer = new PcapWriter(file.Path, SnapLength))
        {
            foreach (Frame f in written)
            {
                writer.Write(f.Timestamp, f.Bytes, f.WireLength);
            }
        }

        var read = new CollectingSink();
        using (PcapFile capture = PcapFile.Open(file.Path))
        {
            Assert.Equal(LinkType.Ethernet, capture.LinkType);
            Assert.Equal(written.Count, capture.ReadAll(read));
        }
        Assert.Equal(written.Count, read.Frames.Count);
        for (int i = 0; i < written.Count; i++)
        {
            Frame expected = written[i];
            Frame actual = read.Frames[i];
            Assert.Equal(expected.Timestamp, actual.Timestamp);
            Assert.Equal(expected.WireLength, actual.WireLength);
            Assert.Equal(expected.Bytes.AsSpan(0, Math.Min(SnapLength, expected.Bytes.Length)).ToArray(), actual.Bytes);
        }
    }

    [Fact]
    public void Writes_a_classic_little_endian_microsecond_savefile()
    {
        using var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream, snapLength: 96, LinkType.Ethernet, leaveOpen: true))
        {
            writer.Write(1_700_000_000_123_456, new byte[] { 1, 2, 3, 4, 5 }, wireLength: 60);
            Assert.Equal(1, writer.Frames);
            Assert.Equal(24 + 16 + 5, writer.Length);
        }
        byte[] bytes = stream.ToArray();
        Assert.Equal(24 + 16 + 5, bytes.Length);
        Assert.Equal(new byte[] { 0xD4, 0xC3, 0xB2, 0xA1 }, bytes[..4]);
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6)));
        Assert.Equal(96, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20)));
        Assert.Equal(1_700_000_000u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(24)));
        Assert.Equal(123_456u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(28)));
        Assert.Equal(5, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(60, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(36)));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, bytes[40..]);
    }

    [Fact]
    public void Wire_length_defaults_to_the_frame_and_cannot_be_shorter()
    {
        using var stream = new MemoryStream();
        using var writer = new PcapWriter(stream, leaveOpen: true);
        writer.Write(0, new byte[70]);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(0, new byte[70], wireLength: 69));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(-1, new byte[70]));
        writer.Flush();
        Assert.Equal(70, BinaryPrimitives.ReadInt32LittleEndian(stream.ToArray().AsSpan(24 + 12)));
    }

    private sealed record Frame(long Timestamp, int WireLength, byte[] Bytes);

    private sealed class CollectingSink : IFrameSink
    {
        public List<Frame> Frames { get; } = [];

        public void OnFrame(long timestamp, int wireLength, ReadOnlySpan<byte> frame) =>
            Frames.Add(new Frame(timestamp, wireLength, frame.ToArray()));
    }
}
