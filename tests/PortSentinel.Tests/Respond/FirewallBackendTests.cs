using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PortSentinel.Decode;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;
using PortSentinel.Respond;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Respond;

/// <summary>
/// What every firewall backend promises, checked against the real kernel inside namespaces of the
/// test's own: a blocked scanner's connections fail, an unblocked or expired one's succeed again.
/// A backend without timeouts has its expired bans lifted by <see cref="BanExpiry"/>, from a real
/// store. Each backend's test class inherits these and adds its own.
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

    /// <summary>Whether <see cref="IFirewall.List"/> reports what is blocked (a command cannot say).</summary>
    protected virtual bool Lists => true;

    /// <summary>Whether <see cref="IFirewall.List"/> reports the time each ban has left.</summary>
    protected virtual bool KeepsTime => true;

    protected static FirewallEntry Ban(string network, TimeSpan? timeout = null) => new(NetPrefix.Parse(network), timeout);

    protected T InTarget<T>(Func<T> action) => NamespacePair.In(Pair.Target, action);

    /// <summary>Whether the scanner reaches the target's service.</summary>
    protected virtual bool Connects(string address) => NamespacePair.Connects(Pair.Scanner, address, Port);

    /// <summary>
    /// Commands that remove the backend's setup, as something outside the sensor would (a reload of
    /// the rules); empty for a backend with no setup to lose, whose <see cref="IFirewall.Missing"/>
    /// is always null.
    /// </summary>
    protected virtual string[][] RemoveSetup => [];

    [NamespaceFact]
    public void A_setup_removed_from_outside_is_noticed_and_made_again()
    {
        Assert.Null(InTarget(Firewall.Missing));
        foreach (string[] command in RemoveSetup)
        {
            var (exit, output) = NamespacePair.Exec(Pair.Target, TimeSpan.FromSeconds(10), command);
            Assert.True(exit == 0, output);
        }
        Assert.Equal(RemoveSetup.Length == 0, InTarget(Firewall.Missing) is null);
        InTarget(() =>
        {
            Firewall.Initialize();
            return 0;
        });
        Assert.Null(InTarget(Firewall.Missing));
        Assert.Empty(InTarget(() => Firewall.Block([Ban($"{NamespacePair.ScannerAddress}/32")])));
        Assert.False(Connects(NamespacePair.TargetAddress));
    }

    [NamespaceFact]
    public void A_blocked_scanner_cannot_connect_over_ipv4_or_ipv6_until_unblocked()
    {
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.True(Connects(NamespacePair.TargetAddress6));

        var failures = InTarget(() => Firewall.Block([Ban(NamespacePair.ScannerAddress, TimeSpan.FromMinutes(10)), Ban(NamespacePair.ScannerAddress6, TimeSpan.FromMinutes(10))]));
        Assert.Empty(failures);
        Assert.False(Connects(NamespacePair.TargetAddress));
        Assert.False(Connects(NamespacePair.TargetAddress6));
        if (Lists)
        {
            var held = InTarget(Firewall.List);
            Assert.Equal(2, held.Count);
            Assert.All(held, b => Assert.InRange(b.Remaining?.TotalSeconds ?? 0, KeepsTime ? 500 : 0, KeepsTime ? 600 : 0));
        }

        Assert.Empty(InTarget(() => Firewall.Unblock([NetPrefix.Parse(NamespacePair.ScannerAddress), NetPrefix.Parse(NamespacePair.ScannerAddress6), NetPrefix.Parse("203.0.113.99")])));
        Assert.Empty(InTarget(Firewall.List));
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.True(Connects(NamespacePair.TargetAddress6));
    }

    [NamespaceFact]
    public void A_ban_ends_when_its_time_is_up()
    {
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.Empty(InTarget(() => Firewall.Block([Ban(NamespacePair.ScannerAddress, TimeSpan.FromSeconds(5))])));
        Assert.False(Connects(NamespacePair.TargetAddress));
        if (Firewall.ExpiresByItself)
        {
            var clock = Stopwatch.StartNew();
            while (InTarget(Firewall.List).Count > 0)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the kernel never expired the element");
                Thread.Sleep(200);
            }
        }
        else
        {
            // The record drives expiry: nothing is lifted before the ban's end, then it is, once.
            string directory = Directory.CreateTempSubdirectory("portsentinel-expiry-").FullName;
            try
            {
                using SqliteStore store = SqliteStore.Open(directory);
                DateTimeOffset now = DateTimeOffset.UtcNow;
                NetPrefix scanner = NetPrefix.Parse(NamespacePair.ScannerAddress);
                store.AddBans([new BanRecord(scanner, "test", now, now + TimeSpan.FromSeconds(5), 1)]);
                var log = new List<string>();
                Assert.Equal(0, InTarget(() => BanExpiry.Lift(store, Firewall, now + TimeSpan.FromSeconds(4), log.Add)));
                Assert.False(Connects(NamespacePair.TargetAddress));
                Assert.Equal(1, InTarget(() => BanExpiry.Lift(store, Firewall, now + TimeSpan.FromSeconds(6), log.Add)));
                Assert.Equal(0, InTarget(() => BanExpiry.Lift(store, Firewall, now + TimeSpan.FromSeconds(7), log.Add)));
                Assert.Equal("expiry", Assert.Single(store.BansOf(scanner)).LiftedBy);
                Assert.Contains(log, l => l.StartsWith($"UNBANNED {scanner} (ban expired)", StringComparison.Ordinal));
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        Assert.True(Connects(NamespacePair.TargetAddress));
    }

    [NamespaceFact]
    public void A_blocked_network_drops_every_address_in_it_and_a_permanent_ban_has_no_end()
    {
        Assert.True(Connects(NamespacePair.TargetAddress));
        Assert.Empty(InTarget(() => Firewall.Block([Ban("198.51.100.0/30")])));
        Assert.False(Connects(NamespacePair.TargetAddress));
        if (Lists)
        {
            BlockedEntry held = Assert.Single(InTarget(Firewall.List));
            Assert.Equal(NetPrefix.Parse("198.51.100.0/30"), held.Network);
            Assert.Null(held.Remaining);
        }
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
        if (!Lists)
        {
            return;
        }
        var held = InTarget(Firewall.List).ToDictionary(b => b.Network.ToString(), b => b.Remaining?.TotalSeconds);
        Assert.Equal(4, held.Count);
        if (!KeepsTime)
        {
            Assert.All(held.Values, Assert.Null);
            return;
        }
        Assert.InRange(held["203.0.113.7"]!.Value, 500, 600);
        Assert.InRange(held["203.0.113.8"]!.Value, 1100, 1200);
        Assert.Null(held["203.0.113.9"]);
        Assert.InRange(held["203.0.113.10"]!.Value, 1, 60);
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        _stop.Cancel();
        _listener.Stop();
        Firewall.Dispose();
        Pair.Dispose();
        _stop.Dispose();
    }
}
