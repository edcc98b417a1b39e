using System.CommandLine;
using Microsoft.Extensions.Configuration;
using PortSentinel.Respond;

namespace PortSentinel.Cli.Commands;

/// <summary>The firewall backends by their configuration names.</summary>
public static class Firewalls
{
    public static Option<string?> Option()
    {
        var option = new Option<string?>("--firewall")
        {
            Description = "The backend that blocks: nftables (default), ipset, iptables, route, hosts-deny, command, or dry-run (decide and log, change nothing). Overrides Firewall:Backend.",
        };
        option.AcceptOnlyFromAmong([.. FirewallOptions.Backends]);
        return option;
    }

    /// <summary>The <c>Firewall</c> section, with <paramref name="chosen"/> (--firewall) over its Backend key.</summary>
    public static FirewallOptions Options(IConfiguration configuration, string? chosen)
    {
        var options = Settings.Bind<FirewallOptions>(configuration, FirewallOptions.Section);
        options.Backend = chosen ?? options.Backend;
        IReadOnlyList<string> errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new SettingsException(string.Join(Environment.NewLine, errors));
        }
        return options;
    }
}
