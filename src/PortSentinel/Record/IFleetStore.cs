using PortSentinel.Decode;

namespace PortSentinel.Record;

/// <summary>
/// What a fleet of sensors shares beyond the record. The blocklist: every write of a ban, by any
/// sensor, dashboard or CLI, is a numbered change, announced when it commits, so that each sensor
/// applies the others' bans and lifts to its own firewall and, after any outage, catches up from
/// the last change it applied. And the fleet-wide allowlist, which every sensor adds to its own.
/// </summary>
public interface IFleetStore
{
    /// <summary>The name this store writes bans under: a sensor skips its own changes, already in its firewall.</summary>
    string Writer { get; }

    /// <summary>The number of the latest change (0: none yet).</summary>
    long LatestChange();

    /// <summary>The last change this sensor applied, as it recorded with <see cref="Applied"/>; null when it never did (a new sensor).</summary>
    long? LastApplied();

    /// <summary>Records that this sensor's firewall holds every change up to <paramref name="change"/>.</summary>
    void Applied(long change);

    /// <summary>
    /// Where every network changed after <paramref name="after"/> stands at <paramref name="now"/>,
    /// in the order of its latest change, and the number of the latest change seen. Holds are left
    /// out: the source of a hold may be forged, and one sensor's doubt is no reason to block it everywhere.
    /// </summary>
    FleetChanges ChangesAfter(long after, DateTimeOffset now);

    /// <summary>The fleet-wide allowlist, oldest entry first.</summary>
    IReadOnlyList<FleetAllowed> FleetAllowlist();

    /// <summary>Adds <paramref name="network"/> to the fleet-wide allowlist, or gives it a new comment; true when it is new.</summary>
    bool Allow(NetPrefix network, string comment, string by, DateTimeOffset now);

    /// <summary>Takes <paramref name="network"/> off the fleet-wide allowlist; false when it was not on it.</summary>
    bool Disallow(NetPrefix network);

    /// <summary>
    /// Starts listening for announced changes, on a connection of its own that holds this sensor's
    /// name for as long as it is open: refused (<see cref="StoreException"/>) while another running
    /// sensor holds it.
    /// </summary>
    IFleetListener Listen();
}

/// <summary>What changed in the fleet's lists.</summary>
[Flags]
public enum FleetNews
{
    None = 0,
    Bans = 1,
    Allowlist = 2,
}

/// <summary>Announcements of changes to the fleet's blocklist and allowlist.</summary>
public interface IFleetListener : IDisposable
{
    /// <summary>Waits up to <paramref name="timeout"/> (at least a millisecond) for a change to be announced; says which list changed, if any.</summary>
    FleetNews Wait(TimeSpan timeout);
}

/// <summary>An entry of the fleet-wide allowlist: never blocked by any sensor of the fleet.</summary>
public sealed record FleetAllowed(NetPrefix Network, string Comment, DateTimeOffset Added, string AddedBy);

/// <summary>
/// The networks changed since some change, and the number of the latest change read; and the
/// values in the record that name no network (a row written by hand or damaged), left out so that
/// one bad row cannot stop the fleet's blocklist, for the caller to report.
/// </summary>
public sealed record FleetChanges(long Latest, IReadOnlyList<BanChange> Networks, IReadOnlyList<string>? Unreadable = null);

/// <summary>
/// Where one network stands in the fleet's blocklist: banned (until <paramref name="Expires"/>,
/// null: until lifted) or not, with the reason of its latest ban, after change <paramref name="Change"/> by <paramref name="By"/>.
/// </summary>
public sealed record BanChange(NetPrefix Network, long Change, bool Active, DateTimeOffset? Expires, string Reason, string By);
