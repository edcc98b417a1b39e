using PortSentinel.Decode;

namespace PortSentinel.Respond;

/// <summary>
/// An address or network to block, for a time or until it is removed. <paramref name="Port"/> and
/// <paramref name="Mode"/> say what set it off (the first port probed and its protocol, e.g. tcp;
/// "manual" for a ban by hand): the command backend passes them on as <c>$PORT$</c> and <c>$MODE$</c>.
/// </summary>
public readonly record struct FirewallEntry(NetPrefix Network, TimeSpan? Timeout, ushort Port = 0, string? Mode = null);

/// <summary>An entry the firewall holds, with the time it has left (null: until removed).</summary>
public readonly record struct BlockedEntry(NetPrefix Network, TimeSpan? Remaining)
{
    /// <summary>An entry whose ban ends at <paramref name="until"/> (Unix seconds; null: never), as seen at <paramref name="now"/>.</summary>
    public static BlockedEntry Ending(NetPrefix network, long? until, DateTimeOffset now) =>
        new(network, until is { } u ? TimeSpan.FromTicks(Math.Max(0, (DateTimeOffset.FromUnixTimeSeconds(u) - now).Ticks)) : null);
}

/// <summary>An entry the firewall refused, and the firewall's reason.</summary>
public readonly record struct FirewallFailure(NetPrefix Network, string Reason)
{
    /// <summary>The reason on one line, for the log (nft's messages span three: the error, the command, a caret).</summary>
    public string ReasonLine => string.Join(' ', Reason.Split(['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>
/// A firewall backend: where blocks take effect. The sensor calls it from one thread only (its
/// respond worker: decisions, manual bans, the warm-up's block, checks and expiry all run there as
/// commands); a backend that holds a native context or shared state also serialises its calls
/// itself, so that a second caller can never corrupt it (libnftables is not thread-safe).
/// A change is made as one batch; when the batch fails, each entry is tried alone, so one bad entry
/// does not hold back the others, and the ones refused are returned, never dropped in silence.
/// </summary>
public interface IFirewall : IDisposable
{
    /// <summary>The backend's name in configuration (e.g. nftables).</summary>
    string Name { get; }

    /// <summary>
    /// Whether a ban ends by itself when its time is up (kernel timeouts: nftables, ipset). When
    /// not, the sensor lifts expired bans itself, from the record (<see cref="BanExpiry"/>).
    /// </summary>
    bool ExpiresByItself { get; }

    /// <summary>Creates what the backend needs; safe to call again. Throws <see cref="FirewallException"/> naming what is missing.</summary>
    void Initialize();

    /// <summary>
    /// Blocks the entries. An entry already blocked keeps the longer of its remaining time and the
    /// new one (a repeat offender's longer ban extends it; a shorter one never cuts it). Returns
    /// those refused.
    /// </summary>
    IReadOnlyList<FirewallFailure> Block(IReadOnlyList<FirewallEntry> entries);

    /// <summary>Lifts the blocks; a network not blocked is no failure. Returns those refused.</summary>
    IReadOnlyList<FirewallFailure> Unblock(IReadOnlyList<NetPrefix> networks);

    /// <summary>What is blocked now.</summary>
    IReadOnlyList<BlockedEntry> List();

    /// <summary>
    /// What of the setup <see cref="Initialize"/> made is gone, named (e.g. "set hosts4, 6 of the
    /// 6 rules of chain prerouting"), or null when all of it is there or the backend cannot tell:
    /// something outside the sensor (an administrator's <c>nft flush ruleset</c>, a firewall
    /// reload) may remove any part of it, and the bans with it. Cheap: called every few seconds.
    /// </summary>
    string? Missing() => null;
}

/// <summary>The firewall cannot be used or changed; the message says what is missing or what failed.</summary>
public sealed class FirewallException : Exception
{
    public FirewallException(string message)
        : base(message)
    {
    }

    public FirewallException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public FirewallException()
    {
    }
}
