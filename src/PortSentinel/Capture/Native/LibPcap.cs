using System.Runtime.InteropServices;

namespace PortSentinel.Capture.Native;

/// <summary>
/// libpcap (libpcap.so.0.8, Debian's package libpcap0.8), with the C names kept so that the man
/// pages (pcap_dispatch(3PCAP), …) apply as they stand.
/// </summary>
internal static unsafe partial class LibPcap
{
    private const string Library = "libpcap.so.0.8";

    /// <summary>PCAP_ERRBUF_SIZE from pcap/pcap.h.</summary>
    public const int ErrorBufferSize = 256;

    public const uint TimestampPrecisionMicro = 0;

    /// <summary>pcap_dispatch's return when pcap_breakloop ended it (PCAP_ERROR_BREAK).</summary>
    public const int ErrorBreak = -2;

    /// <summary>struct pcap_pkthdr on LP64 Linux: a struct timeval (two longs), then caplen and len.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PacketHeader
    {
        public nint Seconds;
        public nint Microseconds;
        public uint CapturedLength;
        public uint WireLength;
    }

    [LibraryImport(Library, EntryPoint = "pcap_open_offline_with_tstamp_precision", StringMarshalling = StringMarshalling.Utf8)]
    public static partial PcapHandle pcap_open_offline_with_tstamp_precision(string path, uint precision, byte* errbuf);

    [LibraryImport(Library, EntryPoint = "pcap_close")]
    public static partial void pcap_close(nint handle);

    [LibraryImport(Library, EntryPoint = "pcap_datalink")]
    public static partial int pcap_datalink(PcapHandle handle);

    /// <summary>
    /// Calls <paramref name="callback"/> for each packet; with a count of -1 on a savefile, for every
    /// packet to the end of the file. Returns the number processed, 0 at end of file, -1 on error,
    /// <see cref="ErrorBreak"/> after pcap_breakloop.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "pcap_dispatch")]
    public static partial int pcap_dispatch(
        PcapHandle handle,
        int count,
        delegate* unmanaged[Cdecl]<nint, PacketHeader*, byte*, void> callback,
        nint user);

    [LibraryImport(Library, EntryPoint = "pcap_breakloop")]
    public static partial void pcap_breakloop(PcapHandle handle);

    /// <summary>A savefile's stdio stream (pcap_file(3PCAP)); valid while the handle is open, null for a live device.</summary>
    [LibraryImport(Library, EntryPoint = "pcap_file")]
    public static partial nint pcap_file(PcapHandle handle);

    [LibraryImport(Library, EntryPoint = "pcap_geterr")]
    public static partial nint pcap_geterr(PcapHandle handle);

    /// <summary>PCAP_NETMASK_UNKNOWN: the filter needs no netmask (no "ip broadcast" primitives).</summary>
    public const uint NetmaskUnknown = 0xFFFF_FFFF;

    /// <summary>struct pcap_stat (Linux): packets received, dropped by the kernel, dropped by the interface.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Statistics
    {
        public uint Received;
        public uint Dropped;
        public uint InterfaceDropped;
    }

    /// <summary>struct bpf_program: a compiled filter, freed with pcap_freecode.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BpfProgram
    {
        public uint Length;
        public nint Instructions;
    }

    [LibraryImport(Library, EntryPoint = "pcap_create", StringMarshalling = StringMarshalling.Utf8)]
    public static partial PcapHandle pcap_create(string device, byte* errbuf);

    [LibraryImport(Library, EntryPoint = "pcap_set_snaplen")]
    public static partial int pcap_set_snaplen(PcapHandle handle, int snaplen);

    [LibraryImport(Library, EntryPoint = "pcap_set_promisc")]
    public static partial int pcap_set_promisc(PcapHandle handle, int promisc);

    [LibraryImport(Library, EntryPoint = "pcap_set_timeout")]
    public static partial int pcap_set_timeout(PcapHandle handle, int milliseconds);

    [LibraryImport(Library, EntryPoint = "pcap_set_immediate_mode")]
    public static partial int pcap_set_immediate_mode(PcapHandle handle, int immediate);

    [LibraryImport(Library, EntryPoint = "pcap_set_buffer_size")]
    public static partial int pcap_set_buffer_size(PcapHandle handle, int bytes);

    /// <summary>The handle's last error message (pcap_geterr).</summary>
    public static string ErrorText(PcapHandle handle) => Marshal.PtrToStringUTF8(pcap_geterr(handle)) ?? "unknown error";

    /// <summary>0 on success, a positive PCAP_WARNING_* or a negative PCAP_ERROR_* (pcap_activate(3PCAP)).</summary>
    [LibraryImport(Library, EntryPoint = "pcap_activate")]
    public static partial int pcap_activate(PcapHandle handle);

    [LibraryImport(Library, EntryPoint = "pcap_statustostr")]
    public static partial nint pcap_statustostr(int status);

    [LibraryImport(Library, EntryPoint = "pcap_compile", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int pcap_compile(PcapHandle handle, BpfProgram* program, string filter, int optimize, uint netmask);

    [LibraryImport(Library, EntryPoint = "pcap_setfilter")]
    public static partial int pcap_setfilter(PcapHandle handle, BpfProgram* program);

    [LibraryImport(Library, EntryPoint = "pcap_freecode")]
    public static partial void pcap_freecode(BpfProgram* program);

    [LibraryImport(Library, EntryPoint = "pcap_stats")]
    public static partial int pcap_stats(PcapHandle handle, Statistics* statistics);

    [LibraryImport(Library, EntryPoint = "pcap_lib_version")]
    public static partial nint pcap_lib_version();

    public static string ErrorText(byte* errbuf) =>
        Marshal.PtrToStringUTF8((nint)errbuf) ?? "unknown libpcap error";
}
