using PortSentinel.Common;

namespace PortSentinel.Decide;

/// <summary>How bad a detection is.</summary>
public enum Severity
{
    Low,
    Medium,
    High,
    Critical,
}

/// <summary>
/// When to block and for how long. Bound from the <c>Decide</c> section of the configuration;
/// <see cref="Validate"/> names the key that is wrong.
/// </summary>
public sealed class DecideOptions
{
    public const string Section = "Decide";

    /// <summary>The least severity that is blocked; below it, detections are only logged.</summary>
    public Severity BlockAt { get; set; } = Severity.Medium;

    /// <summary>The first ban of a source, seconds.</summary>
    public int BanSeconds { get; set; } = 3600;

    /// <summary>Each further ban of the same source lasts this many times the one before (fail2ban's bantime.factor).</summary>
    public double EscalationFactor { get; set; } = 2;

    /// <summary>No timed ban lasts longer than this, seconds (a week).</summary>
    public int MaxBanSeconds { get; set; } = 7 * 24 * 3600;

    /// <summary>A source's ban is permanent (until lifted by hand) from this offence on; 0 never.</summary>
    public int PermanentAfter { get; set; }

    /// <summary>
    /// At most this many new bans in any minute: a storm of spoofed sources must not make the host
    /// block the world. Detections over the cap are logged as such, not blocked.
    /// </summary>
    public int MaxBansPerMinute { get; set; } = 60;

    /// <summary>
    /// Whether a source not verified at its address (<see cref="Detect.Detection.Verified"/>) is
    /// banned like one that is. Off: it is held for <see cref="HoldSeconds"/> instead, since anyone
    /// can forge its packets, and a ban would then block an innocent address for an hour.
    /// </summary>
    public bool BanUnverified { get; set; }

    /// <summary>How long a source not verified at its address is held, seconds.</summary>
    public int HoldSeconds { get; set; } = 600;

    /// <summary>
    /// At most this many sources held at once (by decisions; the kernel guard's holds per minute
    /// too): more are refused, as over the cap, and decided again when a hold runs out.
    /// </summary>
    public int MaxHolds { get; set; } = 4096;

    /// <summary>A manual IPv4 ban may cover a network no wider than this prefix (/16: 65,536 addresses).</summary>
    public int ManualWidestV4 { get; set; } = 16;

    /// <summary>A manual IPv6 ban may cover a network no wider than this prefix.</summary>
    public int ManualWidestV6 { get; set; } = 48;

    /// <summary>
    /// The widest IPv4 network the <c>Allowlist</c> may hold (/8: 16.7 million addresses). A wider
    /// entry, 0.0.0.0/0 above all, would turn prevention off for much of the Internet, so it is
    /// refused unless this is lowered to its prefix length on purpose.
    /// </summary>
    public int AllowlistWidestV4 { get; set; } = 8;

    /// <summary>The widest IPv6 network the <c>Allowlist</c> may hold (/16, the size of a registry's allocation).</summary>
    public int AllowlistWidestV6 { get; set; } = 16;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(BlockAt))
        {
            errors.Add($"{Section}:{nameof(BlockAt)} is {BlockAt}; use low, medium, high or critical.");
        }
        const int Year = 365 * 86_400;
        OptionRange.Check(errors, $"{Section}:{nameof(BanSeconds)}", BanSeconds, 1, Year, "seconds");
        OptionRange.Check(errors, $"{Section}:{nameof(EscalationFactor)}", EscalationFactor, 1, 100, why: "1 keeps every ban the same length");
        OptionRange.Check(errors, $"{Section}:{nameof(MaxBanSeconds)}", MaxBanSeconds, 1, Year, "seconds", "longer bans are permanent ones: Decide:PermanentAfter");
        if (MaxBanSeconds < BanSeconds)
        {
            errors.Add($"{Section}:{nameof(MaxBanSeconds)} ({MaxBanSeconds}) must be at least {nameof(BanSeconds)} ({BanSeconds}).");
        }
        OptionRange.Check(errors, $"{Section}:{nameof(PermanentAfter)}", PermanentAfter, 0, 1000, why: "0 never, else the offence from which bans are permanent");
        if (ManualWidestV4 is < 0 or > 32)
        {
            errors.Add($"{Section}:{nameof(ManualWidestV4)} is {ManualWidestV4}; give a prefix length 0–32.");
        }
        OptionRange.Check(errors, $"{Section}:{nameof(AllowlistWidestV4)}", AllowlistWidestV4, 0, 32, why: "a prefix length");
        OptionRange.Check(errors, $"{Section}:{nameof(AllowlistWidestV6)}", AllowlistWidestV6, 0, 128, why: "a prefix length");
        if (ManualWidestV6 is < 0 or > 128)
        {
            errors.Add($"{Section}:{nameof(ManualWidestV6)} is {ManualWidestV6}; give a prefix length 0–128.");
        }
        OptionRange.Check(errors, $"{Section}:{nameof(MaxBansPerMinute)}", MaxBansPerMinute, 1, 100_000);
        OptionRange.Check(errors, $"{Section}:{nameof(HoldSeconds)}", HoldSeconds, 1, 3600, "seconds", "a hold is short by design; for bans of unverified sources set Decide:BanUnverified");
        OptionRange.Check(errors, $"{Section}:{nameof(MaxHolds)}", MaxHolds, 1, 65_536);
        return errors;
    }
}
