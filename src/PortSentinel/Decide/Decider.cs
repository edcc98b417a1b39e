using PortSentinel.Detect;

namespace PortSentinel.Decide;

/// <summary>
/// Turns detections into decisions: the allowlist first, then severity, then the ban policy
/// (duration with escalation for repeat offenders, optional permanence, and a cap on new bans per
/// minute). Time is passed in, so decisions replay. One thread (the decide worker) calls it.
/// </summary>
public sealed class Decider
{
    private static readonly TimeSpan _oneMinute = TimeSpan.FromMinutes(1);

    private readonly Allowlist _allowlist;
    private readonly DecideOptions _options;
    private readonly Queue<DateTimeOffset> _recentBans = new();

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
    /// A decider with a new allowlist and policy that remembers this one's recent bans, so that a
    /// reload does not reopen the per-minute cap. Call it where <see cref="Decide"/> is called.
    /// </summary>
    public Decider Reconfigured(Allowlist allowlist, DecideOptions options)
    {
        var next = new Decider(allowlist, options);
        foreach (DateTimeOffset ban in _recentBans)
        {
            next._recentBans.Enqueue(ban);
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
        // A scanner that has shown it is at its address is never refused for the cap: a storm of
        // forged sources cannot spend the budget that it needs. Its ban still counts against the cap.
        bool room = HasRoom(now);
        if (!room && !detection.Verified)
        {
            return new Decision(detection, severity, DecisionAction.OverCap, null, offence, $"{_recentBans.Count} bans in the last minute reach {DecideOptions.Section}:{nameof(DecideOptions.MaxBansPerMinute)}; not blocked");
        }
        _recentBans.Enqueue(now);
        TimeSpan? banFor = BanLength(offence, reputation?.BanFactor ?? 1);
        string length = banFor is { } d ? $"for {d}" : "until lifted by hand";
        return new Decision(detection, severity, DecisionAction.Block, banFor, offence, $"severity {severity}{known}, offence {offence}: blocked {length}");
    }

    /// <summary>Whether a ban decided at <paramref name="now"/> stays within <see cref="DecideOptions.MaxBansPerMinute"/>.</summary>
    public bool HasRoom(DateTimeOffset now)
    {
        while (_recentBans.Count > 0 && now - _recentBans.Peek() >= _oneMinute)
        {
            _recentBans.Dequeue();
        }
        return _recentBans.Count < _options.MaxBansPerMinute;
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
