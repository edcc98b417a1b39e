using PortSentinel.Detect;

namespace PortSentinel.Decide;

/// <summary>
/// Turns detections into decisions: the allowlist first, then severity, then the ban policy
/// (duration with escalation for repeat offenders, optional permanence, and a cap on new bans per
/// minute), then, for a source not verified at its address, a short hold instead of a ban, at
/// most <see cref="DecideOptions.MaxHolds"/> at once. Time is passed in, so decisions replay. One
/// thread (the decide worker) calls it.
/// </summary>
public sealed class Decider
{
    private static readonly TimeSpan _oneMinute = TimeSpan.FromMinutes(1);

    private readonly Allowlist _allowlist;
    private readonly DecideOptions _options;
    private readonly Queue<DateTimeOffset> _recentBans = new();
    private readonly PriorityQueue<DateTimeOffset, DateTimeOffset> _holds = new(); // when each hold in force runs out

    public Decider(Allowlist allowlist, DecideOptions options)
    {
        ArgumentNullException.ThrowIfNull(allowlist);
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(Environment.NewLine, errors), nameof(options));
        }
        _allowlist = allowlist;
        _options = options;
    }

    public Allowlist Allowlist => _allowlist;

    public DecideOptions Options => _options;

    /// <summary>
    /// A decider with a new allowlist and policy that remembers this one's recent bans and holds,
    /// so that a reload does not reopen the caps. Call it where <see cref="Decide"/> is called.
    /// </summary>
    public Decider Reconfigured(Allowlist allowlist, DecideOptions options)
    {
        var next = new Decider(allowlist, options);
        foreach (DateTimeOffset ban in _recentBans)
        {
            next._recentBans.Enqueue(ban);
        }
        foreach (var (end, _) in _holds.UnorderedItems)
        {
            next._holds.Enqueue(end, end);
        }
        return next;
    }

    /// <param name="detection">The detection to decide on.</param>
    /// <param name="previousBans">How many times the source was banned before (from the record).</param>
    /// <param name="now">The decision time.</param>
    /// <param name="reputation">What AbuseIPDB's score makes of the source, when known: severity up, a longer ban.</param>
    public Decision Decide(Detection detection, int previousBans, DateTimeOffset now, ReputationVerdict? reputation = null)
    {
        ArgumentNullException.ThrowIfNull(detection);
        Severity severity = SeverityRules.Of(detection, previousBans);
        string known = "";
        if (reputation is not null)
        {
            severity = reputation.Apply(severity);
            known = $", AbuseIPDB score {reputation.Score}";
        }
        int offence = previousBans + 1;
        if (_allowlist.Contains(detection.Source, out string? why))
        {
            return new Decision(detection, severity, DecisionAction.Allowlisted, null, offence, $"allowlisted: {why}");
        }
        if (severity < _options.BlockAt)
        {
            return new Decision(detection, severity, DecisionAction.Log, null, offence, $"severity {severity}{known} is below {DecideOptions.Section}:{nameof(DecideOptions.BlockAt)} ({_options.BlockAt})");
        }
        if (!detection.Verified && !_options.BanUnverified)
        {
            return Hold(detection, severity, known, offence, now);
        }
        // A scanner that has shown it is at its address is never refused for the cap: a storm of
        // forged sources cannot spend the budget that it needs. Its ban still counts against the cap.
        if (!HasRoom(detection, now))
        {
            return new Decision(detection, severity, DecisionAction.OverCap, null, offence, $"{_recentBans.Count} bans in the last minute reach {DecideOptions.Section}:{nameof(DecideOptions.MaxBansPerMinute)}; not blocked");
        }
        _recentBans.Enqueue(now);
        TimeSpan? banFor = BanLength(offence, reputation?.BanFactor ?? 1);
        string length = banFor is { } d ? $"for {d}" : "until lifted by hand";
        return new Decision(detection, severity, DecisionAction.Block, banFor, offence, $"severity {severity}{known}, offence {offence}: blocked {length}");
    }

    // A source that may be forged (it never answered a SYN-ACK) is held briefly, never banned: a
    // spoofed storm can then block innocent addresses for minutes at most, and no more of them at
    // once than MaxHolds. Holds do not count against the ban cap, which stays for real scanners.
    private Decision Hold(Detection detection, Severity severity, string known, int offence, DateTimeOffset now)
    {
        if (!HasRoom(detection, now))
        {
            return new Decision(detection, severity, DecisionAction.OverCap, null, offence, $"{_holds.Count} holds in force reach {DecideOptions.Section}:{nameof(DecideOptions.MaxHolds)}; not held");
        }
        TimeSpan hold = TimeSpan.FromSeconds(_options.HoldSeconds);
        _holds.Enqueue(now + hold, now + hold);
        return new Decision(detection, severity, DecisionAction.Hold, hold, offence,
            $"severity {severity}{known}, not verified at its address (it never answered a SYN-ACK, so it may be forged): held for {hold}, not banned ({DecideOptions.Section}:{nameof(DecideOptions.BanUnverified)})");
    }

    /// <summary>
    /// Whether <paramref name="detection"/>, decided at <paramref name="now"/>, would be blocked or
    /// held within the caps: a verified one always is; an unverified one within
    /// <see cref="DecideOptions.MaxHolds"/>, or, when such sources are banned
    /// (<see cref="DecideOptions.BanUnverified"/>), within <see cref="DecideOptions.MaxBansPerMinute"/>.
    /// </summary>
    public bool HasRoom(Detection detection, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(detection);
        Forget(now);
        return detection.Verified || (_options.BanUnverified ? _recentBans.Count < _options.MaxBansPerMinute : _holds.Count < _options.MaxHolds);
    }

    // Bans older than a minute and holds run out no longer count against the caps.
    private void Forget(DateTimeOffset now)
    {
        while (_recentBans.Count > 0 && now - _recentBans.Peek() >= _oneMinute)
        {
            _recentBans.Dequeue();
        }
        while (_holds.TryPeek(out _, out DateTimeOffset end) && end <= now)
        {
            _holds.Dequeue();
        }
    }

    /// <summary>Why a manual ban of <paramref name="network"/> must be refused, or null when it may go ahead.</summary>
    public string? RefuseManual(Decode.NetPrefix network)
    {
        if (_allowlist.Overlaps(network, out string? why))
        {
            return $"{network} is not banned: it covers {why}, which is never blocked.";
        }
        int widest = network.Address.IsV4 ? _options.ManualWidestV4 : _options.ManualWidestV6;
        if (network.Length < widest)
        {
            string key = network.Address.IsV4 ? nameof(DecideOptions.ManualWidestV4) : nameof(DecideOptions.ManualWidestV6);
            return $"{network} is not banned: it is wider than /{widest} ({DecideOptions.Section}:{key}); ban smaller networks, or raise the limit.";
        }
        return null;
    }

    /// <summary>
    /// The ban for the <paramref name="offence"/>-th offence: BanSeconds × EscalationFactor^(offence−1),
    /// times <paramref name="factor"/> for a source of known bad reputation, capped; null when permanent.
    /// </summary>
    public TimeSpan? BanLength(int offence, double factor = 1)
    {
        if (_options.PermanentAfter > 0 && offence >= _options.PermanentAfter)
        {
            return null;
        }
        double seconds = _options.BanSeconds * Math.Pow(_options.EscalationFactor, offence - 1) * factor;
        return TimeSpan.FromSeconds(Math.Min(seconds, _options.MaxBanSeconds));
    }
}
