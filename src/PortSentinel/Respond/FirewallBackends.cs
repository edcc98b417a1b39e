using PortSentinel.Respond.Command;
using PortSentinel.Respond.HostsDeny;
using PortSentinel.Respond.Ipset;
using PortSentinel.Respond.Iptables;
using PortSentinel.Respond.Nftables;
using PortSentinel.Respond.Route;

namespace PortSentinel.Respond;

/// <summary>The firewall backends by the name <see cref="FirewallOptions.Backend"/> gives.</summary>
public static class FirewallBackends
{
    public static IFirewall Create(FirewallOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Backend switch
        {
            "dry-run" => new DryRunFirewall(),
            "ipset" => new IpsetFirewall(),
            "iptables" => new IptablesFirewall(),
            "route" => new RouteFirewall(),
            "hosts-deny" => new HostsDenyFirewall(options),
            "command" => new CommandFirewall(options),
            _ => new NftablesFirewall(),
        };
    }
}
