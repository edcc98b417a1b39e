using PortSentinel.Decode;
using PortSentinel.Detect;
using static PortSentinel.Tests.Detect.DetectorHarness;

namespace PortSentinel.Tests.Detect;

public class DetectorBoundsTests
{
    [Fact]
    public void A_scan_inside_a_flood_of_two_million_spoofed_sources_is_still_seen_and_memory_stays_flat()
    {
        var h = new DetectorHarness(new DetectorOptions { SourceCapacity = 16384, FlowCapacity = 65536 });
        var target = A("192.0.2.2");
        var scanner = A("203.0.113.66");
        var random = new Random(7);
        Packet flood = Tcp(target, 1, target, 80, TcpFlags.Syn);

        // Warm the tables up, so the measurement below sees steady state.
        SendFlood(h, ref flood, random, 200_000);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        ushort port = 1;
        for (int burst = 0; burst < 1800; burst++)
        {
            SendFlood(h, ref flood, random, 1000);
            h.SynToClosed(scanner, target, port++);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        var detections = h.Finish();
        Detection d = Assert.Single(detections, x => x.Source == scanner);
        Assert.Contains("tcp-syn", ScanKindNames.Names(d.Kinds));
        Assert.Contains("vertical", ScanKindNames.Names(d.Kinds));
        Assert.True(d.Ports >= 1000, $"the scan's evidence kept {d.Ports} ports");
        Assert.True(h.Detector.SourcesEvicted > 1_000_000, "the flood must have cycled the source table");
        Assert.DoesNotContain(detections, x => x.Source != scanner);
        // 1.8 million flood packets: the only allocations are the one scan's evidence (~25 KB and
        // its target set) and the detection record.
        Assert.True(allocated < 256 * 1024, $"allocated {allocated} bytes during the flood");
    }

    private static void SendFlood(DetectorHarness h, ref Packet flood, Random random, int count)
    {
        for (int i = 0; i < count; i++)
        {
            flood.Source = NetAddress.FromV4((uint)random.Next() | 0x0100_0000u);
            flood.SourcePort = (ushort)random.Next(1024, 65535);
            flood.Timestamp = h.Now;
            h.Detector.Process(flood);
            h.Advance(1);
        }
    }

    [Fact]
    public void Steady_benign_traffic_allocates_nothing_per_packet()
    {
        var h = new DetectorHarness();
        var packets = new List<Packet>();
        const TcpOptionKinds stack = TcpOptionKinds.Mss | TcpOptionKinds.SackPermitted | TcpOptionKinds.Timestamp;
        for (int c = 1; c <= 50; c++)
        {
            var client = A($"198.51.100.{c}");
            var server = A($"203.0.113.{(c % 5) + 1}");
            ushort sport = (ushort)(40000 + c);
            packets.Add(Tcp(client, sport, server, 443, TcpFlags.Syn, options: stack));
            packets.Add(Tcp(server, 443, client, sport, TcpFlags.Syn | TcpFlags.Ack, options: stack));
            packets.Add(Tcp(client, sport, server, 443, TcpFlags.Ack | TcpFlags.Psh, payload: 300));
            packets.Add(Tcp(server, 443, client, sport, TcpFlags.Ack, payload: 1400));
            packets.Add(Udp(client, sport, A("192.0.2.53"), 53));
            packets.Add(Udp(A("192.0.2.53"), 53, client, sport));
            packets.Add(Icmp(client, server, 8));
            packets.Add(Icmp(server, client, 0));
            packets.Add(Protocol(client, server, 50));
        }
        void Round()
        {
            foreach (Packet packet in packets)
            {
                h.Feed(packet);
                h.Advance(200);
            }
        }
        for (int i = 0; i < 200; i++)
        {
            Round(); // warm-up: tables filled, windows rotated, sweeps run
        }
        // Steady state: a run of 900,000 packets that allocates nothing.
        List<long> runs = Allocations.OfRuns(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                Round();
            }
        });
        Assert.True(runs[^1] == 0, $"bytes allocated in each run of 900,000 packets: {string.Join(", ", runs)}");
        Assert.Empty(h.Raised);
    }
}
