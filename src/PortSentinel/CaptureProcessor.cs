using PortSentinel.Capture;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel;

/// <summary>
/// What a capture thread does with each frame, inline and without allocating: decode it, count
/// what was malformed, and hand the packet to the detector. One instance per capture thread.
/// Detection runs one packet behind decoding: the detector's memory for packet N is requested
/// while packet N+1 is decoded (on the bench capture this hid part of the cache misses that
/// libpcap's streaming read causes; docs/performance.md). The packet held back is finished at
/// the end of each batch, so nothing waits longer than one pcap_dispatch call. A detector handed
/// over by <see cref="Replace"/> (new thresholds on reload) takes over, on the capture thread,
/// before the next frame, after the old one has finished and reported what it held.
/// </summary>
public sealed class CaptureProcessor : IFrameSink
{
    private Detector _detector;
    private Detector? _replacement; // handed over by Replace from another thread
    private readonly Packet[] _packets = new Packet[2];
    private readonly ulong[] _tokens = new ulong[2];
    private int _next;
    private bool _holding;

    public CaptureProcessor(Detector detector, LinkType linkType)
    {
        ArgumentNullException.ThrowIfNull(detector);
        _detector = detector;
        LinkType = linkType;
    }

    /// <summary>The link type of the frames that follow (a new file may change it).</summary>
    public LinkType LinkType { get; set; }

    public DecodeCounters Decoded { get; } = new();

    // Packets decoded, by protocol: TCP, UDP, ICMP (v4 and v6), other. Written by the capture
    // thread only; read from others as approximate live figures.
    private readonly long[] _protocols = new long[4];

    /// <summary>Packets decoded so far by protocol, read from any thread.</summary>
    public (long Tcp, long Udp, long Icmp, long Other) Protocols =>
        (Volatile.Read(ref _protocols[0]), Volatile.Read(ref _protocols[1]), Volatile.Read(ref _protocols[2]), Volatile.Read(ref _protocols[3]));

    public void OnFrame(long timestamp, int wireLength, ReadOnlySpan<byte> frame)
    {
        if (Volatile.Read(ref _replacement) is not null)
        {
            TakeReplacement();
        }
        ref Packet packet = ref _packets[_next];
        packet.Timestamp = timestamp;
        packet.WireLength = wireLength;
        DecodeEvent result = PacketDecoder.Decode(frame, LinkType, ref packet);
        Decoded.Add(result);
        if (result != DecodeEvent.Ok)
        {
            return;
        }
        _protocols[packet.Protocol switch
        {
            IpProtocol.Tcp => 0,
            IpProtocol.Udp => 1,
            IpProtocol.Icmp or IpProtocol.Ipv6Icmp => 2,
            _ => 3,
        }]++;
        _tokens[_next] = _detector.Prepare(packet);
        int held = _next ^ 1;
        if (_holding)
        {
            _detector.Process(_packets[held], _tokens[held]);
        }
        _holding = true;
        _next = held;
    }

    /// <summary>Finishes the packet held back; the capture source calls this after every batch.</summary>
    public void OnBatchEnd()
    {
        if (_holding)
        {
            int held = _next ^ 1;
            _detector.Process(_packets[held], _tokens[held]);
            _holding = false;
        }
    }

    public void OnIdle(long now) => _detector.Advance(now);

    private void TakeReplacement()
    {
        Flush();
        _detector = Interlocked.Exchange(ref _replacement, null)!;
    }

    /// <summary>Hands detection over to <paramref name="next"/> from the next frame on (call from any thread).</summary>
    public void Replace(Detector next)
    {
        ArgumentNullException.ThrowIfNull(next);
        Volatile.Write(ref _replacement, next);
    }

    /// <summary>Once capture has ended: finishes the packet held back and reports every scan still open.</summary>
    public void Flush()
    {
        OnBatchEnd();
        _detector.Flush();
    }
}
