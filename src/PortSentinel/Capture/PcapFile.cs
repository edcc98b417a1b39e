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

    /// <summary>
    /// Delivers every frame of the file to <paramref name="sink"/>, and returns how many; a file
    /// damaged or cut short is <see cref="CaptureException"/>, after the frames before the damage
    /// were delivered. <see cref="Read"/> returns the damage instead.
    /// </summary>
    public long ReadAll(IFrameSink sink)
    {
        SavefileRead read = Read(sink);
        if (read.Damage is { } damage)
        {
            throw new CaptureException($"{Path}: {damage.Where}: {damage.Reason}");
        }
        return read.Packets;
    }

    /// <summary>
    /// Delivers every frame of the file to <paramref name="sink"/>. A file damaged or cut short
    /// delivers the frames before the damage, and the result says where it was.
    /// </summary>
    public SavefileRead Read(IFrameSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        PcapDispatch.DispatchEnd end = PcapDispatch.Run(_handle, sink, live: false);
        if (end.Error is null)
        {
            return new SavefileRead(end.Frames, null);
        }
        long? offset = SavefileLayout.EndOfPackets(_handle, end.Frames, end.CapturedBytes);
        return new SavefileRead(end.Frames, new SavefileDamage(Path, end.Frames, offset, end.Error));
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>What <see cref="PcapFile.Read"/> read: the frames delivered, and the damage that ended it early, if any.</summary>
public readonly record struct SavefileRead(long Packets, SavefileDamage? Damage);
