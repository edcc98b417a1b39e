using System.Runtime.CompilerServices;
using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>Sources and their incidents: the source-table lookup, raising a scanner, and seeding its evidence from the flow table.</summary>
public sealed partial class Detector
{
    private ref SourceState Source(in NetAddress address)
    {
        NetAddress key = address.MaskV6(_options.Ipv6Prefix);
        ref SourceState source = ref _sources.FindOrAdd(key, _now, out bool added);
        if (added)
        {
            // The source may have been evicted while its scan was still open.
            source.Incident = _active.GetValueOrDefault(key);
        }
        else if (source.Incident is { IsClosed: true })
        {
            source.Incident = null;
            source.ShortCrossed = false;
        }
        source.LastSeen = _now;
        source.Incident?.Touch(_now);
        return ref source;
    }

    /// <summary>
    /// Recognises the source as a scanner: opens its incident (once) and adds <paramref name="flags"/>.
    /// An incident is never opened without a kind: when the evidence the flow table still holds
    /// names none (its contacts were pushed out under a flood, or they are too few of any kind to
    /// name), the source's sketches name its shape when they hold one; else nothing is raised and
    /// the Threshold Random Walk starts afresh, to decide on evidence it can show.
    /// </summary>
    private void Raise(ref SourceState source, ScanKinds flags, string trigger)
    {
        Incident? incident = source.Incident;
        if (incident is null)
        {
            _sink.Raising(source.Key); // early, so that the respond thread gets ready while the evidence is gathered
            incident = new Incident(source.Key, trigger, _now, _options.MaxTargetsPerDetection);
            Seed(incident);
            incident.Probes = Math.Max(incident.Probes, source.Contacts);
            incident.AddProtocols(source.Protocols);
            incident.MaxTrw = source.Trw;
            incident.Flags |= flags;
            incident.Verified = source.Verified;
            if (incident.Kinds(_options) == ScanKinds.None)
            {
                ScanKinds shape = Shape(source.FailedPorts.Estimate(), source.FailedHosts.Estimate());
                if (shape == ScanKinds.None)
                {
                    shape = Shape(source.SlowPorts.Estimate(), source.SlowHosts.Estimate());
                }
                if (shape == ScanKinds.None)
                {
                    Counters.Unnamed++;
                    source.Trw = 0;
                    return;
                }
                incident.Flags |= shape;
            }
            source.Incident = incident;
            _active[source.Key] = incident;
            _activeList.Add(incident);
            _correlate = true;
            Counters.Raised++;
            _sink.Raised(incident.ToDetection(_options, final: false));
            return;
        }
        incident.Flags |= flags;
        incident.MaxTrw = Math.Max(incident.MaxTrw, source.Trw);
    }

    // The shape of a source's failed contacts, from its sketches: many ports, many hosts, or both.
    private ScanKinds Shape(int ports, int hosts)
    {
        bool manyPorts = ports >= _options.VerticalPorts;
        bool manyHosts = hosts >= _options.HorizontalHosts;
        return manyPorts && manyHosts ? ScanKinds.Block : manyPorts ? ScanKinds.Vertical : manyHosts ? ScanKinds.Horizontal : ScanKinds.None;
    }

    /// <summary>
    /// Gives a new incident the source's earlier contacts, which the flow table still holds; not
    /// those older than the idle time, which belonged to an earlier scan if to any.
    /// </summary>
    // Runs once per scanner, over the whole flow table: at tier 0 (no inlining) that loop alone
    // delayed the first ban by milliseconds, so it is compiled optimised from the start.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Seed(Incident incident)
    {
        uint recent = FlowTable.Seconds(_now - _idle);
        Span<Flow> flows = _flows.Slots;
        for (int i = 0; i < flows.Length; i++)
        {
            // The age first: it rules out nearly every slot with one comparison.
            ref Flow f = ref flows[i];
            if (f.LastSeen < recent || f.Tag == 0 || f.Kind == ProbeKind.None || f.State is FlowState.Unsolicited or FlowState.MidStream)
            {
                continue;
            }
            ref FlowEnds ends = ref _flows.Ends(i);
            if (ends.Initiator.MaskV6(_options.Ipv6Prefix) != incident.Source)
            {
                continue;
            }
            incident.AddContact(ends.Responder, ends.Port, ends.Protocol, f.Kind, ends.Created);
            incident.AddOutcome(f.State);
        }
        incident.Touch(_now);
    }
}
