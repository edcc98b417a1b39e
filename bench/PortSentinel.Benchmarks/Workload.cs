using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Synthetic;

namespace PortSentinel.Benchmarks;

/// <summary>The inputs the benchmarks share, built once per process from the synthetic capture generator.</summary>
internal static class Workload
{
    public const int Seed = 1;

    /// <summary>The 200,000-frame full synthetic capture: every planted scan, about 0.2 s of a 1 Mpps link.</summary>
    public static MemoryCapture Full() => TrafficGenerator.Generate(200_000, Seed);

    public static MemoryCapture Benign(int packets) => TrafficGenerator.Generate(packets, Seed, TrafficMix.BenignOnly);

    /// <summary>
    /// Default settings, except that a detection stays open however long the benchmark runs:
    /// closing one (after IdleSeconds of packet time without a probe) builds its report, which
    /// allocates by design, and replays move packet time on by the capture's length each time.
    /// </summary>
    public static DetectorOptions Options() => new() { IdleSeconds = 86_400 };

    public static Packet[] Decode(MemoryCapture capture)
    {
        var packets = new Packet[capture.Count];
        for (int i = 0; i < packets.Length; i++)
        {
            packets[i].Timestamp = capture.Timestamp(i);
            packets[i].WireLength = capture.WireLength(i);
            DecodeEvent result = PacketDecoder.Decode(capture.Frame(i), capture.LinkType, ref packets[i]);
            if (result.IsMalformed())
            {
                throw new InvalidOperationException($"Synthetic frame {i} did not decode: {result.Name()}.");
            }
        }
        return packets;
    }
}

/// <summary>Counts detections and drops them: benchmarks need the detector's work, not its reports.</summary>
internal sealed class NullDetectionSink : IDetectionSink
{
    public int Raised { get; private set; }

    public int Closed { get; private set; }

    void IDetectionSink.Raised(Detection detection) => Raised++;

    void IDetectionSink.Closed(Detection detection) => Closed++;
}
