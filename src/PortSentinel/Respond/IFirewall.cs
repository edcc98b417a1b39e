using PortSentinel.Decode;

namespace PortSentinel.Respond;

/// <summary>An address or network to block, for a time or until it is removed.</summary>
public readonly record struct FirewallEntry(NetPrefix Network, TimeSpan? Timeout);

/// <summary>An entry the firewall holds, with the time it has left (null: until removed).</summary>
public readonly record struct BlockedEntry(NetPrefix Network, TimeSpan? Remaining);

/// <summary>An entry the firewall refused, and the firewall's reason.</summary>
public readonly record struct FirewallFailure(NetPrefix Network, string Reason);

/// <summary>
/// A firewall backend: where blocks take effect. Calls come from one thread (the respond worker).
/// A change is made as one batch; when the batch fails, each entry is tried alone, so one bad entry
/// does not hold back the others, and the ones refused are returned, never dropped in silence.
/// </summary>
public interface IFirewall : IDisposable
{
    /// <summary>The backend's name in configuration (e.g. nftables).</summary>
    string Name { get; }

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
