using PortSentinel.Decode;

namespace PortSentinel.Record;

/// <summary>A ban as recorded: what, why, since when, until when (null: until lifted), and whether it was lifted.</summary>
public sealed record BanRecord(
    NetPrefix Network,
    string Reason,
    DateTimeOffset Created,
    DateTimeOffset? Expires,
    int Offence,
    DateTimeOffset? Lifted = null,
    string? LiftedBy = null);

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
