using Microsoft.Win32.SafeHandles;

namespace PortSentinel.Capture.Native;

/// <summary>An owned pcap_t; released with pcap_close.</summary>
internal sealed class PcapHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public PcapHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        LibPcap.pcap_close(handle);
        return true;
    }
}
