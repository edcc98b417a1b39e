using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>TCP: the probes that open a contact, the responder's answers and the initiator's further segments.</summary>
public sealed partial class Detector
{
    private bool OnTcp(in Packet p)
    {
        const TcpFlags core = TcpFlags.Fin | TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Psh | TcpFlags.Ack | TcpFlags.Urg;
        TcpFlags f = p.TcpFlags & core;
        ProbeKind kind = ProbeKinds.ClassifyTcp(p.TcpFlags, p.TcpOptions);

        if (kind is ProbeKind.TcpSyn or ProbeKind.TcpConnect)
        {
            return NewContact(p.Source, p.Destination, p.DestinationPort, IpProtocol.Tcp, kind, FlowState.Pending);
        }
        if (kind.IsStealth())
        {
            return NewContact(p.Source, p.Destination, p.DestinationPort, IpProtocol.Tcp, kind, FlowState.Judged);
        }

        // An answer from the responder of a contact we saw opened, or more from its initiator?
        int slot = _flows.Find(p.Destination, p.Source, p.SourcePort, IpProtocol.Tcp, _now);
        if (slot >= 0)
        {
            return OnTcpAnswer(slot, p, f);
        }
        slot = _flows.Find(p.Source, p.Destination, p.DestinationPort, IpProtocol.Tcp, _now);
        if (slot >= 0)
        {
            return OnTcpContinuation(slot, p, f);
        }

        if ((f & TcpFlags.Rst) != 0 || (f & TcpFlags.Syn) != 0)
        {
            return false; // a stray RST or unsolicited SYN-ACK (backscatter): nobody's probe
        }
        // Nothing known either way: a probe (nmap -sA/-sW/-sM) if the answer is RST, else a
        // connection that began before we were watching. Judge when the answer comes.
        ref Flow fresh = ref _flows.At(AddFlow(p.Source, p.Destination, p.DestinationPort, IpProtocol.Tcp, out _));
        fresh.State = kind != ProbeKind.None && p.PayloadLength == 0 ? FlowState.Unsolicited : FlowState.MidStream;
        fresh.Kind = kind;
        return false;
    }

    /// <summary>A segment from the responder of a contact we saw opened.</summary>
    private bool OnTcpAnswer(int slot, in Packet p, TcpFlags f)
    {
        ref Flow reply = ref _flows.At(slot);
        if ((f & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack))
        {
            if (reply.State == FlowState.Pending)
            {
                _flows.Ends(slot).Answer = p.TcpSequence + 1;
                Resolve(slot, FlowState.Open);
            }
        }
        else if ((f & TcpFlags.Rst) != 0)
        {
            if (reply.State == FlowState.Pending)
            {
                Resolve(slot, FlowState.Closed);
            }
            else if (reply.State == FlowState.Judged)
            {
                // Already counted as a failure; the RST only tells the evidence the port is closed.
                reply.State = FlowState.Closed;
                Source(_flows.Ends(slot).Initiator).Incident?.AddOutcome(FlowState.Closed);
            }
            else if (reply.State == FlowState.Unsolicited)
            {
                // The RST confirms the unsolicited ACK or FIN/ACK was a probe: count it now.
                ref FlowEnds ends = ref _flows.Ends(slot);
                FirstContact(ends.Initiator, ends.Responder, ends.Port, IpProtocol.Tcp, reply.Kind);
                Resolve(slot, FlowState.Closed);
            }
        }
        else if (reply.State == FlowState.Unsolicited)
        {
            reply.State = FlowState.MidStream;
        }
        return IsFinal(reply.State, IpProtocol.Tcp);
    }

    // Once per contact, at its first answer to the SYN-ACK. A scanner raised unverified is told
    // again, so that what was decided on it (a short hold) can become a ban.
    private void Verify(in NetAddress initiator)
    {
        ref SourceState source = ref Source(initiator);
        source.Verified = true;
        if (source.Incident is { Verified: false } incident)
        {
            incident.Verified = true;
            _sink.Verified(incident.ToDetection(_options, final: false));
        }
    }

    /// <summary>A further segment from the initiator of a known contact.</summary>
    private bool OnTcpContinuation(int slot, in Packet p, TcpFlags f)
    {
        ref Flow own = ref _flows.At(slot);
        if (own.State is FlowState.Open or FlowState.Handshaken)
        {
            ref FlowEnds ends = ref _flows.Ends(slot);
            if (own.State == FlowState.Open && (f & TcpFlags.Ack) != 0 && p.TcpAcknowledgment == ends.Answer)
            {
                // It acknowledged the responder's SYN-ACK, whose sequence number a sender of
                // forged packets never sees: it is at its address. (A bare RST, which nmap's
                // SYN scan sends, proves nothing: its sequence number is the initiator's own.)
                Verify(ends.Initiator);
            }
            if (p.PayloadLength > 0)
            {
                own.State = FlowState.Established;
            }
            else if ((f & (TcpFlags.Rst | TcpFlags.Fin)) != 0)
            {
                Resolve(slot, FlowState.Dropped);
            }
            else if (f == TcpFlags.Ack)
            {
                own.State = FlowState.Handshaken;
            }
        }
        else if (own.State == FlowState.Unsolicited && p.PayloadLength > 0)
        {
            own.State = FlowState.MidStream;
        }
        return IsFinal(own.State, IpProtocol.Tcp);
    }
}
