using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using PortSentinel.Capture.Native;
using PortSentinel.Decode;

namespace PortSentinel.Capture;

/// <summary>
/// A pcap or pcapng savefile read through libpcap (pcap_open_offline reads both formats), delivered
/// frame by frame to an <see cref="IFrameSink"/> through pcap_dispatch and an unmanaged callback:
/// no managed allocation per frame.
/// </summary>
public sealed unsafe class PcapFile : IDisposable
{
    private readonly PcapHandle _handle;

    private PcapFile(string path, PcapHandle handle)
    {
        Path = path;
        _handle = handle;
        LinkType = (LinkType)LibPcap.pcap_datalink(handle);
    }

    public string Path { get; }

    public LinkType LinkType { get; }

    /// <summary>Opens a savefile, or throws <see cref="CaptureException"/> naming the file and libpcap's reason.</summary>
    public static PcapFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new CaptureException($"{path}: no such file. Give the path of a pcap or pcapng capture.");
        }
        byte* errbuf = stackalloc byte[LibPcap.ErrorBufferSize];
        errbuf[0] = 0;
        PcapHandle handle;
        try
        {
            handle = LibPcap.pcap_open_offline_with_tstamp_precision(path, LibPcap.TimestampPrecisionMicro, errbuf);
        }
        catch (DllNotFoundException e)
        {
            throw new CaptureException("libpcap (libpcap.so.0.8) is not installed: apt-get install libpcap0.8", e);
        }
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new CaptureException($"{path}: cannot read as a capture: {LibPcap.ErrorText(errbuf)}");
        }
        return new PcapFile(path, handle);
    }

    /// <summary>The libpcap version string, or null when libpcap cannot be loaded.</summary>
    public static string? LibraryVersion()
    {
        try
        {
            return Marshal.PtrToStringUTF8(LibPcap.pcap_lib_version());
        }
        catch (DllNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Delivers every frame of the file to <paramref name="sink"/>; returns how many.</summary>
    public long ReadAll(IFrameSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var state = new DispatchState(sink, _handle);
        GCHandle gc = GCHandle.Alloc(state);
        try
        {
            long total = 0;
            while (true)
            {
                int n = LibPcap.pcap_dispatch(_handle, -1, &OnPacket, GCHandle.ToIntPtr(gc));
                if (state.Failure is null)
                {
                    sink.OnBatchEnd();
                }
                if (state.Failure is not null)
                {
                    ExceptionDispatchInfo.Capture(state.Failure).Throw();
                }
                if (n == 0)
                {
                    return total;
                }
                if (n < 0)
                {
                    string reason = Marshal.PtrToStringUTF8(LibPcap.pcap_geterr(_handle)) ?? "unknown error";
                    throw new CaptureException($"{Path}: read failed after {total} packets: {reason}");
                }
                total += n;
            }
        }
        finally
        {
            gc.Free();
        }
    }

    public void Dispose() => _handle.Dispose();

    // An exception must not unwind through libpcap's C frames: it is parked here, the loop is broken,
    // and ReadAll rethrows it on the managed side.
    private sealed class DispatchState(IFrameSink sink, PcapHandle handle)
    {
        public IFrameSink Sink { get; } = sink;

        public PcapHandle Handle { get; } = handle;

        public Exception? Failure { get; set; }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnPacket(nint user, LibPcap.PacketHeader* header, byte* bytes)
    {
        var state = (DispatchState)GCHandle.FromIntPtr(user).Target!;
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
