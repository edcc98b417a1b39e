using PortSentinel.Decode;

namespace PortSentinel.Record;

/// <summary>
/// A ban as recorded: what, why, since when, until when (null: until lifted), and whether it was
/// lifted. A <paramref name="Hold"/> is the short ban of a source not verified at its address
/// (<see cref="Decide.DecisionAction.Hold"/>): it is no offence, so later bans do not grow from it.
/// </summary>
public sealed record BanRecord(
    NetPrefix Network,
    string Reason,
    DateTimeOffset Created,
    DateTimeOffset? Expires,
    int Offence,
    DateTimeOffset? Lifted = null,
    string? LiftedBy = null,
    bool Hold = false);

/// <summary>The store cannot be used; the message names the file and the fix.</summary>
public sealed class StoreException : Exception
{
    public StoreException(string message)
        : base(message)
    {
    }

    public StoreException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public StoreException()
    {
    }
}
