namespace PortSentinel.Capture;

/// <summary>Receives captured frames, on the capture thread, one at a time.</summary>
public interface IFrameSink
{
    /// <summary>
    /// One frame. <paramref name="frame"/> points into libpcap's buffer and is valid only until this
    /// call returns: copy out what must outlive it.
    /// </summary>
    /// <param name="timestamp">Capture time, microseconds since the Unix epoch.</param>
    /// <param name="wireLength">The frame's length on the wire; <paramref name="frame"/> may be shorter (snaplen).</param>
    void OnFrame(long timestamp, int wireLength, ReadOnlySpan<byte> frame);

    /// <summary>
    /// The source delivered a batch (one pcap_dispatch call) and may wait before the next one: a
    /// sink that holds frames back must finish them now.
    /// </summary>
    void OnBatchEnd()
    {
    }

    /// <summary>
    /// A live source's read timeout passed with no frame: time goes on without packets, so what
    /// waits on time (a probe's answer) can be settled. <paramref name="now"/> is the wall clock,
    /// microseconds since the Unix epoch, as capture timestamps are.
    /// </summary>
    void OnIdle(long now)
    {
    }
}
