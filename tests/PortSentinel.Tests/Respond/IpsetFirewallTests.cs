using PortSentinel.Respond;
using PortSentinel.Respond.Ipset;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Respond;

/// <summary>The ipset + iptables backend: the shared promises, plus its rules.</summary>
public sealed class IpsetFirewallTests : FirewallBackendTests
{
    protected override IFirewall CreateFirewall() => new IpsetFirewall();

    protected override string[][] RemoveSetup => [["ip6tables", "-w", "-t", "raw", "-D", "PREROUTING", "-j", IpsetFirewall.Chain]];

    [NamespaceFact]
    public void Setting_up_again_leaves_one_jump_and_one_rule_per_family()
    {
        InTarget(() =>
        {
            Firewall.Initialize();
            return 0;
        });
        foreach (var (tables, set) in new[] { ("iptables", "portsentinel4"), ("ip6tables", "portsentinel6") })
        {
            var (exit, rules) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), tables, "-t", "raw", "-S");
            Assert.True(exit == 0, rules);
            var lines = rules.Split('\n');
            Assert.Single(lines, l => l.Trim() == $"-A PREROUTING -j {IpsetFirewall.Chain}");
            Assert.Single(lines, l => l.Contains($"--match-set {set} src -j DROP", StringComparison.Ordinal));
        }
    }

    [NamespaceFact]
    public void A_thousand_bans_go_in_as_one_batch()
    {
        var bans = Enumerable.Range(1, 1000).Select(i => Ban($"2001:db8:f::{i:x}", TimeSpan.FromHours(1))).ToList();
        Assert.Empty(InTarget(() => Firewall.Block(bans)));
        Assert.Equal(1000, InTarget(Firewall.List).Count);
    }
}
