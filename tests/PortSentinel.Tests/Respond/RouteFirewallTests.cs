using PortSentinel.Decode;
using PortSentinel.Respond;
using PortSentinel.Respond.Route;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Respond;

/// <summary>The blackhole-route backend: the shared promises, plus leaving other routes alone.</summary>
public sealed class RouteFirewallTests : FirewallBackendTests
{
    protected override IFirewall CreateFirewall() => new RouteFirewall();

    protected override bool KeepsTime => false;

    [NamespaceFact]
    public void Only_its_own_routes_are_listed_and_lifted()
    {
        // A blackhole route of somebody else's, for the same address PortSentinel then bans.
        var (exit, output) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "ip", "route", "add", "blackhole", "203.0.113.50", "metric", "7");
        Assert.True(exit == 0, output);
        Assert.Empty(InTarget(Firewall.List));
        Assert.Empty(InTarget(() => Firewall.Block([Ban("203.0.113.50", TimeSpan.FromMinutes(1)), Ban("2001:db8:f::/48")])));
        var (_, routes) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "ip", "-6", "route", "show", "proto", $"{RouteFirewall.Protocol}");
        Assert.Contains("blackhole 2001:db8:f::/48", routes, StringComparison.Ordinal);
        Assert.Equal(2, InTarget(Firewall.List).Count);

        Assert.Empty(InTarget(() => Firewall.Unblock([NetPrefix.Parse("203.0.113.50"), NetPrefix.Parse("2001:db8:f::/48")])));
        Assert.Empty(InTarget(Firewall.List));
        var (_, left) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "ip", "route", "show", "type", "blackhole");
        Assert.Contains("blackhole 203.0.113.50 metric 7", left, StringComparison.Ordinal);
    }
}
