using PortSentinel.Respond;
using PortSentinel.Respond.Iptables;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Respond;

/// <summary>The plain iptables backend: the shared promises, plus its rules.</summary>
public sealed class IptablesFirewallTests : FirewallBackendTests
{
    protected override IFirewall CreateFirewall() => new IptablesFirewall();

    protected override string[][] RemoveSetup => [["iptables", "-w", "-t", "raw", "-D", "PREROUTING", "-j", IptablesFirewall.Chain]];

    [NamespaceFact]
    public void Each_ban_is_one_rule_that_carries_its_end_and_setting_up_again_adds_no_jump()
    {
        Assert.Empty(InTarget(() => Firewall.Block([Ban("203.0.113.7", TimeSpan.FromMinutes(10)), Ban("2001:db8:f::/48")])));
        InTarget(() =>
        {
            Firewall.Initialize();
            return 0;
        });
        long end = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        foreach (var (tables, source, until) in new[] { ("iptables", "203.0.113.7/32", end.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("ip6tables", "2001:db8:f::/48", "never") })
        {
            var (exit, rules) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), tables, "-t", "raw", "-S");
            Assert.True(exit == 0, rules);
            var lines = rules.Split('\n');
            Assert.Single(lines, l => l.Trim() == $"-A PREROUTING -j {IptablesFirewall.Chain}");
            string rule = Assert.Single(lines, l => l.StartsWith($"-A {IptablesFirewall.Chain}", StringComparison.Ordinal));
            Assert.Contains($"-s {source}", rule, StringComparison.Ordinal);
            Assert.Contains("-j DROP", rule, StringComparison.Ordinal);
            string marker = rule[(rule.IndexOf("until=", StringComparison.Ordinal) + 6)..].Split('"')[0];
            if (until == "never")
            {
                Assert.Equal(until, marker);
            }
            else
            {
                Assert.InRange(long.Parse(marker, System.Globalization.CultureInfo.InvariantCulture), end - 5, end + 5);
            }
        }
    }
}
