using System.Runtime.InteropServices;
using PortSentinel.Capture;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Synthetic;

namespace PortSentinel.Tests.Corpus;

/// <summary>
/// A million frames from the real captures, mutated and truncated at random, through the decoder
/// and the detector together: nothing throws, malformed frames are counted, and the engine keeps
/// working. The seed is fixed, so a failure replays; a failing frame becomes a named test.
/// </summary>
public class MutatedCorpusTests
{
    private const int Mutations = 1_000_000;

    [Fact]
    public void A_million_mutated_real_frames_never_throw_and_malformed_ones_are_counted()
    {
        List<(byte[] Frame, int Wire, LinkType Link)> seeds = LoadFrames();
        Assert.True(seeds.Count > 5000, $"only {seeds.Count} frames in the corpus");

        var sink = new CountingSink();
        var detector = new Detector(new DetectorOptions { SourceCapacity = 4096, FlowCapacity = 16384 }, sink);
        var processor = new CaptureProcessor(detector, LinkType.Ethernet);
        var random = new Random(1_000_003);
        byte[] buffer = new byte[65536];
        long timestamp = 1_700_000_000_000_000;
        string? last = null;
        try
        {
            for (int i = 0; i < Mutations; i++)
            {
                var (frame, wire, link) = seeds[random.Next(seeds.Count)];
                frame.CopyTo(buffer, 0);
                int length = Mutate(buffer, frame.Length, random, seeds);
                int wireLength = random.Next(4) switch
                {
                    0 => wire,
                    1 => length,
                    2 => random.Next(0, 2000),
                    _ => length + random.Next(0, 200),
                };
                processor.LinkType = random.Next(50) == 0 ? (LinkType)random.Next(0, 300) : link;
                last = $"{processor.LinkType} wire={wireLength} {Convert.ToHexString(buffer, 0, length)}";
                processor.OnFrame(timestamp += random.Next(0, 2000), wireLength, buffer.AsSpan(0, length));
            }
            processor.OnBatchEnd();
            detector.Flush();
        }
        catch (Exception e)
        {
            Assert.Fail($"frame {last} threw {e}");
        }

        Assert.Equal(Mutations, processor.Decoded.Total);
        Assert.True(processor.Decoded.Malformed > Mutations / 20, $"only {processor.Decoded.Malformed} malformed: the mutations are too mild");
        Assert.True(processor.Decoded[DecodeEvent.Ok] > Mutations / 5, $"only {processor.Decoded[DecodeEvent.Ok]} decoded: the mutations are too harsh");
        Assert.True(detector.Counters.FirstContacts > 0);
        Assert.True(sink.KindLess.Count == 0, $"{sink.KindLess.Count} of {sink.Count} detections without a kind, e.g. {sink.KindLess.FirstOrDefault()}");
    }

    [Fact]
    public void The_one_pass_decoder_gives_what_the_layers_give_for_real_and_mutated_frames()
    {
        // CommonFrame must take only the frames the layers decode to the same packet, and leave
        // every other one to them untouched: every field and the result compared, for the corpus, the
        // synthetic traffic and a million mutations, many of them in the lengths it checks.
        List<(byte[] Frame, int Wire, LinkType Link)> seeds = LoadFrames();
        MemoryCapture synthetic = TrafficGenerator.Generate(100_000, seed: 5);
        for (int i = 0; i < synthetic.Count; i++)
        {
            seeds.Add((synthetic.Frame(i).ToArray(), synthetic.WireLength(i), synthetic.LinkType));
        }
        var random = new Random(2_000_003);
        byte[] buffer = new byte[65536];
        long onePass = 0;
        for (int i = 0; i < seeds.Count + Mutations; i++)
        {
            var (frame, wire, link) = seeds[i < seeds.Count ? i : random.Next(seeds.Count)];
            frame.CopyTo(buffer, 0);
            int length = i < seeds.Count ? frame.Length : Mutate(buffer, frame.Length, random, seeds);
            int wireLength = i < seeds.Count || random.Next(2) == 0 ? wire : length + random.Next(-20, 200);
            ReadOnlySpan<byte> bytes = buffer.AsSpan(0, length);

            var decoded = new Packet { Timestamp = i, WireLength = wireLength };
            DecodeEvent result = PacketDecoder.Decode(bytes, link, ref decoded);
            var layered = new Packet { Timestamp = i, WireLength = wireLength };
            DecodeEvent expected = PacketDecoder.DecodeByLayers(bytes, link, ref layered);
            var single = new Packet { Timestamp = i, WireLength = wireLength };
            bool taken = CommonFrame.TryDecode(bytes, ref single);
            onePass += taken ? 1 : 0;

            if (result != expected || !Same(decoded, layered))
            {
                Assert.Fail($"{link} wire={wireLength} {Convert.ToHexString(bytes)}: {result.Name()} against the layers' {expected.Name()}");
            }
            if (!taken && !Same(single, new Packet { Timestamp = i, WireLength = wireLength }))
            {
                Assert.Fail($"wire={wireLength} {Convert.ToHexString(bytes)}: declined, but wrote into the packet");
            }
        }
        Assert.True(onePass > Mutations / 4, $"only {onePass} frames took the one pass");
        Assert.True(onePass < seeds.Count + (Mutations * 9 / 10), $"{onePass} frames took the one pass: the mutations hardly reach its checks");
    }

    private static bool Same(Packet a, Packet b) =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<Packet>(ref a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<Packet>(ref b)));

    /// <summary>Applies one to four mutations: byte and bit changes, length fields set to extremes, truncation, splices.</summary>
    private static int Mutate(byte[] buffer, int length, Random random, List<(byte[] Frame, int Wire, LinkType Link)> seeds)
    {
        for (int n = random.Next(1, 5); n > 0 && length > 0; n--)
        {
            switch (random.Next(6))
            {
                case 0:
                    buffer[random.Next(length)] = (byte)random.Next(256);
                    break;
                case 1:
                    buffer[random.Next(length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    int at = random.Next(Math.Max(1, length - 1));
                    ushort extreme = (ushort)(random.Next(3) switch { 0 => 0, 1 => 0xFFFF, _ => random.Next(0, 100) });
                    buffer[at] = (byte)(extreme >> 8);
                    if (at + 1 < length)
                    {
                        buffer[at + 1] = (byte)extreme;
                    }
                    break;
                case 3:
                    length = random.Next(length + 1);
                    break;
                case 4:
                    // Splice the tail of another frame in at a random point.
                    byte[] other = seeds[random.Next(seeds.Count)].Frame;
                    int from = random.Next(other.Length);
                    int to = random.Next(length + 1);
                    int count = Math.Min(other.Length - from, buffer.Length - to);
                    Array.Copy(other, from, buffer, to, count);
                    length = to + count;
                    break;
                default:
                    // Nibbles that steer decoding: IP version/IHL, TCP data offset.
                    int pos = random.Next(length);
                    buffer[pos] = (byte)((random.Next(16) << 4) | (buffer[pos] & 0x0F));
                    break;
            }
        }
        return length;
    }

    private static List<(byte[] Frame, int Wire, LinkType Link)> LoadFrames()
    {
        var collector = new Collector();
        foreach (string path in CorpusFiles.CaptureFiles)
        {
            using PcapFile file = PcapFile.Open(path);
            collector.Link = file.LinkType;
            file.ReadAll(collector);
        }
        return collector.Frames;
    }

    private sealed class Collector : IFrameSink
    {
        public LinkType Link { get; set; }

        public List<(byte[] Frame, int Wire, LinkType Link)> Frames { get; } = [];

        public void OnFrame(long timestamp, int wireLength, ReadOnlySpan<byte> frame) => Frames.Add((frame.ToArray(), wireLength, Link));
    }

    private sealed class CountingSink : IDetectionSink
    {
        public int Count { get; private set; }

        /// <summary>Detections raised or closed without a single kind: none may be.</summary>
        public List<Detection> KindLess { get; } = [];

        public void Raised(Detection detection) => Add(detection);

        public void Closed(Detection detection) => Add(detection);

        private void Add(Detection detection)
        {
            Count++;
            if (detection.Kinds == ScanKinds.None)
            {
                KindLess.Add(detection);
            }
        }
    }
}
