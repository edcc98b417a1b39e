using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>UDP: datagrams to a port, their replies, and traceroute left out.</summary>
public sealed partial class Detector
{
    private bool OnUdp(in Packet p)
    {
        if (IsGroupAddress(p.Destination))
        {
            return true;
        }
        int replySlot = _flows.Find(p.Destination, p.Source, p.SourcePort, IpProtocol.Udp, _now);
        if (replySlot >= 0)
        {
            if (_flows.At(replySlot).State == FlowState.Pending)
            {
                Resolve(replySlot, FlowState.Open);
            }
            return IsFinal(_flows.At(replySlot).State, IpProtocol.Udp);
        }
        // Traceroute (Van Jacobson's UDP mode, the Linux and BSD default) probes ports 33434 and up
        // with TTLs of at most 30: a vertical scan in shape, a path measurement in fact.
        if (p.DestinationPort is >= 33434 and <= 33534 && p.Ttl <= 30)
        {
            Counters.Traceroute++;
            return false; // counted per probe
        }
        return NewContact(p.Source, p.Destination, p.DestinationPort, IpProtocol.Udp, ProbeKind.Udp, FlowState.Pending);
    }
}
