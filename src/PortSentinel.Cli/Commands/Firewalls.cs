using System.CommandLine;
using PortSentinel.Respond;
using PortSentinel.Respond.Ipset;
using PortSentinel.Respond.Nftables;

namespace PortSentinel.Cli.Commands;

/// <summary>The firewall backends by their configuration names.</summary>
public static class Firewalls
{
    public static Option<string> Option()
    {
        var option = new Option<string>("--firewall")
        {
            Description = "nftables (default), ipset (ipset + iptables), or dry-run (decide and log, change nothing).",
            DefaultValueFactory = _ => "nftables",
        };
        option.AcceptOnlyFromAmong("nftables", "ipset", "dry-run");
        return option;
    }

    public static IFirewall Create(string name) => name switch
    {
        "dry-run" => new DryRunFirewall(),
        "ipset" => new IpsetFirewall(),
        _ => new NftablesFirewall(),
    };
}
