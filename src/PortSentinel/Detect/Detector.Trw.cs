using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>Outcomes: settling a contact, the Threshold Random Walk, and the short and slow windows with their thresholds.</summary>
public sealed partial class Detector
{
    private void Resolve(int slot, FlowState outcome)
    {
        ref Flow flow = ref _flows.At(slot);
        ref FlowEnds ends = ref _flows.Ends(slot);
        FlowState previous = flow.State;
        if (previous == FlowState.Pending)
        {
            _pending--;
        }
        flow.State = outcome;
        ref SourceState source = ref Source(ends.Initiator);
        source.Incident?.AddOutcome(outcome, previous);
        Rotate(ref source);
        switch (outcome)
        {
            case FlowState.Open:
                source.ShortOutcomes.Successes++;
                source.LongOutcomes.Successes++;
                Walk(ref source, success: true);
                break;
            case FlowState.Dropped:
                // The contact succeeded (already walked) but was abandoned unused: scanner-like,
                // so it counts towards the thresholds as a failure.
                source.ShortOutcomes.Demote();
                source.LongOutcomes.Demote();
                _ = Repeated(ref source, ends.Responder, ends.Port, ends.Protocol);
                Fail(ref source, ends.Responder, ends.Port, ends.Protocol);
                break;
            default:
                if (Repeated(ref source, ends.Responder, ends.Port, ends.Protocol))
                {
                    break; // its flow was evicted since it failed: nothing new
                }
                source.ShortOutcomes.Failures++;
                source.LongOutcomes.Failures++;
                Walk(ref source, success: false);
                Fail(ref source, ends.Responder, ends.Port, ends.Protocol);
                break;
        }
    }

    /// <summary>A probe that is a failure by its nature (illegal flags): no answer is awaited.</summary>
    private void Judge(in NetAddress from, in NetAddress to, ushort port, byte protocol)
    {
        ref SourceState source = ref Source(from);
        Rotate(ref source);
        if (Repeated(ref source, to, port, protocol))
        {
            return;
        }
        source.ShortOutcomes.Failures++;
        source.LongOutcomes.Failures++;
        Walk(ref source, success: false);
        Fail(ref source, to, port, protocol);
    }

    /// <summary>Whether this contact of the source has failed before in the long window (and notes that it has now).</summary>
    private static bool Repeated(ref SourceState source, in NetAddress target, ushort port, byte protocol) =>
        source.FailedContacts.Add(SketchHash.Mix(target.Hash64() ^ SketchHash.Port(protocol, port)));

    private void Walk(ref SourceState source, bool success)
    {
        source.Trw += success ? _trwSuccess : _trwFailure;
        if (source.Trw >= _trwUpper)
        {
            Raise(ref source, ScanKinds.None, "trw");
            source.Trw = Math.Min(source.Trw, _trwUpper); // Raise starts the walk afresh when the evidence names nothing
        }
        else if (source.Trw <= _trwLower)
        {
            source.Trw = 0; // benign so far: start a fresh walk so that later scanning is still seen
        }
    }

    /// <summary>A failed (or abandoned) first contact: into the short and long windows, then the thresholds.</summary>
    private void Fail(ref SourceState source, in NetAddress target, ushort port, byte protocol)
    {
        ulong host = target.Hash64();
        source.FailedHosts.Current.Add(host);
        source.SlowHosts.Current.Add(host);
        if (protocol is IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Sctp)
        {
            ulong portHash = SketchHash.Port(protocol, port);
            source.FailedPorts.Current.Add(portHash);
            source.SlowPorts.Current.Add(portHash);
        }
        double ratio = _options.MinFailureRatio;
        if ((source.FailedPorts.Estimate() >= _options.VerticalPorts || source.FailedHosts.Estimate() >= _options.HorizontalHosts)
            && source.ShortOutcomes.FailuresAtLeast(ratio))
        {
            source.ShortCrossed = true;
            Raise(ref source, ScanKinds.None, "threshold");
            source.Incident?.ThresholdCrossed = true;
        }
        else if ((source.SlowPorts.Estimate() >= _options.SlowPorts || source.SlowHosts.Estimate() >= _options.SlowHosts)
            && source.LongOutcomes.FailuresAtLeast(ratio))
        {
            Raise(ref source, source.ShortCrossed ? ScanKinds.None : ScanKinds.Slow, "slow");
        }
    }

    private void Rotate(ref SourceState source)
    {
        long age = _now - source.ShortGeneration;
        if (age >= _halfWindow)
        {
            bool whole = age >= _window;
            source.FailedPorts.Rotate(whole);
            source.FailedHosts.Rotate(whole);
            source.Protocols.Rotate(whole);
            source.ShortOutcomes.Rotate(whole);
            source.ShortGeneration = _now;
        }
        age = _now - source.LongGeneration;
        if (age >= _halfSlowWindow)
        {
            bool whole = age >= _slowWindow;
            source.SlowPorts.Rotate(whole);
            source.SlowHosts.Rotate(whole);
            source.FailedContacts.Rotate(whole);
            source.LongOutcomes.Rotate(whole);
            source.LongGeneration = _now;
        }
    }
}
