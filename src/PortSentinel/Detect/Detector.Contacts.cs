using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>First contacts: each new (source, target, port, protocol) probe, its flow-table slot and the tripwire ports.</summary>
public sealed partial class Detector
{
    /// <summary>
    /// A packet that opens a contact: counted once per (source, target, port, protocol). Returns
    /// whether the contact is already final (a repeat of a judged probe).
    /// </summary>
    private bool NewContact(in NetAddress from, in NetAddress to, ushort port, byte protocol, ProbeKind kind, FlowState state)
    {
        ref Flow flow = ref _flows.At(AddFlow(from, to, port, protocol, out bool added));
        if (!added)
        {
            return IsFinal(flow.State, protocol);
        }
        flow.Kind = kind;
        flow.State = state;
        if (state == FlowState.Pending)
        {
            _pending++;
        }
        FirstContact(from, to, port, protocol, kind);
        if (state == FlowState.Judged)
        {
            Judge(from, to, port, protocol);
        }
        return false;
    }

    /// <summary>Finds or adds a contact, keeping the count of contacts that await an answer right when one is evicted.</summary>
    private int AddFlow(in NetAddress from, in NetAddress to, ushort port, byte protocol, out bool added)
    {
        long evictedPending = _flows.EvictedPending;
        int slot = _flows.FindOrAdd(from, to, port, protocol, _now, out added);
        _pending -= (int)(_flows.EvictedPending - evictedPending);
        return slot;
    }

    private void FirstContact(in NetAddress from, in NetAddress to, ushort port, byte protocol, ProbeKind kind)
    {
        Counters.FirstContacts++;
        ref SourceState source = ref Source(from);
        source.Contacts++;
        if (source.Incident is { } incident)
        {
            incident.Probes++;
            incident.AddContact(to, port, protocol, kind, _now);
        }
        ulong[]? tripwire = protocol switch
        {
            IpProtocol.Tcp => _tripwireTcp,
            IpProtocol.Udp => _tripwireUdp,
            _ => null,
        };
        if (tripwire is not null && (tripwire[port >> 6] & (1UL << (port & 63))) != 0)
        {
            Raise(ref source, ScanKinds.Tripwire, "tripwire");
        }
    }
}
