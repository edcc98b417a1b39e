using System.Buffers.Binary;
using PortSentinel.Analysis;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Synthetic;

namespace PortSentinel.Tests.Synthetic;

public class TrafficGeneratorTests
{
    private const int Packets = 200_000;

    [Fact]
    public void The_same_seed_gives_the_same_frames_and_another_seed_does_not()
    {
        MemoryCapture a = TrafficGenerator.Generate(100_000, seed: 7);
        MemoryCapture b = TrafficGenerator.Generate(100_000, seed: 7);
        MemoryCapture c = TrafficGenerator.Generate(100_000, seed: 8);
        Assert.Equal(a.Count, b.Count);
        bool differs = false;
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a.Timestamp(i), b.Timestamp(i));
            Assert.Equal(a.WireLength(i), b.WireLength(i));
            Assert.True(a.Frame(i).SequenceEqual(b.Frame(i)), $"frame {i} differs between two runs with one seed");
            differs |= !a.Frame(i).SequenceEqual(c.Frame(i));
        }
        Assert.True(differs);
    }

    [Fact]
    public void Every_frame_is_well_formed_with_the_lengths_a_real_stack_writes()
    {
        MemoryCapture capture = TrafficGenerator.Generate(Packets, seed: 1);
        Assert.Equal(Packets, capture.Count);
        var packet = new Packet();
        long ipv6 = 0;
        long notIp = 0;
        long truncated = 0;
        for (int i = 0; i < capture.Count; i++)
        {
            ReadOnlySpan<byte> frame = capture.Frame(i);
            int wire = capture.WireLength(i);
            Assert.InRange(frame.Length, 60, TrafficGenerator.SnapLength);
            Assert.True(wire >= frame.Length);
            truncated += wire > frame.Length ? 1 : 0;
            if (i > 0)
            {
                Assert.InRange(capture.Timestamp(i) - capture.Timestamp(i - 1), 0, 2);
            }

            ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
            if (etherType == 0x0800)
            {
                // Total length covers the IP packet; only Ethernet padding (to 60) follows it.
                int total = BinaryPrimitives.ReadUInt16BigEndian(frame[16..]);
                Assert.Equal(Math.Max(60, 14 + total), wire);
            }
            else if (etherType == 0x86DD)
            {
                ipv6++;
                int payload = BinaryPrimitives.ReadUInt16BigEndian(frame[18..]);
                Assert.Equal(Math.Max(60, 14 + 40 + payload), wire);
            }
            else
            {
                Assert.Equal(0x0806, etherType);
                notIp++;
            }

            packet.Timestamp = capture.Timestamp(i);
            packet.WireLength = wire;
            DecodeEvent result = PacketDecoder.Decode(frame, LinkType.Ethernet, ref packet);
            Assert.True(result == DecodeEvent.Ok || (result == DecodeEvent.IgnoredNotIp && etherType == 0x0806), $"frame {i}: {result.Name()}");
            if (result == DecodeEvent.Ok)
            {
                Assert.True(packet.HasTransport, $"frame {i} has no transport header");
            }
        }
        // Mostly IPv4, some IPv6 and ARP, and full-size segments cut by the snaplen.
        Assert.InRange(ipv6, Packets / 20, Packets / 4);
        Assert.InRange(notIp, 1, Packets / 50);
        Assert.InRange(truncated, Packets / 10, Packets);
        // About 1 µs apart: a 1 Mpps link.
        Assert.InRange(capture.Duration, Packets * 9 / 10, Packets * 11 / 10);
    }

    [Fact]
    public void Every_planted_scanner_and_no_other_source_is_detected()
    {
        using var file = new TempFile();
        TrafficSummary summary = TrafficGenerator.Write(file.Path, Packets, seed: 1);
        Assert.Equal(Packets, summary.Packets);
        Assert.Equal(new FileInfo(file.Path).Length, summary.Bytes);

        AnalysisResult result = OfflineAnalysis.Run([file.Path], new DetectorOptions());

        Assert.Equal(Packets, result.Packets);
        Assert.Equal(0, result.Malformed);
        foreach (PlantedScan scan in summary.Scans)
        {
            Detection? found = result.Detections.FirstOrDefault(d => d.Source == scan.Source);
            Assert.True(found is not null, $"{scan.Name} from {scan.Source} was not detected");
            Assert.True((found.Kinds & scan.Kind) != 0,
                $"{scan.Name} from {scan.Source} was detected as {string.Join(',', ScanKindNames.Names(found.Kinds))}");
        }
        NetAddress[] others = result.Detections.Select(d => d.Source).Except(summary.Scanners).ToArray();
        Assert.True(others.Length == 0, $"detected sources that planted no scan: {string.Join(", ", others)}");
    }

    [Fact]
    public void Benign_traffic_alone_raises_no_detection()
    {
        using var file = new TempFile();
        TrafficSummary summary = TrafficGenerator.Write(file.Path, Packets, seed: 3, TrafficMix.BenignOnly);
        Assert.Empty(summary.Scans);
        Assert.Equal(0, summary.ScanPackets + summary.NoisePackets);

        AnalysisResult result = OfflineAnalysis.Run([file.Path], new DetectorOptions());

        Assert.Equal(0, result.Malformed);
        Assert.Empty(result.Detections);
    }

    [Fact]
    public void The_summary_describes_each_planted_scan_and_the_noise()
    {
        var generator = new TrafficGenerator(Packets, seed: 2);
        Span<byte> frame = stackalloc byte[TrafficGenerator.SnapLength];
        while (generator.TryNext(frame, out _, out _, out _))
        {
        }
        TrafficSummary summary = generator.Summary();

        Assert.Equal(Packets, summary.Packets);
        Assert.Equal(summary.Packets, summary.BenignPackets + summary.ScanPackets + summary.NoisePackets);
        Assert.Equal(
            TrafficGenerator.PlannedScans.Select(s => (s.Source, s.Kind, s.Targets)),
            summary.Scans.Select(s => (s.Source, s.Kind, s.Targets)));
        Assert.Equal(3, summary.Scans.Count(s => s.Kind == ScanKinds.TcpSyn));
        Assert.Contains(summary.Scans, s => !s.Source.IsV4);
        Assert.Equal(6, summary.Scanners.Count);
        foreach (PlantedScan scan in summary.Scans)
        {
            Assert.InRange(scan.Packets, scan.Probes, scan.Probes * 3);
            Assert.InRange(scan.First, summary.First, scan.Last);
            Assert.InRange(scan.Last, scan.First, summary.Last);
            Assert.Equal(scan.Kind == ScanKinds.IcmpSweep ? 256 : 1000, scan.Probes);
        }
        Assert.True(summary.NoisePackets > 0 && summary.NoiseSources > 100);
        foreach (NetAddress scanner in summary.Scanners)
        {
            Assert.True(InDocumentationRange(scanner), $"{scanner} is outside the documentation ranges");
        }
    }

    [Fact]
    public void Memory_captures_replay_every_frame_with_the_time_offset()
    {
        MemoryCapture capture = TrafficGenerator.Generate(1000, seed: 1, TrafficMix.BenignOnly);
        var sink = new FirstAndCount();
        capture.Replay(sink, timeOffset: 5);
        Assert.Equal(1000, sink.Count);
        Assert.Equal(capture.Timestamp(0) + 5, sink.First);

        MemoryCapture slice = capture.Slice(10, 20);
        Assert.Equal(20, slice.Count);
        Assert.True(slice.Frame(0).SequenceEqual(capture.Frame(10)));
        Assert.True(slice.Frame(19).SequenceEqual(capture.Frame(29)));
    }

    [Fact]
    public void A_full_capture_needs_room_for_its_scans()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrafficGenerator(TrafficGenerator.MinimumPackets - 1, seed: 1));
        _ = new TrafficGenerator(1, seed: 1, TrafficMix.BenignOnly);
    }

    private static bool InDocumentationRange(NetAddress address)
    {
        if (address.IsV4)
        {
            uint net = address.V4 & 0xFFFF_FF00;
            return net is 0xC000_0200 or 0xC633_6400 or 0xCB00_7100;
        }
        return address.High >> 32 == 0x2001_0DB8;
    }

    private sealed class FirstAndCount : PortSentinel.Capture.IFrameSink
    {
        public int Count { get; private set; }

        public long First { get; private set; }

        public void OnFrame(long timestamp, int wireLength, ReadOnlySpan<byte> frame)
        {
            if (Count++ == 0)
            {
                First = timestamp;
            }
        }
    }
}
