using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PortSentinel.Decode;
using PortSentinel.Respond;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Respond;

/// <summary>
/// What every firewall backend promises, checked against the real kernel inside namespaces of the
/// test's own: a blocked scanner's connections fail, an unblocked or expired one's succeed again.
/// Each backend's test class inherits these and adds its own.
/// </summary>
public abstract class FirewallBackendTests : IDisposable
{
    protected const int Port = 8080;

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();

    protected FirewallBackendTests()
    {
        // A service in the target, listening on IPv4 and IPv6, answering every connection.
        _listener = NamespacePair.In(Pair.Target, () =>
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
        Firewall = InTarget(() =>
        {
            IFirewall firewall = CreateFirewall();
            firewall.Initialize();
            return firewall;
        });
    }

    protected NamespacePair Pair { get; } = new();

    protected IFirewall Firewall { get; }

    protected abstract IFirewall CreateFirewall();

    protected static FirewallEntry Ban(string network, TimeSpan? timeout = null) => new(NetPrefix.Parse(network), timeout);

    protected T InTarget<T>(Func<T> action) => NamespacePair.In(Pair.Target, action);

    protected bool Connects(string address) => NamespacePair.Connects(Pair.Scanner, address, Port);

    [NamespaceFact]
    public void A_blocked_scanner_cannot_connect_over_ipv4_or_ipv6_until_unblocked()
    {
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.True(Connects(NamespacePair.TargetAddress6));

        var failures = InTarget(() => Firewall.Block([Ban(NamespacePair.ScannerAddress, TimeSpan.FromMinutes(10)), Ban(NamespacePair.ScannerAddress6, TimeSpan.FromMinutes(10))]));
        Assert.Empty(failures);
        Assert.False(Connects(NamespacePair.TargetAddress));
        Assert.False(Connects(NamespacePair.TargetAddress6));
        var held = InTarget(Firewall.List);
        Assert.Equal(2, held.Count);
        Assert.All(held, b => Assert.InRange(b.Remaining!.Value.TotalSeconds, 500, 600));

        Assert.Empty(InTarget(() => Firewall.Unblock([NetPrefix.Parse(NamespacePair.ScannerAddress), NetPrefix.Parse(NamespacePair.ScannerAddress6), NetPrefix.Parse("203.0.113.99")])));
        Assert.Empty(InTarget(Firewall.List));
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.True(Connects(NamespacePair.TargetAddress6));
    }

    [NamespaceFact]
    public void A_ban_expires_by_itself_in_the_kernel()
    {
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.Empty(InTarget(() => Firewall.Block([Ban(NamespacePair.ScannerAddress, TimeSpan.FromSeconds(5))])));
        Assert.False(Connects(NamespacePair.TargetAddress));
        var clock = Stopwatch.StartNew();
        while (InTarget(Firewall.List).Count > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the kernel never expired the element");
            Thread.Sleep(200);
        }
        Assert.True(Connects(NamespacePair.TargetAddress));
    }

    [NamespaceFact]
    public void A_blocked_network_drops_every_address_in_it_and_a_permanent_ban_has_no_end()
    {
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.Empty(InTarget(() => Firewall.Block([Ban("198.51.100.0/30")])));
        Assert.False(Connects(NamespacePair.TargetAddress));
        BlockedEntry held = Assert.Single(InTarget(Firewall.List));
        Assert.Equal(NetPrefix.Parse("198.51.100.0/30"), held.Network);
        Assert.Null(held.Remaining);
        Assert.Empty(InTarget(() => Firewall.Unblock([NetPrefix.Parse("198.51.100.0/30")])));
        Assert.True(Connects(NamespacePair.TargetAddress));
    }

    [NamespaceFact]
    public void An_address_blocked_again_keeps_the_longer_ban_and_setting_up_again_keeps_the_blocks()
    {
        Assert.Empty(InTarget(() => Firewall.Block([Ban("203.0.113.7", TimeSpan.FromMinutes(10)), Ban("203.0.113.8", TimeSpan.FromMinutes(1)), Ban("203.0.113.9", TimeSpan.FromMinutes(1))])));
        // Shorter for .7 (kept at ten minutes), longer for .8 (extended), permanent for .9.
        Assert.Empty(InTarget(() => Firewall.Block([Ban("203.0.113.7", TimeSpan.FromMinutes(1)), Ban("203.0.113.8", TimeSpan.FromMinutes(20)), Ban("203.0.113.9"), Ban("203.0.113.10", TimeSpan.FromMinutes(1))])));
        InTarget(() =>
        {
            Firewall.Initialize();
            return 0;
        });
        var held = InTarget(Firewall.List).ToDictionary(b => b.Network.ToString(), b => b.Remaining?.TotalSeconds);
        Assert.InRange(held["203.0.113.7"]!.Value, 500, 600);
        Assert.InRange(held["203.0.113.8"]!.Value, 1100, 1200);
        Assert.Null(held["203.0.113.9"]);
        Assert.InRange(held["203.0.113.10"]!.Value, 1, 60);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        Firewall.Dispose();
        Pair.Dispose();
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
