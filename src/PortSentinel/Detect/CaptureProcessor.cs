using PortSentinel.Capture;
using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>
/// What a capture thread does with each frame, inline and without allocating: decode it, count
/// what was malformed, and hand the packet to the detector. One instance per capture thread.
/// Detection runs <see cref="Held"/> packets behind decoding, so that the detector's memory for a
/// packet is requested well before it is read (on the bench capture, libpcap's streaming read
/// leaves the detector's tables in memory rather than in the CPU's caches; docs/performance.md):
/// the packet's line of the settled cache as soon as it is decoded, and, <see cref="Lead"/>
/// packets later, the flow-table sets it will look up if that line says it needs the tables.
/// The detector still sees every packet in capture order; only the reads come early. The packets
/// held back are finished at the end of each batch, so nothing waits longer than one
/// pcap_dispatch call. A detector handed over by <see cref="Replace"/> (new thresholds on
/// reload) takes over, on the capture thread, before the next frame, after the old one has
/// finished and reported what it held.
/// </summary>
public sealed class CaptureProcessor : IFrameSink
{
    private Detector _detector;
    private Detector? _replacement; // handed over by Replace from another thread
    // Measured on the bench capture (docs/performance.md): a lead of 2 packets, about 200 ns of
    // libpcap's read and decoding, gives each request time to arrive.
    internal const int Lead = 2;
    internal const int Held = 2 * Lead;

    // A ring of the packets decoded and not yet detected, indexed by a running count modulo its size.
    private const int RingSize = 8;
    private readonly Packet[] _packets = new Packet[RingSize];
    private readonly ulong[] _tokens = new ulong[RingSize];
    private long _decoded;
    private long _detected;

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
        int slot = Slot(_decoded);
        ref Packet packet = ref _packets[slot];
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
        _tokens[slot] = _detector.Prepare(packet);
        _decoded++;
        long ahead = _decoded - 1 - Lead;
        if (ahead >= _detected)
        {
            int aheadSlot = Slot(ahead);
            _detector.Anticipate(_packets[aheadSlot], _tokens[aheadSlot]);
        }
        if (_decoded - _detected > Held)
        {
            DetectNext();
        }
    }

    /// <summary>Finishes the packets held back; the capture source calls this after every batch.</summary>
    public void OnBatchEnd()
    {
        while (_detected < _decoded)
        {
            DetectNext();
        }
    }

    private void DetectNext()
    {
        int slot = Slot(_detected++);
        _detector.Process(_packets[slot], _tokens[slot]);
    }

    private static int Slot(long count) => (int)(count & (RingSize - 1));

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

    /// <summary>Once capture has ended: finishes the packets held back and reports every scan still open.</summary>
    public void Flush()
    {
        OnBatchEnd();
        _detector.Flush();
    }
}
