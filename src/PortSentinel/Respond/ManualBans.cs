using System.Globalization;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;

namespace PortSentinel.Respond;

/// <summary>A ban or unblock asked for by a person (CLI, dashboard, API), with the checks every such path shares.</summary>
public static class ManualBans
{
    /// <summary>
    /// Bans <paramref name="network"/> for <paramref name="length"/> (null: until lifted) in the
    /// firewall, then records it. Refuses allowlisted and too-wide networks. Returns the ban, or
    /// the reason it was refused.
    /// </summary>
    public static (BanRecord? Ban, string? Refusal) Block(SqliteStore store, IFirewall firewall, Decider decider, NetPrefix network, TimeSpan? length, string reason, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(firewall);
        ArgumentNullException.ThrowIfNull(decider);
        if (decider.RefuseManual(network) is { } refusal)
        {
            return (null, refusal);
        }
        if (firewall.Block([new FirewallEntry(network, length, Mode: "manual")]) is [var failure, ..])
        {
            return (null, $"{firewall.Name} refused {network}: {failure.ReasonLine}");
        }
        var ban = new BanRecord(network, $"manual: {reason}", now, now + length, store.PreviousBans(network) + 1);
        store.AddBans([ban]);
        return (ban, null);
    }

    /// <summary>Lifts the bans of <paramref name="networks"/> from the firewall, then in the record; returns how many records were lifted and what the firewall refused.</summary>
    public static (int Lifted, IReadOnlyList<FirewallFailure> Failures) Unblock(SqliteStore store, IFirewall firewall, IReadOnlyList<NetPrefix> networks, string by, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(firewall);
        IReadOnlyList<FirewallFailure> failures = firewall.Unblock(networks);
        int lifted = store.LiftBans([.. networks.Except(failures.Select(f => f.Network))], now, by);
        return (lifted, failures);
    }

    /// <summary>A ban's length as people write it: 90s, 30m, 12h, 7d, or permanent (null).</summary>
    public static bool TryParseDuration(string text, out TimeSpan? duration)
    {
        duration = null;
        if (text == "permanent")
        {
            return true;
        }
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n <= 0)
        {
            return false;
        }
        duration = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => null,
        };
        return duration is not null;
    }
}
