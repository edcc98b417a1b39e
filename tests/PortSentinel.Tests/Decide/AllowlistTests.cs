using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Decide;

public class AllowlistTests
{
    private static NetAddress A(string text) => NetAddress.Parse(text);

    private static readonly HostFacts _host = new(
        [A("192.0.2.10"), A("2001:db8::10")],
        [A("192.0.2.1"), A("fe80::1")],
        [A("198.51.100.53")]);

    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.1.2.3", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("192.0.2.10", "an address of this host")]
    [InlineData("2001:db8::10", "an address of this host")]
    [InlineData("192.0.2.1", "a default gateway")]
    [InlineData("fe80::1", "a default gateway")]
    [InlineData("198.51.100.53", "a DNS resolver")]
    [InlineData("203.0.113.77", "configured (203.0.113.0/24)")]
    [InlineData("2001:db8:beef::5", "configured (2001:db8:beef::/48)")]
    public void These_are_never_blocked_and_the_reason_is_given(string address, string reason)
    {
        var allowlist = new Allowlist(_host, [NetPrefix.Parse("203.0.113.0/24"), NetPrefix.Parse("2001:db8:beef::/48")]);
        Assert.True(allowlist.Contains(A(address), out string? why));
        Assert.Contains(reason, why);
    }

    [Theory]
    [InlineData("192.0.2.11")]
    [InlineData("198.51.100.1")]
    [InlineData("2001:db8::11")]
    [InlineData("::ffff:203.0.114.1")]
    [InlineData("128.0.0.1")]
    public void Others_are_not(string address)
    {
        var allowlist = new Allowlist(_host, [NetPrefix.Parse("203.0.113.0/24")]);
        Assert.False(allowlist.Contains(A(address), out string? why));
        Assert.Null(why);
    }

    [Fact]
    public void A_network_that_holds_an_allowlisted_address_overlaps_it()
    {
        var allowlist = new Allowlist(_host, []);
        Assert.True(allowlist.Overlaps(NetPrefix.Parse("192.0.2.0/24"), out string? why));
        Assert.Contains("192.0.2", why);
        Assert.True(allowlist.Overlaps(NetPrefix.Parse("0.0.0.0/0"), out _));
        Assert.False(allowlist.Overlaps(NetPrefix.Parse("203.0.113.0/24"), out _));
        Assert.False(allowlist.Overlaps(NetPrefix.Parse("2001:db8:1::/48"), out _));
    }

    [Fact]
    public void Proc_route_tables_give_the_default_gateways()
    {
        const string v4 = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
            + "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
            + "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
            + "eth1\t00000000\t016433C6\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";
        Assert.Equal([A("192.0.2.1"), A("198.51.100.1")], HostFacts.ParseIpv4Routes(v4));

        const string v6 = "20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
            + "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n"
            + "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";
        Assert.Equal([A("fe80::1")], HostFacts.ParseIpv6Routes(v6));
    }

    [Fact]
    public void Resolv_conf_gives_the_nameservers()
    {
        const string text = "# generated\nsearch example.org\nnameserver 192.0.2.53\n  nameserver   2001:db8::53  \nnameserver fe80::1%eth0\noptions edns0\n;nameserver 203.0.113.1\nnameserver not-an-address\n";
        Assert.Equal([A("192.0.2.53"), A("2001:db8::53"), A("fe80::1")], HostFacts.ParseResolvConf(text));
    }

    [NamespaceFact]
    public void The_facts_of_a_real_namespace_are_read_from_the_kernel()
    {
        using var pair = new NamespacePair();
        var (exit, output) = NamespacePair.Exec(pair.Target, TimeSpan.FromSeconds(10), "ip", "route", "add", "default", "via", NamespacePair.ScannerAddress);
        Assert.True(exit == 0, output);
        (exit, output) = NamespacePair.Exec(pair.Target, TimeSpan.FromSeconds(10), "ip", "-6", "route", "add", "default", "via", NamespacePair.ScannerAddress6);
        Assert.True(exit == 0, output);

        HostFacts facts = NamespacePair.In(pair.Target, () => HostFacts.Read(procNet: "/proc/thread-self/net"));
        Assert.Contains(A(NamespacePair.TargetAddress), facts.Addresses);
        Assert.Contains(A(NamespacePair.TargetAddress6), facts.Addresses);
        Assert.Contains(A("127.0.0.1"), facts.Addresses);
        Assert.Equal([A(NamespacePair.ScannerAddress), A(NamespacePair.ScannerAddress6)], facts.Gateways);
        // The scanner is this namespace's gateway: detected, but never to be blocked.
        Assert.True(new Allowlist(facts, []).Contains(A(NamespacePair.ScannerAddress), out string? why));
        Assert.Contains("default gateway", why);
    }
}
