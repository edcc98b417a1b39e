using PortSentinel.Decode;

namespace PortSentinel.Decide;

/// <summary>
/// Addresses and networks that are never blocked, whatever they do (they are still detected and
/// logged): loopback, the host's own addresses, its default gateways, its resolvers, the
/// configured entries, and in a fleet the fleet-wide ones. Checked on every decision and every manual ban, so kept small and flat.
/// </summary>
public sealed class Allowlist
{
    private static readonly NetPrefix[] _loopback = [NetPrefix.Parse("127.0.0.0/8"), NetPrefix.Parse("::1")];

    private readonly List<(NetPrefix Network, string Why)> _entries = [];

    public Allowlist(HostFacts host, IEnumerable<NetPrefix> configured)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(configured);
        foreach (NetPrefix loopback in _loopback)
        {
            _entries.Add((loopback, "loopback"));
        }
        _entries.AddRange(host.Addresses.Select(a => (NetPrefix.Host(a), "an address of this host")));
        _entries.AddRange(host.Gateways.Select(a => (NetPrefix.Host(a), "a default gateway")));
        _entries.AddRange(host.Resolvers.Select(a => (NetPrefix.Host(a), "a DNS resolver of this host")));
        _entries.AddRange(configured.Select(n => (n, "configured")));
    }

    private Allowlist(List<(NetPrefix Network, string Why)> entries)
    {
        _entries = entries;
    }

    public IEnumerable<NetPrefix> Entries => _entries.Select(e => e.Network);

    /// <summary>This allowlist with the fleet-wide entries <paramref name="fleetWide"/> (and their comments) in place of any it had.</summary>
    public Allowlist WithFleetWide(IEnumerable<(NetPrefix Network, string Comment)> fleetWide)
    {
        ArgumentNullException.ThrowIfNull(fleetWide);
        return new Allowlist([.. _entries.Where(e => !e.Why.StartsWith(FleetWide, StringComparison.Ordinal)),
            .. fleetWide.Select(e => (e.Network, $"{FleetWide}: {e.Comment}"))]);
    }

    private const string FleetWide = "allowlisted fleet-wide";

    /// <summary>Whether <paramref name="address"/> is allowlisted, and why (e.g. "a default gateway (192.0.2.1)").</summary>
    public bool Contains(NetAddress address, out string? why)
    {
        foreach (var (network, reason) in _entries)
        {
            if (network.Contains(address))
            {
                why = $"{reason} ({network})";
                return true;
            }
        }
        why = null;
        return false;
    }

    /// <summary>Whether any allowlisted address lies inside <paramref name="network"/> (a manual ban of it would block one).</summary>
    public bool Overlaps(NetPrefix network, out string? why)
    {
        foreach (var (entry, reason) in _entries)
        {
            if (network.Contains(entry.Address) || entry.Contains(network.Address))
            {
                why = $"{reason} ({entry})";
                return true;
            }
        }
        why = null;
        return false;
    }
}
