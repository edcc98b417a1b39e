using System.Text;
using PortSentinel.Decode;

namespace PortSentinel.Respond.Route;

/// <summary>
/// Blocks with blackhole routes (<c>ip route add blackhole 203.0.113.7</c>), IPv4 and IPv6, tagged
/// with a routing protocol number of their own (<see cref="Protocol"/>) so that only PortSentinel's
/// are ever listed or removed. The scanner's packets still arrive, but nothing is sent back to it:
/// no answer to a probe, no completed handshake. Needs no firewall at all, only iproute2. Routes
/// have no timeout: the sensor lifts expired bans. Changes go in batches through <c>ip -batch</c>;
/// when a batch fails, each entry is tried alone.
/// </summary>
public sealed class RouteFirewall : IFirewall
{
    /// <summary>The rtm_protocol of PortSentinel's routes (unassigned in iproute2's rt_protos).</summary>
    public const int Protocol = 213;

    public string Name => "route";

    public bool ExpiresByItself => false;

    public void Initialize()
    {
        foreach (string family in new[] { "-4", "-6" })
        {
            var (exit, output) = ExternalTool.Run("ip", [family, "route", "show", "table", "main", "type", "blackhole", "proto", $"{Protocol}"]);
            if (exit != 0)
            {
                throw new FirewallException($"route backend: ip {family} route show failed: {output}; install iproute2.");
            }
        }
    }

    // replace, not add: a route already there is no error.
    public IReadOnlyList<FirewallFailure> Block(IReadOnlyList<FirewallEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return Apply([.. entries.Select(e => e.Network).Distinct()], "replace", notThere: null);
    }

    public IReadOnlyList<FirewallFailure> Unblock(IReadOnlyList<NetPrefix> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        return Apply([.. networks.Distinct()], "del", notThere: "No such process");
    }

    public IReadOnlyList<BlockedEntry> List()
    {
        var entries = new List<BlockedEntry>();
        foreach (string family in new[] { "-4", "-6" })
        {
            var (exit, output) = ExternalTool.Run("ip", [family, "route", "show", "table", "main", "type", "blackhole", "proto", $"{Protocol}"]);
            if (exit != 0)
            {
                throw new FirewallException($"route backend: cannot list routes: {output}");
            }
            foreach (string line in output.Split('\n'))
            {
                // blackhole 203.0.113.7   |   blackhole 2001:db8::/64 metric 1024 pref medium
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length >= 2 && f[0] == "blackhole")
                {
                    entries.Add(new BlockedEntry(NetPrefix.Parse(f[1]), null));
                }
            }
        }
        return entries;
    }

    public void Dispose()
    {
    }

    private static List<FirewallFailure> Apply(IReadOnlyList<NetPrefix> networks, string verb, string? notThere)
    {
        var failures = new List<FirewallFailure>();
        if (networks.Count == 0 || Batch(networks, verb).Exit == 0)
        {
            return failures;
        }
        foreach (NetPrefix network in networks)
        {
            var (exit, output) = Batch([network], verb);
            if (exit != 0 && (notThere is null || !output.Contains(notThere, StringComparison.Ordinal)))
            {
                failures.Add(new FirewallFailure(network, output));
            }
        }
        return failures;
    }

    private static (int Exit, string Output) Batch(IEnumerable<NetPrefix> networks, string verb)
    {
        var script = new StringBuilder();
        foreach (NetPrefix network in networks)
        {
            script.Append($"route {verb} blackhole {network.Address}/{network.Length} table main proto {Protocol}\n");
        }
        return ExternalTool.Run("ip", ["-batch", "-"], script.ToString());
    }
}
