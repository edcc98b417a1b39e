using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>SCTP: INIT probes and their INIT ACK or ABORT answers.</summary>
public sealed partial class Detector
{
    private bool OnSctp(in Packet p)
    {
        // RFC 9260 §3.2: chunk types 1 INIT, 2 INIT ACK, 6 ABORT.
        switch (p.SctpChunkType)
        {
            case 1:
                NewContact(p.Source, p.Destination, p.DestinationPort, IpProtocol.Sctp, ProbeKind.SctpInit, FlowState.Pending);
                break;
            case 2:
            case 6:
                int replySlot = _flows.Find(p.Destination, p.Source, p.SourcePort, IpProtocol.Sctp, _now);
                if (replySlot >= 0 && _flows.At(replySlot).State == FlowState.Pending)
                {
                    Resolve(replySlot, p.SctpChunkType == 2 ? FlowState.Open : FlowState.Closed);
                }
                break;
        }
        return false;
    }
}
