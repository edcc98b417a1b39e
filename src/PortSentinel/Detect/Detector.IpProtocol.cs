using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>IP protocol scans: packets of protocols without a handler of their own.</summary>
public sealed partial class Detector
{
    private void OnOtherProtocol(in Packet p)
    {
        ref SourceState source = ref Source(p.Source);
        Rotate(ref source);
        source.Protocols.Current.Set(p.Protocol);
        source.Incident?.AddProtocol(p.Protocol);
        if (source.Protocols.CountExact() >= _options.IpProtocols)
        {
            Raise(ref source, ScanKinds.IpProtocol, "ip-protocol");
        }
    }
}
