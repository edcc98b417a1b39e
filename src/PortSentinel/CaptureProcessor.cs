using PortSentinel.Capture;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel;

/// <summary>
/// What a capture thread does with each frame, inline and without allocating: decode it, count
/// what was malformed, and hand the packet to the detector. One instance per capture thread.
/// </summary>
public sealed class CaptureProcessor : IFrameSink
{
    private readonly Detector _detector;
    private Packet _packet;

    public CaptureProcessor(Detector detector, LinkType linkType)
    {
        ArgumentNullException.ThrowIfNull(detector);
        _detector = detector;
        LinkType = linkType;
    }

    /// <summary>The link type of the frames that follow (a new file may change it).</summary>
    public LinkType LinkType { get; set; }

    public DecodeCounters Decoded { get; } = new();

    public void OnFrame(long timestamp, int wireLength, ReadOnlySpan<byte> frame)
    {
        _packet.Timestamp = timestamp;
        _packet.WireLength = wireLength;
        DecodeEvent result = PacketDecoder.Decode(frame, LinkType, ref _packet);
        Decoded.Add(result);
        if (result == DecodeEvent.Ok)
        {
            _detector.Process(_packet);
        }
    }
}
