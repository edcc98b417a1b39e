using PortSentinel.Common;
using PortSentinel.Record;

namespace PortSentinel.Respond;

/// <summary>
/// Bans the firewall refused, tried again after 1 s, then 2, 4, … up to a minute, until each goes
/// in or its time would be up. Respond thread only.
/// </summary>
public sealed class BanRetries(RespondContext context, FirewallIntegrity integrity)
{
    public static readonly TimeSpan First = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan _most = TimeSpan.FromMinutes(1);

    // NextTry: a timestamp of the context's clock (TimeProvider.GetTimestamp).
    private sealed record RefusedBan(FirewallEntry Entry, BanRecord Ban, int Attempts, long NextTry);

    private readonly List<RefusedBan> _refused = [];

    /// <summary>A ban refused once: tried again in <see cref="First"/>.</summary>
    public void Add(FirewallEntry entry, BanRecord ban) =>
        _refused.Add(new RefusedBan(entry, ban, 1, After(context.Time.GetTimestamp(), First)));

    /// <summary>
    /// Tries the refused bans that are due again. The firewall is checked and set up again first:
    /// what made it refuse may have been its setup vanishing, whole (then every ban comes back with
    /// it, <see cref="FirewallIntegrity.Check"/>) or in part (a set or rule that
    /// <see cref="IFirewall.Initialize"/> puts back).
    /// </summary>
    public void RetryDue()
    {
        long tick = context.Time.GetTimestamp();
        List<RefusedBan> due = [.. _refused.Where(r => r.NextTry <= tick)];
        if (due.Count == 0)
        {
            return;
        }
        _refused.RemoveAll(due.Contains);
        IFirewall firewall = context.Firewall;
        DateTimeOffset now = context.Time.GetUtcNow();
        foreach (RefusedBan late in due.Where(r => r.Ban.Expires <= now))
        {
            context.Log($"ERROR gave up blocking {late.Ban.Network}: its ban ran out before {firewall.Name} took it ({late.Attempts} attempts)");
        }
        due.RemoveAll(r => r.Ban.Expires <= now);
        IReadOnlyList<FirewallFailure> failures;
        try
        {
            integrity.Check();
            firewall.Initialize();
            failures = firewall.Block([.. due.Select(r => r.Entry with { Timeout = r.Ban.Expires - now })]);
        }
        catch (FirewallException e)
        {
            failures = [.. due.Select(r => new FirewallFailure(r.Ban.Network, e.Message))];
        }
        foreach (RefusedBan retry in due)
        {
            if (failures.FirstOrDefault(f => f.Network == retry.Ban.Network) is { Reason: not null } failure)
            {
                TimeSpan wait = Backoff.After(retry.Attempts + 1, First, _most);
                context.Counters.FirewallFailed();
                context.Log($"ERROR {firewall.Name} refused to block {retry.Ban.Network} again ({retry.Attempts + 1} attempts): {failure.ReasonLine}; trying again in {wait.TotalSeconds:0}s");
                _refused.Add(retry with { Attempts = retry.Attempts + 1, NextTry = After(tick, wait) });
                continue;
            }
            context.Release(retry.Ban.Network);
            context.Recorded([retry.Ban]);
            context.Log($"{RespondContext.Placed(retry.Ban, retry.Ban.Expires - now, firewall.Name)} after {retry.Attempts + 1} attempts");
        }
    }

    private long After(long timestamp, TimeSpan wait) => timestamp + (long)(wait.TotalSeconds * context.Time.TimestampFrequency);
}
