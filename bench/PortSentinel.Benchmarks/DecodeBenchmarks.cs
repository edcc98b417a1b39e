using BenchmarkDotNet.Attributes;
using PortSentinel.Decode;
using PortSentinel.Synthetic;

namespace PortSentinel.Benchmarks;

/// <summary>
/// <see cref="PacketDecoder.Decode"/> over 4096 consecutive frames of the synthetic capture (TCP
/// with options, UDP, ICMP errors quoting probes, ICMPv6, ARP; 15% IPv6), taken where three
/// planted scans overlap the benign traffic. Reported per frame.
/// </summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private const int Frames = 4096;

    private MemoryCapture _frames = null!;
    private Packet _packet;

    [GlobalSetup]
    public void Setup() => _frames = Workload.Full().Slice(50_000, Frames);

    [Benchmark(OperationsPerInvoke = Frames)]
    public int Decode()
    {
        MemoryCapture frames = _frames;
        int ok = 0;
        for (int i = 0; i < Frames; i++)
        {
            _packet.Timestamp = frames.Timestamp(i);
            _packet.WireLength = frames.WireLength(i);
            if (PacketDecoder.Decode(frames.Frame(i), LinkType.Ethernet, ref _packet) == DecodeEvent.Ok)
            {
                ok++;
            }
        }
        return ok;
    }
}
