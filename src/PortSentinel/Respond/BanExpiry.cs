using PortSentinel.Common;
using PortSentinel.Decode;
using PortSentinel.Record;

namespace PortSentinel.Respond;

/// <summary>
/// Ends bans on firewalls that cannot end them by themselves (iptables, route, hosts-deny,
/// command), driven by the record, so that an expiry missed while the sensor was down is caught
/// up at the next start.
/// </summary>
public static class BanExpiry
{
    /// <summary>Lifts from the firewall every ban that has run out and marks it so; returns how many networks were lifted.</summary>
    public static int Lift(IBanStore store, IFirewall firewall, DateTimeOffset now, SensorLog log)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(firewall);
        ArgumentNullException.ThrowIfNull(log);
        if (firewall.ExpiresByItself)
        {
            return 0;
        }
        IReadOnlyList<NetPrefix> expired = store.ExpiredUnlifted(now);
        if (expired.Count == 0)
        {
            return 0;
        }
        IReadOnlyList<FirewallFailure> failures = firewall.Unblock(expired);
        var refused = failures.Select(f => f.Network).ToHashSet();
        List<NetPrefix> lifted = [.. expired.Where(n => !refused.Contains(n))];
        store.MarkExpired(lifted, now);
        foreach (NetPrefix network in lifted)
        {
            log($"UNBANNED {network} (ban expired) firewall={firewall.Name}");
        }
        foreach (FirewallFailure failure in failures)
        {
            // Left unmarked: the next sweep tries again.
            log($"ERROR {firewall.Name} refused to lift the expired ban of {failure.Network}: {failure.ReasonLine}");
        }
        return lifted.Count;
    }
}
