using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>ICMP and ICMPv6: echo, timestamp and mask requests, their replies, and the unreachable errors that answer other probes.</summary>
public sealed partial class Detector
{
    private bool OnIcmp(in Packet p)
    {
        bool v6 = p.Protocol == IpProtocol.Ipv6Icmp;
        byte type = p.IcmpType;
        ProbeKind request = (v6, type) switch
        {
            (false, 8) or (true, 128) => ProbeKind.IcmpEcho,
            (false, 13) => ProbeKind.IcmpTimestamp,
            (false, 17) => ProbeKind.IcmpMask,
            _ => ProbeKind.None,
        };
        if (request != ProbeKind.None)
        {
            return IsGroupAddress(p.Destination)
                || NewContact(p.Source, p.Destination, type, p.Protocol, request, FlowState.Pending);
        }
        int answered = (v6, type) switch
        {
            (false, 0) => 8,
            (false, 14) => 13,
            (false, 18) => 17,
            (true, 129) => 128,
            _ => -1,
        };
        if (answered >= 0)
        {
            int replySlot = _flows.Find(p.Destination, p.Source, (ushort)answered, p.Protocol, _now);
            if (replySlot < 0)
            {
                return false;
            }
            if (_flows.At(replySlot).State == FlowState.Pending)
            {
                Resolve(replySlot, FlowState.Open);
            }
            return IsFinal(_flows.At(replySlot).State, p.Protocol);
        }
        bool unreachable = v6 ? type == 1 : type == 3;
        if (unreachable && p.HasEmbedded)
        {
            // The error quotes the probe (RFC 792, RFC 4443 §3.1): match it to the contact it answers.
            ushort port = p.EmbeddedHasPorts ? p.EmbeddedDestinationPort : p.EmbeddedIcmpType;
            int probeSlot = _flows.Find(p.EmbeddedSource, p.EmbeddedDestination, port, p.EmbeddedProtocol, _now);
            if (probeSlot >= 0 && _flows.At(probeSlot).State == FlowState.Pending)
            {
                Resolve(probeSlot, FlowState.Unreachable);
            }
        }
        return false;
    }
}
