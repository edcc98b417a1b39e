using System.Runtime.InteropServices;
using PortSentinel.Capture.Native;
using PortSentinel.Common;
using PortSentinel.Decode;

namespace PortSentinel.Capture;

/// <summary>What the kernel delivered and dropped for one device (pcap_stats(3PCAP)).</summary>
public readonly record struct CaptureStatistics(long Received, long Dropped, long InterfaceDropped);

/// <summary>How a live device is opened. The defaults follow what was measured (shared DESIGN.md).</summary>
public sealed class LiveCaptureOptions
{
    public const string Section = "Capture";

    /// <summary>
    /// Bytes kept of each frame: enough for Ethernet, two VLAN tags, IPv6 and a TCP header with
    /// options, or an ICMPv6 error quoting an IPv6 header and 8 bytes (110 bytes). A larger snaplen
    /// costs copying and, measured here, drops.
    /// </summary>
    public int SnapLength { get; set; } = 128;

    /// <summary>
    /// The kernel hands over a block of frames at least this often (TPACKET_V3 block timeout), so a
    /// probe reaches the detector at most this late. Immediate mode would cost ~10× the CPU.
    /// </summary>
    public int ReadTimeoutMilliseconds { get; set; } = 1;

    /// <summary>The kernel ring buffer; larger rides out longer bursts without drops.</summary>
    public int BufferBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>A BPF filter compiled into the kernel (pcap-filter(7)): what detection needs and nothing else.</summary>
    public string Filter { get; set; } = "ip or ip6";

    /// <summary>Also see frames addressed to other hosts (for a sensor on a mirror port).</summary>
    public bool Promiscuous { get; set; }

    /// <summary>Returns the problems, each naming its key, the value and the range; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        // Below 64 bytes an IPv4 TCP header behind two VLAN tags is cut; libpcap's own ceiling is 262144.
        OptionRange.Check(errors, $"{Section}:{nameof(SnapLength)}", SnapLength, 64, 262_144, "bytes");
        // 0 would wait for a full block however long it takes; beyond a second a probe reaches the detector that late.
        OptionRange.Check(errors, $"{Section}:{nameof(ReadTimeoutMilliseconds)}", ReadTimeoutMilliseconds, 1, 1000, "milliseconds");
        // The ring is kernel memory locked per interface.
        OptionRange.Check(errors, $"{Section}:{nameof(BufferBytes)}", BufferBytes, 1 << 16, 1 << 30, "bytes");
        // And at most a quarter of what this process may use (a cgroup limit counts the ring too),
        // leaving the rest to the detector's tables (half) and everything else.
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (BufferBytes > available / 4 && BufferBytes <= 1 << 30)
        {
            errors.Add($"{Section}:{nameof(BufferBytes)} is {BufferBytes}: a ring of {BufferBytes >> 20} MiB per interface is more than a quarter of the {available >> 20} MiB this process may use; give at most {available / 4} (docs/configuration.md).");
        }
        return errors;
    }
}

/// <summary>
/// A live network device read through libpcap in non-immediate mode: <see cref="Run"/> blocks,
/// delivering frames to a sink on the calling thread, until <see cref="Stop"/> is called from any
/// thread (pcap_breakloop, which also wakes a read waiting for packets).
/// </summary>
public sealed unsafe class PcapLive : IDisposable
{
    /// <summary>
    /// How often a quiet device's read is woken to tell the sink the time (<see cref="IFrameSink.OnIdle"/>).
    /// With TPACKET_V3 libpcap waits for the kernel's next block of frames, which never comes while
    /// nothing arrives; without the tick a probe met by silence would wait for the next packet.
    /// </summary>
    private static readonly TimeSpan _tick = TimeSpan.FromSeconds(1);

    private readonly PcapHandle _handle;
    private readonly Lock _statisticsLock = new();
    private volatile bool _stopping;

    private PcapLive(string device, PcapHandle handle, string? warning)
    {
        Device = device;
        _handle = handle;
        Warning = warning;
        LinkType = (LinkType)LibPcap.pcap_datalink(handle);
    }

    public string Device { get; }

    public LinkType LinkType { get; }

    /// <summary>A warning libpcap gave while activating the device (e.g. promiscuous mode not supported), or null.</summary>
    public string? Warning { get; }

    /// <summary>Opens and activates <paramref name="device"/>, or throws <see cref="CaptureException"/> saying what is wrong and how to fix it.</summary>
    public static PcapLive Open(string device, LiveCaptureOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        ArgumentNullException.ThrowIfNull(options);
        byte* errbuf = stackalloc byte[LibPcap.ErrorBufferSize];
        errbuf[0] = 0;
        PcapHandle handle;
        try
        {
            handle = LibPcap.pcap_create(device, errbuf);
        }
        catch (DllNotFoundException e)
        {
            throw new CaptureException("libpcap (libpcap.so.0.8) is not installed: apt-get install libpcap0.8", e);
        }
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new CaptureException($"{device}: cannot capture: {LibPcap.ErrorText(errbuf)}");
        }
        try
        {
            LibPcap.pcap_set_snaplen(handle, options.SnapLength);
            LibPcap.pcap_set_promisc(handle, options.Promiscuous ? 1 : 0);
            LibPcap.pcap_set_timeout(handle, options.ReadTimeoutMilliseconds);
            LibPcap.pcap_set_immediate_mode(handle, 0);
            LibPcap.pcap_set_buffer_size(handle, options.BufferBytes);
            int status = LibPcap.pcap_activate(handle);
            if (status < 0)
            {
                throw new CaptureException($"{device}: {ActivationProblem(handle, status)}");
            }
            string? warning = status > 0 ? Marshal.PtrToStringUTF8(LibPcap.pcap_statustostr(status)) : null;
            SetFilter(handle, device, options.Filter);
            return new PcapLive(device, handle, warning);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Delivers frames to <paramref name="sink"/> until <see cref="Stop"/>; returns how many.</summary>
    public long Run(IFrameSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        // The first tick at once, so that its path is compiled at start, not under a first scan.
        using var tick = new Timer(_ => LibPcap.pcap_breakloop(_handle), null, TimeSpan.Zero, _tick);
        PcapDispatch.DispatchEnd end = PcapDispatch.Run(_handle, sink, live: true, resume: () => !_stopping);
        if (end.Error is not null)
        {
            throw new CaptureException($"{Device}: read failed after {end.Frames} packets: {end.Error}");
        }
        return end.Frames;
    }

    /// <summary>Makes <see cref="Run"/> return after the batch in hand; safe from any thread.</summary>
    public void Stop()
    {
        _stopping = true;
        LibPcap.pcap_breakloop(_handle);
    }

    /// <summary>The counts since the device was opened; safe from any thread.</summary>
    public CaptureStatistics Statistics()
    {
        LibPcap.Statistics stats;
        lock (_statisticsLock) // libpcap adds each reading of the kernel's counters to its totals
        {
            if (LibPcap.pcap_stats(_handle, &stats) != 0)
            {
                throw new CaptureException($"{Device}: pcap_stats failed: {LibPcap.ErrorText(_handle)}");
            }
        }
        return new CaptureStatistics(stats.Received, stats.Dropped, stats.InterfaceDropped);
    }

    public void Dispose() => _handle.Dispose();

    private static string ActivationProblem(PcapHandle handle, int status)
    {
        string detail = LibPcap.ErrorText(handle);
        // PCAP_ERROR_* values from pcap/pcap.h.
        return status switch
        {
            -8 => $"permission denied ({detail}); capturing needs CAP_NET_RAW: run as root or grant the capability.",
            -5 => $"no such interface ({detail}); list them with `ip link`.",
            -9 => $"the interface is down ({detail}); bring it up with `ip link set DEVICE up`.",
            _ => $"cannot start capturing: {Marshal.PtrToStringUTF8(LibPcap.pcap_statustostr(status))}: {detail}",
        };
    }

    private static void SetFilter(PcapHandle handle, string device, string filter)
    {
        LibPcap.BpfProgram program;
        if (LibPcap.pcap_compile(handle, &program, filter, 1, LibPcap.NetmaskUnknown) != 0)
        {
            throw new CaptureException($"{device}: the capture filter \"{filter}\" does not compile: {LibPcap.ErrorText(handle)}");
        }
        try
        {
            if (LibPcap.pcap_setfilter(handle, &program) != 0)
            {
                throw new CaptureException($"{device}: the capture filter could not be set: {LibPcap.ErrorText(handle)}");
            }
        }
        finally
        {
            LibPcap.pcap_freecode(&program);
        }
    }
}
