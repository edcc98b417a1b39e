using PortSentinel.Capture;
using PortSentinel.Decode;

namespace PortSentinel.Synthetic;

/// <summary>
/// Captured frames held in memory (one contiguous array), to be replayed into an
/// <see cref="IFrameSink"/> as a capture file would be, without libpcap or I/O: for benchmarks
/// that must measure decode and detection alone. Building one allocates; replaying does not.
/// </summary>
public sealed class MemoryCapture
{
    private readonly byte[] _data;
    private readonly int[] _offsets;
    private readonly int[] _wireLengths;
    private readonly long[] _timestamps;

    private MemoryCapture(byte[] data, int[] offsets, int[] wireLengths, long[] timestamps)
    {
        _data = data;
        _offsets = offsets;
        _wireLengths = wireLengths;
        _timestamps = timestamps;
    }

    public LinkType LinkType { get; } = LinkType.Ethernet;

    public int Count => _timestamps.Length;

    /// <summary>Captured bytes of all frames.</summary>
    public long Bytes => _offsets[^1];

    /// <summary>From the first frame's timestamp to just after the last one's, microseconds (0 when empty).</summary>
    public long Duration => Count == 0 ? 0 : _timestamps[^1] - _timestamps[0] + 1;

    public ReadOnlySpan<byte> Frame(int index) => _data.AsSpan(_offsets[index], _offsets[index + 1] - _offsets[index]);

    public long Timestamp(int index) => _timestamps[index];

    public int WireLength(int index) => _wireLengths[index];

    /// <summary>
    /// Delivers every frame to <paramref name="sink"/> in order, with <paramref name="timeOffset"/>
    /// microseconds added to each timestamp (so repeated replays can keep time moving forward).
    /// </summary>
    public void Replay(IFrameSink sink, long timeOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(sink);
        byte[] data = _data;
        int[] offsets = _offsets;
        int[] wire = _wireLengths;
        long[] timestamps = _timestamps;
        for (int i = 0; i < timestamps.Length; i++)
        {
            int start = offsets[i];
            sink.OnFrame(timestamps[i] + timeOffset, wire[i], new ReadOnlySpan<byte>(data, start, offsets[i + 1] - start));
        }
        sink.OnBatchEnd();
    }

    /// <summary>A copy of frames [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>).</summary>
    public MemoryCapture Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Count);
        int from = _offsets[start];
        int to = _offsets[start + count];
        byte[] data = _data.AsSpan(from, to - from).ToArray();
        int[] offsets = new int[count + 1];
        for (int i = 0; i <= count; i++)
        {
            offsets[i] = _offsets[start + i] - from;
        }
        return new MemoryCapture(data, offsets, _wireLengths.AsSpan(start, count).ToArray(), _timestamps.AsSpan(start, count).ToArray());
    }

    /// <summary>Runs <paramref name="generator"/> to its end and keeps every frame.</summary>
    internal static MemoryCapture From(TrafficGenerator generator)
    {
        long total = generator.Packets - generator.Generated;
        if (total > Array.MaxLength / TrafficGenerator.SnapLength)
        {
            throw new ArgumentOutOfRangeException(nameof(generator), total, "Too many frames to hold in one array; write a file instead.");
        }
        int count = (int)total;
        byte[] data = new byte[count * TrafficGenerator.SnapLength];
        int[] offsets = new int[count + 1];
        int[] wire = new int[count];
        long[] timestamps = new long[count];
        int used = 0;
        for (int i = 0; i < count; i++)
        {
            Span<byte> frame = data.AsSpan(used, TrafficGenerator.SnapLength);
            if (!generator.TryNext(frame, out timestamps[i], out wire[i], out int captured))
            {
                throw new InvalidOperationException("The generator ended early.");
            }
            offsets[i] = used;
            used += captured;
        }
        offsets[count] = used;
        Array.Resize(ref data, used);
        return new MemoryCapture(data, offsets, wire, timestamps);
    }
}
