using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Record;

namespace PortSentinel.Respond;

/// <summary>A ban or unblock asked for by a person (CLI, dashboard, API), with the checks every such path shares.</summary>
public static class ManualBans
{
    /// <summary>
    /// Bans <paramref name="network"/> for <paramref name="length"/> (null: until lifted) in the
    /// firewall, then records it. Refuses allowlisted and too-wide networks. Returns the ban, or
    /// the reason it was refused.
    /// </summary>
    public static (BanRecord? Ban, string? Refusal) Block(IBanStore store, IFirewall firewall, Decider decider, NetPrefix network, TimeSpan? length, string reason, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(firewall);
        ArgumentNullException.ThrowIfNull(decider);
        if (decider.RefuseManual(network) is { } refusal)
        {
            return (null, refusal);
        }
        // Counted before the firewall changes, so that the record follows the element at once
        // (on a fleet's store, the others apply the ban when it is recorded).
        int offence = store.PreviousBans(network) + 1;
        if (firewall.Block([new FirewallEntry(network, length, Mode: "manual")]) is [var failure, ..])
        {
            return (null, $"{firewall.Name} refused {network}: {failure.ReasonLine}");
        }
        var ban = new BanRecord(network, $"manual: {reason}", now, now + length, offence);
        store.AddBans([ban]);
        return (ban, null);
    }

    /// <summary>Lifts the bans of <paramref name="networks"/> from the firewall, then in the record; returns how many records were lifted and what the firewall refused.</summary>
    public static (int Lifted, IReadOnlyList<FirewallFailure> Failures) Unblock(IBanStore store, IFirewall firewall, IReadOnlyList<NetPrefix> networks, string by, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(firewall);
        IReadOnlyList<FirewallFailure> failures = firewall.Unblock(networks);
        int lifted = store.LiftBans([.. networks.Except(failures.Select(f => f.Network))], now, by);
        return (lifted, failures);
    }

    /// <summary>
    /// The longest ban length <see cref="TryParseDuration(string, out TimeSpan?, out string?)"/> takes, 3650
    /// days (10 years); longer is "permanent". The nftables backend's kernel refuses element timeouts
    /// past 2^64 ns (213,503 days, ERANGE), and TimeSpan ends at 10,675,199 days.
    /// </summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(3650);

    /// <summary>A ban's length as people write it: 90s, 30m, 12h, 7d, or permanent (null).</summary>
    public static bool TryParseDuration(string text, out TimeSpan? duration) => TryParseDuration(text, out duration, out _);

    /// <summary>
    /// A ban's length as people write it: 90s, 30m, 12h, 7d, or permanent (null), at most
    /// <see cref="MaxDuration"/>. Otherwise false, and <paramref name="problem"/> says what is wrong
    /// and what to give, to follow the value: "is not a duration; give e.g. …".
    /// </summary>
    public static bool TryParseDuration(string text, out TimeSpan? duration, [NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        duration = null;
        problem = null;
        if (text == "permanent")
        {
            return true;
        }
        long unit = text.Length < 2 ? 0 : text[^1] switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => 0,
        };
        ReadOnlySpan<char> digits = text.AsSpan(0, Math.Max(0, text.Length - 1));
        if (unit == 0 || digits.IsEmpty || digits.ContainsAnyExceptInRange('0', '9') || !digits.ContainsAnyExcept('0'))
        {
            problem = "is not a duration; give e.g. 90s, 30m, 12h, 7d, or permanent.";
            return false;
        }
        // Digits too many for a long are a length far too long, not nonsense.
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
        {
            problem = TooLong;
            return false;
        }
        // Compared in the unit given, so that no multiplication can overflow.
        if (n > (long)MaxDuration.TotalSeconds / unit)
        {
            problem = TooLong;
            return false;
        }
        duration = TimeSpan.FromSeconds(n * unit);
        return true;
    }

    private static string TooLong => $"is longer than the maximum, {(long)MaxDuration.TotalDays}d (10 years); give at most {(long)MaxDuration.TotalDays}d, or permanent.";
}
