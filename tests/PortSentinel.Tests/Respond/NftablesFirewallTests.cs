using System.Net;
using System.Net.Sockets;
using PortSentinel.Decode;
using PortSentinel.Respond;
using PortSentinel.Respond.Nftables;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Respond;

/// <summary>The nftables backend: the shared promises, plus its table layout and batches.</summary>
public sealed class NftablesFirewallTests : FirewallBackendTests
{
    protected override IFirewall CreateFirewall() => new NftablesFirewall();

    protected override string[][] RemoveSetup => [["nft", "delete", "table", "inet", NftablesFirewall.Table]];

    [NamespaceFact]
    public void Initializing_again_keeps_one_table_with_its_six_rules()
    {
        InTarget(() =>
        {
            Firewall.Initialize();
            return 0;
        });
        var (exit, output) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "nft", "list", "table", "inet", NftablesFirewall.Table);
        Assert.Equal(0, exit);
        Assert.Equal(6, output.Split('\n').Count(line => line.Contains("drop", StringComparison.Ordinal)));
    }

    [NamespaceTheory]
    [InlineData("table inet portsentinel", "delete table inet portsentinel")]
    [InlineData("set hosts4, 6 of the 6 rules of chain prerouting", "flush chain inet portsentinel prerouting; delete set inet portsentinel hosts4")]
    [InlineData("set held6, set allowed4, 6 of the 6 rules of chain prerouting, 26 of the 26 rules of chain output", "flush chain inet portsentinel prerouting; flush chain inet portsentinel output; delete set inet portsentinel held6; delete set inet portsentinel allowed4")]
    [InlineData("26 of the 26 rules of chain output", "flush chain inet portsentinel output")]
    [InlineData("chain output", "flush chain inet portsentinel output; delete chain inet portsentinel output")]
    // Another table's set, chain and rules of the same names are not the sensor's.
    [InlineData("set hosts4, 6 of the 6 rules of chain prerouting", "flush chain inet portsentinel prerouting; delete set inet portsentinel hosts4; add table inet other; add set inet other hosts4 { type ipv4_addr; }; add chain inet other prerouting; add rule inet other prerouting ip saddr @hosts4 drop")]
    public void Every_part_of_the_setup_removed_from_outside_is_named_and_made_again(string named, string removal)
    {
        Arm(ports: 6);
        Assert.Null(InTarget(Firewall.Missing));
        var (exit, output) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "nft", removal);
        try
        {
            Assert.True(exit == 0, output);

            Assert.Equal(named, InTarget(Firewall.Missing));
            InTarget(() =>
            {
                Firewall.Initialize();
                return 0;
            });
            Arm(ports: 6);
            Assert.Null(InTarget(Firewall.Missing));
        }
        finally
        {
            NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "nft", "delete table inet other"); // where the removal made it
        }
    }

    [NamespaceTheory]
    [InlineData("-sS", false)]
    [InlineData("-sF", false)]
    [InlineData("-sN", false)]
    [InlineData("-sX", false)]
    [InlineData("-sM", false)]
    [InlineData("-sA", false)]
    [InlineData("-sW", false)]
    [InlineData("-sU", false)]
    [InlineData("-sO", false)]
    [InlineData("-sY", false)]
    [InlineData("-sM", true)]
    [InlineData("-sA", true)]
    [InlineData("-sU", true)]
    [InlineData("-sO", true)]
    [InlineData("-sY", true)]
    public void The_guard_holds_a_scanner_whatever_refusal_its_probes_draw(string scan, bool v6)
    {
        string scanner = v6 ? NamespacePair.ScannerAddress6 : NamespacePair.ScannerAddress;
        string target = v6 ? NamespacePair.TargetAddress6 : NamespacePair.TargetAddress;
        Assert.True(Connects(target)); // settles IPv6 neighbour discovery first
        Arm(ports: 6);
        Assert.DoesNotContain(scanner, ListSet(v6 ? "held6" : "held4"), StringComparison.Ordinal);
        Scan(scan, v6, scan == "-sO" ? "1-100" : "1001-1100", target);
        Assert.Contains(scanner, ListSet(v6 ? "held6" : "held4"), StringComparison.Ordinal);
    }

    [NamespaceTheory]
    [InlineData("-sA")]
    [InlineData("-sU")]
    public void Refusals_from_the_hosts_own_port_range_do_not_count(string scan)
    {
        // Late answers to the host's own closed connections (a DNS reply, a stale ACK) arrive at
        // ports of ip_local_port_range (32768-60999 by default) and are refused from there: many
        // to one server must not hold it.
        Arm(ports: 6);
        Scan(scan, v6: false, "40001-40100", NamespacePair.TargetAddress);
        Assert.DoesNotContain(NamespacePair.ScannerAddress, ListSet("held4"), StringComparison.Ordinal);
    }

    // nmap from the scanner, one probe per port, with the target's ICMP errors unthrottled so that
    // each closed UDP port and unknown protocol is answered.
    private void Scan(string scan, bool v6, string ports, string target)
    {
        foreach (string sysctl in new[] { "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0" })
        {
            var (set, why) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "sysctl", "-qw", sysctl);
            Assert.True(set == 0, why);
        }
        string[] family = v6 ? ["-6"] : [];
        var (exit, output) = NamespacePair.Exec(Pair.Scanner, TimeSpan.FromSeconds(120),
            ["nmap", "-n", "-Pn", .. family, scan, "-p", ports, "--max-retries", "0", "--host-timeout", "60s", target]);
        Assert.True(exit == 0, output);
    }

    [NamespaceTheory]
    [InlineData(NamespacePair.ScannerAddress, NamespacePair.TargetAddress)]
    [InlineData(NamespacePair.ScannerAddress6, NamespacePair.TargetAddress6)]
    public void The_guard_holds_a_source_refused_on_more_closed_ports_than_allowed_until_unblocked(string scanner, string target)
    {
        Assert.True(Connects(target)); // also settles IPv6 neighbour discovery before counting
        Arm(ports: 4);
        for (int port = 1001; port <= 1004; port++)
        {
            Assert.Equal(Contact.Refused, Probe(target, port));
        }
        // The fifth closed port is one too many: its refusal is dropped and the source held, in
        // the kernel, before anything in user space has seen a packet.
        Assert.Equal(Contact.Silent, Probe(target, 1005));
        Assert.False(Connects(target));
        Assert.Contains(scanner, ListSet(scanner.Contains(':', StringComparison.Ordinal) ? "held6" : "held4"), StringComparison.Ordinal);
        Assert.Empty(InTarget(() => Firewall.Unblock([NetPrefix.Parse(scanner)])));
        Assert.True(Connects(target));
        // Released, the source is counted afresh: four more closed ports, then held again.
        for (int port = 1006; port <= 1009; port++)
        {
            Assert.Equal(Contact.Refused, Probe(target, port));
        }
        Assert.Equal(Contact.Silent, Probe(target, 1010));
        InTarget(() =>
        {
            ((IKernelGuard)Firewall).Release([NetPrefix.Parse(scanner)]);
            return 0;
        });
        Assert.True(Connects(target));
    }

    [NamespaceFact]
    public void The_guard_counts_retries_of_one_port_once_and_never_holds_an_allowed_source()
    {
        const string target = NamespacePair.TargetAddress;
        Assert.True(Connects(target));
        Arm(ports: 4);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(Contact.Refused, Probe(target, 1001));
        }
        Assert.True(Connects(target));
        Arm(ports: 4, allowed: NetPrefix.Parse("198.51.100.0/24"));
        for (int port = 2001; port <= 2010; port++)
        {
            Assert.Equal(Contact.Refused, Probe(target, port));
        }
        Assert.True(Connects(target));
        // Disarmed: the output chain is empty again.
        InTarget(() =>
        {
            ((IKernelGuard)Firewall).Arm(null);
            return 0;
        });
        var (exit, output) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "nft", "list", "chain", "inet", NftablesFirewall.Table, "output");
        Assert.Equal(0, exit);
        Assert.DoesNotContain("drop", output, StringComparison.Ordinal);
    }

    private void Arm(int ports, params NetPrefix[] allowed) => InTarget(() =>
    {
        ((IKernelGuard)Firewall).Arm(new GuardRules(ports, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1), 60, allowed));
        return 0;
    });

    private string ListSet(string set) =>
        NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "nft", "list", "set", "inet", NftablesFirewall.Table, set).Output;

    private enum Contact
    {
        Connected,
        Refused,
        Silent,
    }

    /// <summary>A connection attempt from the scanner to a port of the target, and how the target answered within a second.</summary>
    private Contact Probe(string address, int port) => NamespacePair.In(Pair.Scanner, () =>
    {
        var ip = IPAddress.Parse(address);
        using var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            return socket.ConnectAsync(ip, port).Wait(TimeSpan.FromSeconds(1)) ? Contact.Connected : Contact.Silent;
        }
        catch (AggregateException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            return Contact.Refused;
        }
    });

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
    public void One_address_goes_in_through_netlink_with_its_timeout_and_what_netlink_cannot_do_is_told_in_nfts_words()
    {
        using (var netlink = new NftNetlink())
        {
            Assert.Equal(0, InTarget(() => netlink.Create(NftablesFirewall.Table, "hosts4", NetAddress.Parse("192.0.2.77"), TimeSpan.FromMinutes(3))));
            Assert.Equal(17, InTarget(() => netlink.Create(NftablesFirewall.Table, "hosts4", NetAddress.Parse("192.0.2.77"), TimeSpan.FromMinutes(3)))); // EEXIST
            Assert.Equal(2, InTarget(() => netlink.Create(NftablesFirewall.Table, "no-such-set", NetAddress.Parse("192.0.2.78"), null))); // ENOENT
            Assert.Empty(InTarget(() => Firewall.Unblock([NetPrefix.Parse("192.0.2.77")])));
        }
        Assert.Empty(InTarget(() => Firewall.Block([Ban("203.0.113.7", TimeSpan.FromMinutes(10))])));
        Assert.Empty(InTarget(() => Firewall.Block([Ban("2001:db8::7")])));
        Assert.Empty(InTarget(() => Firewall.Block([Ban("203.0.113.7", TimeSpan.FromMinutes(20))]))); // there already: the longer ban stays
        Assert.Empty(InTarget(() => Firewall.Block([Ban("203.0.113.7", TimeSpan.FromMinutes(5))])));
        var held = InTarget(Firewall.List).ToDictionary(b => b.Network.ToString(), b => b.Remaining?.TotalSeconds);
        Assert.Equal(2, held.Count);
        Assert.InRange(held["203.0.113.7"]!.Value, 1100, 1200);
        Assert.Null(held["2001:db8::7"]);
        var (exit, output) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "nft", "list", "set", "inet", NftablesFirewall.Table, "hosts6");
        Assert.True(exit == 0, output);
        Assert.Contains("2001:db8::7", output, StringComparison.Ordinal);

        // Without its table the kernel refuses the element; the failure says so as nft would.
        (exit, output) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), "nft", "delete", "table", "inet", NftablesFirewall.Table);
        Assert.True(exit == 0, output);
        FirewallFailure failure = Assert.Single(InTarget(() => Firewall.Block([Ban("203.0.113.8", TimeSpan.FromMinutes(1))])));
        Assert.Equal(NetPrefix.Parse("203.0.113.8"), failure.Network);
        Assert.Contains("No such file or directory", failure.Reason, StringComparison.Ordinal);
    }

    [NamespaceFact]
    public void Calls_from_several_threads_at_once_neither_crash_nor_corrupt_the_native_context()
    {
        // libnftables contexts are not thread-safe: two threads in nft_run_cmd_from_buffer at once
        // crashed the sensor (segfault in libnftables) or made it exit ("nf_tables kernel ABI is
        // broken"). Four threads, each in the namespace, drive every call for 1,500 rounds.
        const int Rounds = 1_500;
        Exception?[] failures = new Exception?[4];
        Task[] threads =
        [
            .. Enumerable.Range(0, 4).Select(t => Task.Run(() => failures[t] = Catch(() => InTarget(() =>
            {
                for (int round = 0; round < Rounds; round++)
                {
                    var own = NetPrefix.Parse($"203.0.113.{t + 1}");
                    var net = NetPrefix.Parse($"198.51.{100 + t}.0/24");
                    switch ((round + t) % 5)
                    {
                        case 0:
                            Assert.Empty(Firewall.Block([new FirewallEntry(own, TimeSpan.FromMinutes(5)), new FirewallEntry(net, TimeSpan.FromMinutes(5))]));
                            break;
                        case 1:
                            Assert.Empty(Firewall.Unblock([own, net]));
                            break;
                        case 2:
                            Assert.Null(Firewall.Missing());
                            break;
                        case 3:
                            _ = Firewall.List();
                            break;
                        default:
                            Assert.Empty(Firewall.Block([new FirewallEntry(own, TimeSpan.FromSeconds(1))])); // one address: netlink
                            ((IKernelGuard)Firewall).Release([own]);
                            break;
                    }
                }
                return 0;
            })))),
        ];
        Task.WaitAll(threads, TimeSpan.FromMinutes(5));

        Assert.All(failures, f => Assert.Null(f));
        Assert.Null(InTarget(Firewall.Missing));
        Assert.Empty(InTarget(() => Firewall.Unblock([.. Enumerable.Range(0, 4).SelectMany(t => new[] { NetPrefix.Parse($"203.0.113.{t + 1}"), NetPrefix.Parse($"198.51.{100 + t}.0/24") })])));
        Assert.Empty(InTarget(Firewall.List));
    }

    private static Exception? Catch(Action action)
    {
        try
        {
            action();
            return null;
        }
#pragma warning disable CA1031 // reported by the assertion on every thread's outcome
        catch (Exception e)
#pragma warning restore CA1031
        {
            return e;
        }
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
