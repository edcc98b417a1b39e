using PortSentinel.Decide;
using PortSentinel.Record;

namespace PortSentinel.Respond;

/// <summary>
/// The firewall's setup, on the respond thread: made at start with the bans still in force put
/// back, checked while running, and made again with every ban when something outside the sensor
/// removed it; the kernel guard armed with the allowlist and hold cap the decisions use.
/// </summary>
public sealed class FirewallIntegrity(RespondContext context, FirewallOptions options)
{
    private Decider? _decider; // whose allowlist and cap the kernel guard was armed with

    /// <summary>
    /// Sets the firewall up, puts back the bans still in force but those <paramref name="decider"/>
    /// refuses (allowlisted, too wide), lifts those that ran out (while the sensor was down) and arms the guard.
    /// </summary>
    public void SetUp(Decider decider)
    {
        _decider = decider;
        IFirewall firewall = context.Firewall;
        firewall.Initialize();
        DateTimeOffset now = context.Time.GetUtcNow();
        // What this sensor's allowlist or width rule refuses stays out, as a ban by hand would: in a
        // fleet's store another sensor may have banned this one's gateway.
        List<BanRecord> active = [.. context.Store.ActiveBans(now)];
        int kept = active.RemoveAll(b => decider.RefuseManual(b.Network) is not null);
        var failures = firewall.Block([.. active.Select(b => new FirewallEntry(b.Network, b.Expires - now, Mode: "restore"))]);
        context.Log($"RESTORED {active.Count - failures.Count} bans into {firewall.Name}"
            + (kept > 0 ? $", {kept} kept out (allowlisted or too wide here)" : "")
            + (failures.Count > 0 ? $", {failures.Count} refused: {string.Join("; ", failures.Select(f => $"{f.Network} {f.ReasonLine}"))}" : ""));
        BanExpiry.Lift(context.Store, firewall, now, context.Log);
        ArmGuard();
    }

    /// <summary>When any part of the firewall's setup was removed from outside, sets it all up again with the bans, naming what was gone.</summary>
    public void Check()
    {
        if (context.Firewall.Missing() is { } missing)
        {
            context.Log($"WARNING the {context.Firewall.Name} setup lost {missing} (removed from outside, e.g. by nft flush ruleset or a reload of the rules); setting it up again with every ban in force");
            SetUp(_decider ?? throw new InvalidOperationException("the firewall was checked before it was set up"));
        }
    }

    /// <summary>Arms the guard again with a new allowlist and hold cap (a reload).</summary>
    public void Rearm(Decider decider)
    {
        _decider = decider;
        ArmGuard();
    }

    /// <summary>Arms the firewall's kernel guard, if it has one, with the allowlist and hold cap (Decide:MaxHolds) the decisions use.</summary>
    private void ArmGuard()
    {
        Decider decider = _decider!;
        GuardRules? rules = options.Guard(decider.Allowlist.Entries, decider.Options.MaxHolds);
        if (context.Firewall is not IKernelGuard guard)
        {
            if (rules is not null)
            {
                context.Log($"GUARD off: the {context.Firewall.Name} backend has no kernel guard (nftables has)");
            }
            return;
        }
        guard.Arm(rules);
        context.Log(rules is null
            ? $"GUARD off ({FirewallOptions.Section}:{nameof(FirewallOptions.GuardPorts)} is 0)"
            : $"GUARD holds for {rules.Hold.TotalSeconds:0}s a source refused on more than {rules.Ports} closed ports within {rules.Window.TotalSeconds:0}s, at most {rules.HoldsPerMinute} a minute; {rules.Allowed.Count} allowed networks never held");
    }
}
