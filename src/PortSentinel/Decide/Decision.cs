using PortSentinel.Detect;

namespace PortSentinel.Decide;

public enum DecisionAction
{
    /// <summary>Log the detection; do not block (below the blocking severity).</summary>
    Log,

    /// <summary>Block the source for <see cref="Decision.BanFor"/> (null: until lifted by hand).</summary>
    Block,

    /// <summary>The source is allowlisted: logged, never blocked.</summary>
    Allowlisted,

    /// <summary>Blocking was due, but the cap on new bans per minute (or on holds) was reached: logged as such.</summary>
    OverCap,

    /// <summary>
    /// Blocking was due, but the source is not verified at its address: held for
    /// <see cref="Decision.BanFor"/> (<see cref="DecideOptions.HoldSeconds"/>), not banned.
    /// </summary>
    Hold,
}

/// <summary>What to do about a detection, and why. Not yet a firewall change: the respond stage makes that.</summary>
public sealed record Decision(Detection Detection, Severity Severity, DecisionAction Action, TimeSpan? BanFor, int Offence, string Reason);
