using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Record;

namespace PortSentinel.Respond;

/// <summary>
/// Deciding, then acting, for one detection at a time, on the respond thread: the decision, the
/// firewall change, the log line, the alert recorded and published, the ban (or hold) recorded; a
/// refused ban handed to <see cref="BanRetries"/>; a scanner the caps refused decided again when
/// they have room (<see cref="RedecideOverCap"/>), and one only held decided again when it is
/// verified at its address (<see cref="Verified"/>). Also completes the alert of a scan that ended,
/// and takes a new configuration (<see cref="Reconfigure"/>) before the next decision.
/// </summary>
public sealed partial class Responder
{
    private readonly RespondContext _context;
    private Decider _decider; // replaced on the respond thread only
    private Reconfiguration? _reconfiguration; // set by Reconfigure, taken on the respond thread
    private IReadOnlyList<(NetPrefix Network, string Comment)> _fleetWide = []; // respond thread only

    // The recorded alert of each source whose scan goes on, completed when it ends, and what was
    // decided on it last. Respond thread only.
    private readonly Dictionary<NetAddress, (long Alert, DecisionAction Action)> _openAlerts = [];

    /// <summary>AbuseIPDB lookups, when configured: decisions weigh a known reputation, and a source only logged is decided again when its reputation comes. Set before the first decision.</summary>
    public ReputationService? Reputation { get; set; }

    /// <summary>The decider in force (replaced on reload): its allowlist and ban policy. Safe from any thread.</summary>
    public Decider Decider => Volatile.Read(ref _decider);

    public RespondContext Context => _context;

    /// <summary>The firewall's setup, which the kernel guard's allowlist follows on reconfiguration.</summary>
    public FirewallIntegrity Integrity { get; }

    /// <summary>The bans the firewall refused, tried again by <see cref="BanRetries.RetryDue"/>.</summary>
    public BanRetries Retries { get; }

    /// <summary>The respond stage around <paramref name="context"/>: its own firewall integrity and retries, with <paramref name="firewall"/>'s guard settings.</summary>
    public Responder(RespondContext context, Decider decider, FirewallOptions firewall)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _decider = decider;
        Integrity = new FirewallIntegrity(context, firewall);
        Retries = new BanRetries(context, Integrity);
    }

    private sealed record Reconfiguration(Allowlist Allowlist, DecideOptions Decide);

    /// <summary>From any thread: the allowlist and ban policy to apply from the next decision on, the kernel guard's allowlist with them.</summary>
    public void Reconfigure(Allowlist allowlist, DecideOptions decide) =>
        Volatile.Write(ref _reconfiguration, new Reconfiguration(allowlist, decide));

    /// <summary>On the respond thread: a new configuration from <see cref="Reconfigure"/> takes effect, the fleet-wide allowlist kept.</summary>
    public void ApplyReconfiguration()
    {
        if (Interlocked.Exchange(ref _reconfiguration, null) is { } change)
        {
            Volatile.Write(ref _decider, _decider.Reconfigured(change.Allowlist.WithFleetWide(_fleetWide), change.Decide));
            RespondWorker.Guarded(_context.Log, "arming the kernel guard", () => Integrity.Rearm(_decider));
        }
    }

    /// <summary>
    /// On the respond thread (or before it starts): the fleet-wide allowlist to add to this
    /// sensor's own from the next decision on, the kernel guard's with it once it is armed.
    /// </summary>
    public void AllowFleetWide(IReadOnlyList<(NetPrefix Network, string Comment)> entries, bool rearm = true)
    {
        _fleetWide = entries;
        Volatile.Write(ref _decider, _decider.Reconfigured(_decider.Allowlist.WithFleetWide(entries), _decider.Options));
        if (rearm)
        {
            RespondWorker.Guarded(_context.Log, "arming the kernel guard", () => Integrity.Rearm(_decider));
        }
    }

    /// <param name="detection">What was detected.</param>
    /// <param name="raised">The alert already recorded for it, when it is decided again (its reputation came, the caps had room, it was verified).</param>
    public void Respond(Detection detection, long? raised = null)
    {
        ArgumentNullException.ThrowIfNull(detection);
        string kinds = string.Join(',', ScanKindNames.Names(detection.Kinds));
        NetPrefix network = NetPrefix.Host(detection.Source);
        DateTimeOffset now = _context.Time.GetUtcNow();
        Reputation? known = Reputation?.Known(detection.Source);
        int previous = _context.PreviousBans(network);
        Decision decision = _decider.Decide(detection, previous, now, known is null ? null : Reputation!.Verdict(known));
        // The firewall first, the log after: writing a line can wait on a slow pipe.
        FirewallEntry entry = Entry(network, decision.BanFor, detection);
        bool blocks = decision.Action is DecisionAction.Block or DecisionAction.Hold;
        IReadOnlyList<FirewallFailure> failures = blocks ? _context.Firewall.Block([entry]) : [];
        // Reaction: from the first probe's capture timestamp to the element in the firewall; of it,
        // the sensor's own part: from the capture of the probe that decided it.
        DateTimeOffset done = _context.Time.GetUtcNow();
        double reaction = (done - detection.First).TotalMilliseconds;
        double own = (done - detection.Last).TotalMilliseconds;
        // fail2ban matches "DETECTED <HOST>" (deploy/fail2ban/filter.d/portsentinel.conf).
        _context.Log($"DETECTED {detection.Source} kinds={kinds} severity={decision.Severity.ToString().ToLowerInvariant()} action={decision.Action.ToString().ToLowerInvariant()} trigger={detection.Trigger} ports={detection.Ports} targets={detection.TargetCount} verified={(detection.Verified ? "yes" : "no")}: {decision.Reason}");
        long alert;
        if (raised is { } id)
        {
            alert = id;
            _context.Store.Redecide(id, decision);
        }
        else
        {
            alert = _context.Store.RaiseAlert(detection, decision, now);
            _context.Counters.Detected(detection.Kinds, own);
        }
        if (raised is null ? !detection.Final : _openAlerts.TryGetValue(detection.Source, out var open) && open.Alert == alert)
        {
            _openAlerts[detection.Source] = (alert, decision.Action);
        }
        _context.Feed.Publish(new AlertEvent(now, AlertRecord.From(alert, detection, decision, now), Ended: false, known));
        if (!detection.Final)
        {
            NoteOverCap(detection, decision, alert);
        }
        if (known is null && Reputation is { } reputation)
        {
            AwaitReputation(reputation, detection, decision, alert);
        }
        var ban = new BanRecord(network, kinds, now, now + decision.BanFor, decision.Offence, Hold: decision.Action == DecisionAction.Hold);
        if (failures.Count > 0)
        {
            // The kernel guard's hold, if any, stays: it is all that stops the scanner now.
            _context.Log($"ERROR {_context.Firewall.Name} refused to block {network}: {failures[0].ReasonLine}; trying again in {BanRetries.First.TotalSeconds:0}s");
            _context.Counters.FirewallFailed();
            Retries.Add(entry, ban);
            return;
        }
        _context.Release(network);
        if (!blocks)
        {
            return;
        }
        _context.Recorded([ban]);
        if (!ban.Hold)
        {
            Reputation?.Report(detection); // never an address that may be forged
        }
        _context.Log($"{RespondContext.Placed(ban, decision.BanFor, _context.Firewall.Name)} reaction={reaction:0.000}ms sensor={own:0.000}ms");
    }

    /// <summary>
    /// The source of an open scan was just verified at its address: if it was only held, or
    /// refused for the caps, it is decided again now, as the scanner it has shown it is.
    /// </summary>
    public void Verified(Detection detection)
    {
        ArgumentNullException.ThrowIfNull(detection);
        if (_openAlerts.TryGetValue(detection.Source, out var open) && open.Action is DecisionAction.Hold or DecisionAction.OverCap)
        {
            Respond(detection, open.Alert);
        }
    }

    /// <summary>A scan ended: its open alert, if any, to be completed with the whole evidence (<see cref="RecordEnded"/>).</summary>
    public (long? Alert, Detection Detection) Ending(Detection detection)
    {
        ArgumentNullException.ThrowIfNull(detection);
        _context.Log($"ENDED {detection.Source} kinds={string.Join(',', ScanKindNames.Names(detection.Kinds))} targets={detection.TargetCount} ports={detection.Ports} probes={detection.Probes}");
        EndOverCap(detection);
        return (_openAlerts.Remove(detection.Source, out var open) ? open.Alert : null, detection);
    }

    /// <summary>Completes the alerts of scans that ended, in one transaction, and tells the watchers.</summary>
    public void RecordEnded(IReadOnlyList<(long? Alert, Detection Detection)> ended)
    {
        ArgumentNullException.ThrowIfNull(ended);
        DateTimeOffset at = _context.Time.GetUtcNow();
        _context.Store.EndAlerts(ended, at);
        foreach (var (id, detection) in ended)
        {
            _context.Feed.Publish(new AlertEvent(at, AlertRecord.From(id ?? 0, detection, null, at), Ended: true));
        }
    }

    /// <summary>
    /// The firewall entry for a detection, with what set it off: the first port probed and its
    /// protocol, from the ranges ("tcp 22,80-90; udp 53" gives 22 and tcp), else icmp or ip.
    /// </summary>
    private static FirewallEntry Entry(NetPrefix network, TimeSpan? banFor, Detection detection)
    {
        string ranges = detection.PortRanges;
        int space = ranges.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return new FirewallEntry(network, banFor, 0, (detection.Kinds & ScanKinds.IcmpSweep) != 0 ? "icmp" : "ip");
        }
        ReadOnlySpan<char> rest = ranges.AsSpan(space + 1);
        int end = rest.IndexOfAny(",-;…");
        return new FirewallEntry(network, banFor, ushort.TryParse(end < 0 ? rest : rest[..end], out ushort port) ? port : (ushort)0, ranges[..space]);
    }
}
