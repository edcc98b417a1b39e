using PortSentinel.Decode;
using PortSentinel.Respond;
using PortSentinel.Respond.Nftables;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Respond;

/// <summary>The nftables backend: the shared promises, plus its table layout and batches.</summary>
public sealed class NftablesFirewallTests : FirewallBackendTests
{
    protected override IFirewall CreateFirewall() => new NftablesFirewall();

    [NamespaceFact]
    public void Initializing_again_keeps_one_table_with_its_four_rules()
    {
        InTarget(() =>
        {
            Firewall.Initialize();
            return 0;
        });
        var (exit, output) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "nft", "list", "table", "inet", NftablesFirewall.Table);
        Assert.Equal(0, exit);
        Assert.Equal(4, output.Split('\n').Count(line => line.Contains("drop", StringComparison.Ordinal)));
    }

    [NamespaceFact]
    public void A_refused_entry_is_reported_and_does_not_hold_back_the_others()
    {
        Assert.Empty(InTarget(() => Firewall.Block([Ban("198.51.100.0/24")])));
        // 198.51.100.128/25 overlaps a network already held: nftables refuses the overlap. An
        // address inside the network is no overlap: addresses have sets of their own.
        var failures = InTarget(() => Firewall.Block([Ban("203.0.113.7"), Ban("198.51.100.128/25"), Ban("198.51.100.9"), Ban("192.0.2.5", TimeSpan.FromHours(1))]));
        FirewallFailure failure = Assert.Single(failures);
        Assert.Equal(NetPrefix.Parse("198.51.100.128/25"), failure.Network);
        Assert.NotEmpty(failure.Reason);
        var held = InTarget(Firewall.List).Select(b => b.Network.ToString()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["192.0.2.5", "198.51.100.0/24", "198.51.100.9", "203.0.113.7"], held);
    }

    [NamespaceFact]
    public void Ten_thousand_bans_go_in_as_one_batch()
    {
        var bans = Enumerable.Range(1, 10_000).Select(i => Ban($"2001:db8:f::{i:x}", TimeSpan.FromHours(1))).ToList();
        Assert.Empty(InTarget(() => Firewall.Block(bans)));
        Assert.Equal(10_000, InTarget(Firewall.List).Count);
    }
}

public class NftablesDurationTests
{
    [Theory]
    [InlineData("9m59s944ms", 599_944)]
    [InlineData("1d2h3m4s5ms", 93_784_005)]
    [InlineData("30s", 30_000)]
    [InlineData("250ms", 250)]
    public void Nft_durations_read_as_nft_writes_them(string text, long milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), PortSentinel.Respond.Nftables.NftablesFirewall.ParseDuration(text));
}
