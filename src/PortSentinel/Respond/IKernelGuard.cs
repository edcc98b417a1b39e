using PortSentinel.Decode;

namespace PortSentinel.Respond;

/// <summary>
/// What the kernel guard is told: hold a source for <paramref name="Hold"/> once the host has
/// refused it on more than <paramref name="Ports"/> distinct closed ports or protocols within
/// <paramref name="Window"/> (a token bucket: that many at once, refilled at that many per
/// window); at most <paramref name="HoldsPerMinute"/> holds a minute, as many at once; never a source in
/// <paramref name="Allowed"/>.
/// </summary>
public sealed record GuardRules(int Ports, TimeSpan Window, TimeSpan Hold, int HoldsPerMinute, IReadOnlyList<NetPrefix> Allowed);

/// <summary>
/// A firewall that can stop a scanner by itself, in the kernel, while the sensor is still deciding:
/// the scanner then learns only the first few ports it probed. The hold is a bridge to the
/// sensor's decision, which replaces it: a ban with the ban's own length, anything else by letting
/// the source go. A source the sensor never decides on is let go when the hold runs out.
/// </summary>
public interface IKernelGuard
{
    /// <summary>Puts <paramref name="rules"/> in place of any before; null takes the guard away. Throws <see cref="FirewallException"/>.</summary>
    void Arm(GuardRules? rules);

    /// <summary>Ends the holds of these addresses (networks are never held); an address not held is no failure. Throws <see cref="FirewallException"/>.</summary>
    void Release(IReadOnlyList<NetPrefix> sources);
}
