using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PortSentinel.Decode;
using PortSentinel.Respond;
using PortSentinel.Respond.Nftables;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Respond;

/// <summary>
/// The nftables backend against the real kernel, inside namespaces of the test's own: a blocked
/// scanner's connections fail, an unblocked or expired one's succeed again.
/// </summary>
public sealed class NftablesFirewallTests : IDisposable
{
    private const int Port = 8080;

    private readonly NamespacePair _pair = new();
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly NftablesFirewall _firewall;

    public NftablesFirewallTests()
    {
        // A service in the target, listening on IPv4 and IPv6, answering every connection.
        _listener = NamespacePair.In(_pair.Target, () =>
        {
            var listener = new TcpListener(IPAddress.IPv6Any, Port);
            listener.Server.DualMode = true;
            listener.Start();
            return listener;
        });
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                using TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
        });
        _firewall = InTarget(() =>
        {
            var firewall = new NftablesFirewall();
            firewall.Initialize();
            return firewall;
        });
    }

    private static FirewallEntry Ban(string network, TimeSpan? timeout = null) => new(NetPrefix.Parse(network), timeout);

    [NamespaceFact]
    public void A_blocked_scanner_cannot_connect_over_ipv4_or_ipv6_until_unblocked()
    {
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.True(Connects(NamespacePair.TargetAddress6));

        var failures = InTarget(() => _firewall.Block([Ban(NamespacePair.ScannerAddress, TimeSpan.FromMinutes(10)), Ban(NamespacePair.ScannerAddress6, TimeSpan.FromMinutes(10))]));
        Assert.Empty(failures);
        Assert.False(Connects(NamespacePair.TargetAddress));
        Assert.False(Connects(NamespacePair.TargetAddress6));
        var held = InTarget(_firewall.List);
        Assert.Equal(2, held.Count);
        Assert.All(held, b => Assert.InRange(b.Remaining!.Value.TotalSeconds, 500, 600));

        Assert.Empty(InTarget(() => _firewall.Unblock([NetPrefix.Parse(NamespacePair.ScannerAddress), NetPrefix.Parse(NamespacePair.ScannerAddress6), NetPrefix.Parse("203.0.113.99")])));
        Assert.Empty(InTarget(_firewall.List));
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.True(Connects(NamespacePair.TargetAddress6));
    }

    [NamespaceFact]
    public void A_ban_expires_by_itself_in_the_kernel()
    {
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.Empty(InTarget(() => _firewall.Block([Ban(NamespacePair.ScannerAddress, TimeSpan.FromSeconds(5))])));
        Assert.False(Connects(NamespacePair.TargetAddress));
        var clock = Stopwatch.StartNew();
        while (InTarget(_firewall.List).Count > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the kernel never expired the element");
            Thread.Sleep(200);
        }
        Assert.True(Connects(NamespacePair.TargetAddress));
    }

    [NamespaceFact]
    public void Initializing_again_keeps_one_table_with_its_four_rules()
    {
        InTarget(() =>
        {
            _firewall.Initialize();
            return 0;
        });
        var (exit, output) = NamespacePair.Exec(_pair.Target, TimeSpan.FromSeconds(10), "nft", "list", "table", "inet", NftablesFirewall.Table);
        Assert.Equal(0, exit);
        Assert.Equal(4, output.Split('\n').Count(line => line.Contains("drop", StringComparison.Ordinal)));
    }

    [NamespaceFact]
    public void A_refused_entry_is_reported_and_does_not_hold_back_the_others()
    {
        Assert.Empty(InTarget(() => _firewall.Block([Ban("198.51.100.0/24")])));
        // 198.51.100.128/25 overlaps a network already held: nftables refuses the overlap. An
        // address inside the network is no overlap: addresses have sets of their own.
        var failures = InTarget(() => _firewall.Block([Ban("203.0.113.7"), Ban("198.51.100.128/25"), Ban("198.51.100.9"), Ban("192.0.2.5", TimeSpan.FromHours(1))]));
        FirewallFailure failure = Assert.Single(failures);
        Assert.Equal(NetPrefix.Parse("198.51.100.128/25"), failure.Network);
        Assert.NotEmpty(failure.Reason);
        var held = InTarget(_firewall.List).Select(b => b.Network.ToString()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["192.0.2.5", "198.51.100.0/24", "198.51.100.9", "203.0.113.7"], held);
    }

    [NamespaceFact]
    public void A_blocked_network_drops_every_address_in_it()
    {
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.Empty(InTarget(() => _firewall.Block([Ban("198.51.100.0/30", TimeSpan.FromMinutes(5))])));
        Assert.False(Connects(NamespacePair.TargetAddress));
        Assert.Empty(InTarget(() => _firewall.Unblock([NetPrefix.Parse("198.51.100.0/30")])));
        Assert.True(Connects(NamespacePair.TargetAddress));
    }

    [NamespaceFact]
    public void Ten_thousand_bans_go_in_as_one_batch()
    {
        var bans = Enumerable.Range(1, 10_000).Select(i => Ban($"2001:db8:f::{i:x}", TimeSpan.FromHours(1))).ToList();
        Assert.Empty(InTarget(() => _firewall.Block(bans)));
        Assert.Equal(10_000, InTarget(_firewall.List).Count);
    }

    private T InTarget<T>(Func<T> action) => NamespacePair.In(_pair.Target, action);

    private bool Connects(string address) => NamespacePair.Connects(_pair.Scanner, address, Port);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _firewall.Dispose();
        _pair.Dispose();
        _stop.Dispose();
    }
}
