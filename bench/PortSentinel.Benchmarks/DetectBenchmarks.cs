using BenchmarkDotNet.Attributes;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Synthetic;

namespace PortSentinel.Benchmarks;

/// <summary>
/// <see cref="Detector.Process"/> over pre-decoded packets in steady state, reported per packet.
/// <c>benign</c>: 64k packets of the benign mix (connections to known servers: few first
/// contacts). <c>scan</c>: the same with a SYN scan (answered by RST) and a UDP scan (answered by
/// ICMP port unreachable) woven in, one probe and one answer in every 20 packets; each operation
/// moves the probed ports on, so that the probes keep making new first contacts for a scanner
/// already recognised (its detection is opened in setup: opening one allocates, by design).
/// </summary>
[MemoryDiagnoser]
public class DetectBenchmarks
{
    private const int BenignPackets = 65_536;
    private const int Spacing = 20;

    private static readonly NetAddress _scanner = NetAddress.Parse("203.0.113.99");
    private static readonly NetAddress _target = NetAddress.Parse("192.0.2.10");

    private Packet[] _packets = [];
    private int[] _probes = [];
    private Detector _detector = null!;
    private long _span;

    [Params("benign", "scan")]
    public string Mix { get; set; } = "benign";

    [GlobalSetup]
    public void Setup()
    {
        Packet[] benign = Workload.Decode(Workload.Benign(BenignPackets));
        (_packets, _probes) = Mix == "scan" ? WeaveScans(benign) : (benign, []);
        _span = _packets[^1].Timestamp - _packets[0].Timestamp + 1;
        _detector = new Detector(Workload.Options(), new NullDetectionSink());
        // Twice: the first pass learns the hosts (and recognises the scanner), the second is
        // already steady.
        Process();
        Process();
        int expected = Mix == "scan" ? 1 : 0;
        if (_detector.ActiveDetections != expected)
        {
            throw new InvalidOperationException($"Setup should leave {expected} open detection(s), not {_detector.ActiveDetections}.");
        }
    }

    [Benchmark(OperationsPerInvoke = BenignPackets)]
    public void Process()
    {
        Packet[] packets = _packets;
        long span = _span;
        Detector detector = _detector;
        for (int i = 0; i < packets.Length; i++)
        {
            ref Packet p = ref packets[i];
            p.Timestamp += span;
            detector.Process(p);
        }
        // Next time the scanner probes ports it has not probed for a while.
        int[] probes = _probes;
        ushort shift = (ushort)(probes.Length / 2);
        for (int i = 0; i < probes.Length; i++)
        {
            ref Packet p = ref packets[probes[i]];
            if (p.Source == _scanner)
            {
                p.DestinationPort = Rotate(p.DestinationPort, shift);
            }
            else if (p.HasEmbedded)
            {
                p.EmbeddedDestinationPort = Rotate(p.EmbeddedDestinationPort, shift);
            }
            else
            {
                p.SourcePort = Rotate(p.SourcePort, shift);
            }
        }
    }

    private static ushort Rotate(ushort port, ushort shift) => (ushort)((port - 1 + shift) % 65535 + 1);

    /// <summary>Every <see cref="Spacing"/> packets a probe, half way on its answer; SYN and UDP probes alternate.</summary>
    private static (Packet[] Packets, int[] Probes) WeaveScans(Packet[] benign)
    {
        var packets = new List<Packet>(benign.Length + (benign.Length / Spacing * 2));
        var probes = new List<int>();
        Span<byte> frame = stackalloc byte[TrafficGenerator.SnapLength];
        Packet pending = default;
        ushort port = 1;
        for (int i = 0; i < benign.Length; i++)
        {
            packets.Add(benign[i]);
            long now = benign[i].Timestamp;
            if (i % Spacing == 0)
            {
                bool udp = (i / Spacing % 2) == 1;
                int length;
                int wire;
                if (udp)
                {
                    length = FrameComposer.Udp(frame, _scanner, _target, 44, 1, 40000, port, 0, out wire);
                }
                else
                {
                    length = FrameComposer.Tcp(frame, _scanner, _target, 44, 1, 40000, port, 1000, 0, TcpFlags.Syn, 1024, TcpOptionSet.MssOnly, 0, 0, out wire);
                }
                probes.Add(packets.Count);
                packets.Add(Decoded(frame[..length], wire, now));
                pending = udp
                    ? Decoded(frame[..FrameComposer.PortUnreachable(frame, _scanner, _target, 64, 2, 44, 1, 40000, port, 0, out wire)], wire, now)
                    : Decoded(frame[..FrameComposer.Tcp(frame, _target, _scanner, 64, 2, port, 40000, 0, 1001, TcpFlags.Rst | TcpFlags.Ack, 0, TcpOptionSet.None, 0, 0, out wire)], wire, now);
                port++;
            }
            else if (i % Spacing == Spacing / 2)
            {
                pending.Timestamp = now;
                probes.Add(packets.Count);
                packets.Add(pending);
            }
        }
        return (packets.ToArray(), probes.ToArray());
    }

    private static Packet Decoded(ReadOnlySpan<byte> frame, int wireLength, long timestamp)
    {
        var packet = new Packet { Timestamp = timestamp, WireLength = wireLength };
        if (PacketDecoder.Decode(frame, LinkType.Ethernet, ref packet) != DecodeEvent.Ok)
        {
            throw new InvalidOperationException("A woven scan packet did not decode.");
        }
        return packet;
    }
}
