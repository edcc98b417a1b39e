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
    /// delivered; a libpcap error or an exception thrown by the sink ends the loop and is thrown
    /// here.
    /// </summary>
    public static long Run(PcapHandle handle, IFrameSink sink, bool live, string source, Func<bool>? resume = null)
    {
        var state = new State(sink, handle);
        GCHandle gc = GCHandle.Alloc(state);
        try
        {
            long total = 0;
            while (true)
            {
                int n = LibPcap.pcap_dispatch(handle, -1, &OnPacket, GCHandle.ToIntPtr(gc));
                if (state.Failure is not null)
                {
                    ExceptionDispatchInfo.Capture(state.Failure).Throw();
                }
                if (n > 0)
                {
                    total += n;
                }
                sink.OnBatchEnd();
                if (live && (n == 0 || (n == LibPcap.ErrorBreak && resume?.Invoke() == true)))
                {
                    sink.OnIdle((DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond);
                    continue;
                }
                if (n == LibPcap.ErrorBreak || (n == 0 && !live))
                {
                    return total;
                }
                if (n < 0)
                {
                    string reason = LibPcap.ErrorText(handle);
                    throw new CaptureException($"{source}: read failed after {total} packets: {reason}");
                }
            }
        }
        finally
        {
            gc.Free();
        }
    }

    // An exception must not unwind through libpcap's C frames: it is parked here, the loop is broken,
    // and Run rethrows it on the managed side.
    private sealed class State(IFrameSink sink, PcapHandle handle)
    {
        public IFrameSink Sink { get; } = sink;

        public PcapHandle Handle { get; } = handle;

        public Exception? Failure { get; set; }
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
