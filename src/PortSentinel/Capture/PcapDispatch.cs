using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using PortSentinel.Capture.Native;

namespace PortSentinel.Capture;

/// <summary>
/// The pcap_dispatch loop shared by savefiles and live devices: frames reach an
/// <see cref="IFrameSink"/> through an unmanaged callback, with no managed allocation per frame.
/// </summary>
internal static unsafe class PcapDispatch
{
    /// <summary>
    /// Dispatches until the source ends: end of file (a savefile's pcap_dispatch returns 0), or
    /// pcap_breakloop (-2) unless <paramref name="resume"/> says the break was only to tell the
    /// sink the time. For a live device 0 only means the read timeout passed. Returns the frames
    /// delivered and, when libpcap failed, its reason; an exception thrown by the sink ends the loop
    /// and is thrown here.
    /// </summary>
    /// <remarks>
    /// The frames are counted here, in the callback: on an error pcap_dispatch returns -1 even after it
    /// has delivered frames (a savefile cut in its last record), and those frames have reached the sink.
    /// </remarks>
    public static DispatchEnd Run(PcapHandle handle, IFrameSink sink, bool live, Func<bool>? resume = null)
    {
        var state = new State(sink, handle);
        GCHandle gc = GCHandle.Alloc(state);
        try
        {
            while (true)
            {
                int n = LibPcap.pcap_dispatch(handle, -1, &OnPacket, GCHandle.ToIntPtr(gc));
                if (state.Failure is not null)
                {
                    ExceptionDispatchInfo.Capture(state.Failure).Throw();
                }
                sink.OnBatchEnd();
                if (live && (n == 0 || (n == LibPcap.ErrorBreak && resume?.Invoke() == true)))
                {
                    sink.OnIdle((DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond);
                    continue;
                }
                if (n == LibPcap.ErrorBreak || (n == 0 && !live))
                {
                    return new DispatchEnd(state.Frames, state.CapturedBytes, null);
                }
                if (n < 0)
                {
                    return new DispatchEnd(state.Frames, state.CapturedBytes, LibPcap.ErrorText(handle));
                }
            }
        }
        finally
        {
            gc.Free();
        }
    }

    /// <summary>How a dispatch loop ended: the frames delivered, the sum of their captured lengths, and libpcap's error if it failed.</summary>
    public readonly record struct DispatchEnd(long Frames, long CapturedBytes, string? Error);

    // An exception must not unwind through libpcap's C frames: it is parked here, the loop is broken,
    // and Run rethrows it on the managed side.
    private sealed class State(IFrameSink sink, PcapHandle handle)
    {
        public IFrameSink Sink { get; } = sink;

        public PcapHandle Handle { get; } = handle;

        public Exception? Failure { get; set; }

        public long Frames { get; set; }

        public long CapturedBytes { get; set; }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnPacket(nint user, LibPcap.PacketHeader* header, byte* bytes)
    {
        var state = (State)GCHandle.FromIntPtr(user).Target!;
        if (state.Failure is not null)
        {
            return;
        }
        try
        {
            long timestamp = (header->Seconds * 1_000_000L) + header->Microseconds;
            state.Frames++;
            state.CapturedBytes += header->CapturedLength;
            // libpcap guarantees caplen bytes at `bytes` for the duration of the callback.
            state.Sink.OnFrame(timestamp, (int)header->WireLength, new ReadOnlySpan<byte>(bytes, (int)header->CapturedLength));
        }
#pragma warning disable CA1031 // Any exception is carried across the native frames and rethrown.
        catch (Exception e)
#pragma warning restore CA1031
        {
            state.Failure = e;
            LibPcap.pcap_breakloop(state.Handle);
        }
    }
}
