using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>Sweeps: silent probes settled, distributed scans correlated and idle incidents closed.</summary>
public sealed partial class Detector
{
    private void Sweep(bool expireAll)
    {
        _lastSweep = _now;
        if (_pending > 0)
        {
            for (int i = 0; i < _flows.Capacity && _pending > 0; i++)
            {
                if (_flows.At(i).State == FlowState.Pending && (expireAll || _now - _flows.Ends(i).Created >= _outcomeTimeout))
                {
                    Resolve(i, FlowState.Silent);
                }
            }
        }
        if (_correlate)
        {
            Correlate();
        }
        for (int i = _activeList.Count - 1; i >= 0; i--)
        {
            if (_now - _activeList[i].Last >= _idle)
            {
                Close(_activeList[i]);
            }
        }
    }

    /// <summary>
    /// Marks as distributed the scans of sources that probe the same host and much the same ports
    /// at the same time (nmap -D decoys; a botnet sharing out a port range).
    /// </summary>
    private void Correlate()
    {
        _correlate = false;
        if (_activeList.Count < _options.DistributedSources)
        {
            return;
        }
        var byTarget = new Dictionary<NetAddress, List<Incident>>();
        foreach (Incident incident in _activeList)
        {
            if (incident.PortCount == 0)
            {
                continue;
            }
            foreach (NetAddress target in incident.Targets.Take(16))
            {
                if (!byTarget.TryGetValue(target, out List<Incident>? group))
                {
                    byTarget[target] = group = [];
                }
                group.Add(incident);
            }
        }
        foreach (List<Incident> group in byTarget.Values)
        {
            if (group.Count < _options.DistributedSources)
            {
                continue;
            }
            foreach (Incident incident in group)
            {
                // Compared with at most CorrelationPeers others: a host scanned by hundreds of
                // sources at once is plainly a distributed scan, and the cost must stay bounded.
                int alike = 1;
                foreach (Incident other in group.Take(CorrelationPeers))
                {
                    if (!ReferenceEquals(other, incident) && incident.PortOverlap(other) >= _options.DistributedOverlap)
                    {
                        alike++;
                    }
                }
                if (alike >= _options.DistributedSources)
                {
                    incident.Flags |= ScanKinds.Distributed;
                }
            }
        }
    }

    private void Close(Incident incident)
    {
        incident.IsClosed = true;
        _active.Remove(incident.Source);
        _activeList.Remove(incident);
        Counters.Closed++;
        _sink.Closed(incident.ToDetection(_options, final: true));
    }
}
