using PortSentinel.Common;
using PortSentinel.Decode;
using PortSentinel.Record;

namespace PortSentinel.Respond;

/// <summary>
/// What every part of the respond stage works with, on the respond thread: the firewall, the
/// record, the watchers, the log, the clock and the counters; and the steps those parts share.
/// </summary>
public sealed class RespondContext(IFirewall firewall, IStore store, SensorFeed feed, SensorLog log, TimeProvider? time = null)
{
    public IFirewall Firewall { get; } = firewall;

    public IStore Store { get; } = store;

    /// <summary>Alerts and bans as they happen, for the dashboard's live pages and the notifiers.</summary>
    public SensorFeed Feed { get; } = feed;

    public SensorLog Log { get; } = log;

    public TimeProvider Time { get; } = time ?? TimeProvider.System;

    public RespondCounters Counters { get; } = new();

    // A source's offence count read ahead of its detection. Dropped when a ban is recorded or any
    // detection is decided, so it is never older than the next decision.
    private (NetPrefix Network, int Bans)? _offencesAhead;

    /// <summary>Reads the offence count of a scanner about to be raised, so that its decision need not.</summary>
    public void ReadAhead(NetAddress source)
    {
        NetPrefix network = NetPrefix.Host(source);
        _offencesAhead = (network, Store.PreviousBans(network));
    }

    /// <summary>How many times <paramref name="network"/> was banned before: read ahead, or from the record.</summary>
    public int PreviousBans(NetPrefix network)
    {
        int previous = _offencesAhead is { } ahead && ahead.Network == network ? ahead.Bans : Store.PreviousBans(network);
        _offencesAhead = null;
        return previous;
    }

    /// <summary>A ban was recorded by another path than <see cref="Recorded"/>: an offence count read ahead may be stale.</summary>
    public void ForgetOffences() => _offencesAhead = null;

    /// <summary>Records bans now in the firewall (in one transaction), counts them and tells the watchers.</summary>
    public void Recorded(List<BanRecord> bans)
    {
        _offencesAhead = null;
        Store.AddBans(bans);
        Counters.Banned(bans.Count);
        foreach (BanRecord ban in bans)
        {
            Feed.Publish(new BanEvent(ban.Created, ban, Lifted: false));
        }
    }

    /// <summary>
    /// The decision replaces the kernel guard's hold: a ban with its own length, anything else by
    /// letting the source go (its ban, if any, is already in place).
    /// </summary>
    public void Release(NetPrefix network)
    {
        if (Firewall is IKernelGuard guard)
        {
            guard.Release([network]);
        }
    }

    /// <summary>A ban's length as the BANNED line gives it: seconds, or "ever".</summary>
    public static string Length(TimeSpan? ban) => ban is { } b ? $"{(long)b.TotalSeconds}s" : "ever";

    /// <summary>
    /// The log line's start for a ban now in <paramref name="firewall"/>: <c>BANNED net for 3600s
    /// offence=1 firewall=nftables</c>, or for a hold, which is no offence, <c>HELD net for 600s firewall=nftables</c>.
    /// </summary>
    public static string Placed(BanRecord ban, TimeSpan? length, string firewall)
    {
        ArgumentNullException.ThrowIfNull(ban);
        return ban.Hold
            ? $"HELD {ban.Network} for {Length(length)} firewall={firewall}"
            : $"BANNED {ban.Network} for {Length(length)} offence={ban.Offence} firewall={firewall}";
    }
}
