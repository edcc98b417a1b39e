using BenchmarkDotNet.Attributes;
using PortSentinel.Capture;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Synthetic;

namespace PortSentinel.Benchmarks;

/// <summary>
/// The capture thread's work per frame, without libpcap or I/O: the 200,000-frame synthetic
/// capture (every planted scan, noise, benign mix) replayed from memory into a sink, reported
/// per frame. <c>Replay</c> is the cost of the harness itself (a sink that counts);
/// <c>DecodeOnly</c> adds decoding; <c>DecodeAndDetect</c> is <see cref="CaptureProcessor"/>,
/// in steady state: each replay moves packet time on by the capture's length, the detector has
/// seen the capture once in setup (so its detections are already open).
/// </summary>
[MemoryDiagnoser]
public class CaptureProcessorBenchmarks
{
    private const int Frames = 200_000;

    private MemoryCapture _capture = null!;
    private CaptureProcessor _processor = null!;
    private DecodingSink _decoder = null!;
    private CountingSink _counter = null!;
    private long _offset;

    [GlobalSetup]
    public void Setup()
    {
        _capture = Workload.Full();
        if (_capture.Count != Frames)
        {
            throw new InvalidOperationException($"OperationsPerInvoke assumes {Frames} frames, not {_capture.Count}.");
        }
        _counter = new CountingSink();
        _decoder = new DecodingSink();
        _processor = new CaptureProcessor(new Detector(Workload.Options(), new NullDetectionSink()), _capture.LinkType);
        DecodeAndDetect();
        DecodeAndDetect();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Frames)]
    public void Replay() => _capture.Replay(_counter);

    [Benchmark(OperationsPerInvoke = Frames)]
    public void DecodeOnly() => _capture.Replay(_decoder);

    [Benchmark(OperationsPerInvoke = Frames)]
    public void DecodeAndDetect()
    {
        _capture.Replay(_processor, _offset);
        _offset += _capture.Duration;
    }

    private sealed class CountingSink : IFrameSink
    {
        public long Bytes { get; private set; }

        public void OnFrame(long timestamp, int wireLength, ReadOnlySpan<byte> frame) => Bytes += frame.Length;
    }

    private sealed class DecodingSink : IFrameSink
    {
        private Packet _packet;

        public long Ok { get; private set; }

        public void OnFrame(long timestamp, int wireLength, ReadOnlySpan<byte> frame)
        {
            _packet.Timestamp = timestamp;
            _packet.WireLength = wireLength;
            if (PacketDecoder.Decode(frame, LinkType.Ethernet, ref _packet) == DecodeEvent.Ok)
            {
                Ok++;
            }
        }
    }
}
