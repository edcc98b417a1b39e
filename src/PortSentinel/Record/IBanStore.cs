using PortSentinel.Decode;

namespace PortSentinel.Record;

/// <summary>Bans of networks: made, in force, lifted and run out; the decider's repeat-offence count and the firewall's restore read them.</summary>
public interface IBanStore
{
    /// <summary>Records bans now in the firewall, in one transaction.</summary>
    void AddBans(IReadOnlyList<BanRecord> bans);

    /// <summary>Bans in force at <paramref name="now"/>: not lifted, not expired. What is re-applied to the firewall at start.</summary>
    IReadOnlyList<BanRecord> ActiveBans(DateTimeOffset now);

    /// <summary>Every ban of <paramref name="network"/>, oldest first (its history).</summary>
    IReadOnlyList<BanRecord> BansOf(NetPrefix network);

    /// <summary>The history: bans newest first, whether in force, lifted or run out, a page at a time.</summary>
    IReadOnlyList<BanRecord> BanHistory(int offset, int limit);

    /// <summary>How many bans the history holds, in force or not.</summary>
    long BanCount();

    /// <summary>How many times <paramref name="network"/> was banned, holds aside: the decider's repeat-offence count.</summary>
    int PreviousBans(NetPrefix network);

    /// <summary>Lifts the active bans of these networks (kept as history); returns how many were lifted.</summary>
    int LiftBans(IReadOnlyList<NetPrefix> networks, DateTimeOffset now, string by);

    /// <summary>
    /// Networks whose bans have all run out by <paramref name="now"/> and were never marked lifted:
    /// what a firewall without timeouts still holds and the sensor must lift.
    /// </summary>
    IReadOnlyList<NetPrefix> ExpiredUnlifted(DateTimeOffset now);

    /// <summary>Marks the run-out bans of these networks lifted, at the time each ran out, by <c>expiry</c>.</summary>
    void MarkExpired(IReadOnlyList<NetPrefix> networks, DateTimeOffset now);

    /// <summary>When each ban made in [start, until) was made.</summary>
    IReadOnlyList<DateTimeOffset> BansBetween(DateTimeOffset start, DateTimeOffset until);
}
