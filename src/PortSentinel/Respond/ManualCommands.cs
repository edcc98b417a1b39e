using PortSentinel.Decode;
using PortSentinel.Intel;
using PortSentinel.Record;

namespace PortSentinel.Respond;

/// <summary>
/// Bans and unbans asked for while the sensor runs (dashboard, API, blocklist import), each a
/// command on the respond thread that owns the firewall, with the checks of <see cref="ManualBans"/>.
/// </summary>
public sealed class ManualCommands(RespondWorker worker, Responder responder)
{
    private readonly RespondContext _context = responder.Context;

    /// <summary>
    /// Bans <paramref name="network"/> by hand: refused when allowlisted or too wide, as on the CLI.
    /// <paramref name="length"/> null: until lifted.
    /// </summary>
    public Task<(BanRecord? Ban, string? Refusal)> Block(NetPrefix network, TimeSpan? length, string reason, string by) => worker.Run(() =>
    {
        _context.ForgetOffences();
        var (ban, refusal) = ManualBans.Block(_context.Store, _context.Firewall, responder.Decider, network, length, reason, _context.Time.GetUtcNow());
        if (ban is null)
        {
            _context.Log($"REFUSED manual ban of {network} by {by}: {refusal}");
            return (ban, refusal);
        }
        _context.Release(network);
        _context.Counters.Banned(1);
        _context.Feed.Publish(new BanEvent(ban.Created, ban, Lifted: false, by));
        _context.Log($"BANNED {network} for {RespondContext.Length(length)} offence={ban.Offence} firewall={_context.Firewall.Name} by {by}: {reason}");
        return (ban, refusal);
    });

    /// <summary>
    /// Bans a blocklist ahead of any scan, in one firewall batch: the allowlisted and the too wide
    /// (as for manual bans) are refused, those banned already left as they are.
    /// </summary>
    public Task<PreemptResult> Preempt(IReadOnlyList<NetPrefix> networks, TimeSpan length, string reason) => worker.Run(() =>
    {
        DateTimeOffset now = _context.Time.GetUtcNow();
        HashSet<NetPrefix> active = [.. _context.Store.ActiveBans(now).Select(b => b.Network)];
        var fresh = new List<NetPrefix>();
        int already = 0, refused = 0;
        foreach (NetPrefix network in networks.Distinct())
        {
            if (active.Contains(network))
            {
                already++;
            }
            else if (responder.Decider.RefuseManual(network) is not null)
            {
                refused++;
            }
            else
            {
                fresh.Add(network);
            }
        }
        IFirewall firewall = _context.Firewall;
        IReadOnlyList<FirewallFailure> failures = fresh.Count == 0 ? [] : firewall.Block([.. fresh.Select(n => new FirewallEntry(n, length, Mode: "blocklist"))]);
        HashSet<NetPrefix> failed = [.. failures.Select(f => f.Network)];
        List<BanRecord> bans = [.. fresh.Where(n => !failed.Contains(n)).Select(n => new BanRecord(n, reason, now, now + length, 1))];
        _context.Recorded(bans);
        if (failures.Count > 0)
        {
            _context.Counters.FirewallFailed(failures.Count);
            _context.Log($"ERROR {firewall.Name} refused {failures.Count} blocklist bans, e.g. {failures[0].Network}: {failures[0].ReasonLine}");
        }
        _context.Log($"BLOCKLIST {reason}: {bans.Count} banned for {RespondContext.Length(length)}, {already} banned already, {refused} refused (allowlisted or too wide)");
        return new PreemptResult(bans.Count, already, refused, failures.Count);
    });

    /// <summary>Lifts the bans of <paramref name="networks"/> by hand.</summary>
    public Task<(int Lifted, IReadOnlyList<FirewallFailure> Failures)> Unblock(IReadOnlyList<NetPrefix> networks, string by) => worker.Run(() =>
    {
        DateTimeOffset now = _context.Time.GetUtcNow();
        var (lifted, failures) = ManualBans.Unblock(_context.Store, _context.Firewall, networks, by, now);
        foreach (NetPrefix network in networks.Except(failures.Select(f => f.Network)))
        {
            _context.Feed.Publish(new BanEvent(now, new BanRecord(network, "", now, null, 0, now, by), Lifted: true, by));
            _context.Log($"UNBANNED {network} by {by}");
        }
        foreach (FirewallFailure failure in failures)
        {
            _context.Counters.FirewallFailed();
            _context.Log($"ERROR {_context.Firewall.Name} refused to lift {failure.Network} for {by}: {failure.ReasonLine}");
        }
        return (lifted, failures);
    });
}
