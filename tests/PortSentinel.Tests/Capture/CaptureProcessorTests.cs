using PortSentinel.Capture;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Synthetic;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Capture;

public class CaptureProcessorTests
{
    private sealed class Recorder : IDetectionSink
    {
        public List<Detection> Early { get; } = [];

        public List<Detection> All { get; } = [];

        public void Raised(Detection detection)
        {
            Early.Add(detection);
            All.Add(detection);
        }

        public void Closed(Detection detection) => All.Add(detection);
    }

    private static byte[] Frame(string source, ushort sourcePort, string destination, ushort port, TcpFlags flags) =>
        Ethernet(Ipv4(source, destination, Tcp(sourcePort, port, flags)));

    [Fact]
    public void The_packets_held_back_for_prefetching_are_finished_at_the_end_of_the_batch()
    {
        // Four refused SYNs make TRW decide on the fourth RST, the last frame of the batch: the
        // detection must not wait for frames that never come.
        var recorder = new Recorder();
        var detector = new Detector(new DetectorOptions(), recorder);
        var processor = new CaptureProcessor(detector, LinkType.Ethernet);
        long time = 1_700_000_000_000_000;
        for (ushort port = 1; port <= 4; port++)
        {
            byte[] syn = Frame("192.0.2.1", 40000, "192.0.2.2", port, TcpFlags.Syn);
            byte[] rst = Frame("192.0.2.2", port, "192.0.2.1", 40000, TcpFlags.Rst | TcpFlags.Ack);
            processor.OnFrame(time++, syn.Length, syn);
            processor.OnFrame(time++, rst.Length, rst);
        }
        Assert.Equal(8 - CaptureProcessor.Held, detector.Counters.Packets);
        Assert.Empty(recorder.Early);
        processor.OnBatchEnd();
        Assert.Equal(8, detector.Counters.Packets);
        Assert.Single(recorder.Early);
        processor.OnBatchEnd(); // nothing held: a second end changes nothing
        Assert.Equal(8, detector.Counters.Packets);
    }

    [Fact]
    public void Reading_ahead_changes_nothing_the_detector_decides()
    {
        // The processor holds packets back and reads the tables early; the detector must still
        // see what it would see fed one packet at a time: the same counts, the same detections.
        MemoryCapture capture = TrafficGenerator.Generate(200_000, seed: 3);
        var pipelined = new Recorder();
        var pipelinedDetector = new Detector(new DetectorOptions(), pipelined);
        capture.Replay(new CaptureProcessor(pipelinedDetector, capture.LinkType));
        pipelinedDetector.Flush();

        var direct = new Recorder();
        var directDetector = new Detector(new DetectorOptions(), direct);
        var packet = new Packet();
        for (int i = 0; i < capture.Count; i++)
        {
            packet.Timestamp = capture.Timestamp(i);
            packet.WireLength = capture.WireLength(i);
            if (PacketDecoder.Decode(capture.Frame(i), capture.LinkType, ref packet) == DecodeEvent.Ok)
            {
                directDetector.Process(packet);
            }
        }
        directDetector.Flush();

        static string Counts(DetectorCounters c) => $"{c.Packets} {c.FirstContacts} {c.SettledSkips} {c.Raised} {c.Closed}";
        Assert.Equal(Counts(directDetector.Counters), Counts(pipelinedDetector.Counters));
        Assert.True(directDetector.Counters.SettledSkips > capture.Count / 2);
        Assert.NotEmpty(direct.All);
        Assert.Equal(direct.All.Select(Describe), pipelined.All.Select(Describe));
    }

    private static string Describe(Detection d) =>
        $"{d.Source} {d.Kinds} {d.Ports} {d.PortRanges} {d.TargetCount} {d.Probes} {d.First:O} {d.Last:O} {d.Trigger} {d.Outcomes} {d.Final}";

    [Fact]
    public void A_sink_that_throws_stops_the_read_and_its_exception_comes_back_through_libpcap()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ps-throwing-{Guid.NewGuid():N}.pcap");
        try
        {
            using (var writer = new PcapWriter(path))
            {
                byte[] frame = Frame("192.0.2.1", 40000, "192.0.2.2", 80, TcpFlags.Syn);
                for (int i = 0; i < 100; i++)
                {
                    writer.Write(1_700_000_000_000_000 + i, frame);
                }
            }
            var sink = new ThrowingSink(failAt: 3);
            using PcapFile file = PcapFile.Open(path);
            var thrown = Assert.Throws<InvalidOperationException>(() => file.ReadAll(sink));
            Assert.Equal("frame 3", thrown.Message);
            Assert.Equal(3, sink.Frames);
            Assert.Equal(0, sink.BatchEnds);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class ThrowingSink(int failAt) : IFrameSink
    {
        public int Frames { get; private set; }

        public int BatchEnds { get; private set; }

        public void OnFrame(long timestamp, int wireLength, ReadOnlySpan<byte> frame)
        {
            if (++Frames == failAt)
            {
                throw new InvalidOperationException($"frame {failAt}");
            }
        }

        public void OnBatchEnd() => BatchEnds++;
    }
}
