using PortSentinel.Record;
using PortSentinel.Tests.Capture;
using PortSentinel.Tests.Record;

namespace PortSentinel.Tests;

/// <summary>A fact that needs the namespaces of <see cref="NamespaceFactAttribute"/> and a PostgreSQL server.</summary>
public sealed class FleetFactAttribute : FactAttribute
{
    public FleetFactAttribute()
    {
        Skip = NamespacePair.Unavailable() ?? PostgresServer.Unavailable;
    }
}

/// <summary>
/// Two real sensors (<c>portsentinel run</c> with nftables), each in a namespace of its own, on
/// one real PostgreSQL server (reached over its Unix socket, which crosses network namespaces):
/// a ban made with the CLI on the first reaches the second's kernel, and so does its lift, also
/// across the second's restart.
/// </summary>
public sealed class FleetEndToEndTests : IDisposable
{
    private const int Port = 8080;

    private readonly NamespacePair _first = new();
    private readonly NamespacePair _second = new();
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"ps-fleet-{Guid.NewGuid():N}");
    private readonly StoreOptions _database = PostgresServer.NewDatabase(overSocket: true);
    private readonly IDisposable _server;

    public FleetEndToEndTests()
    {
        _server = NamespacePair.Serve(_second.Target, Port);
    }

    private string[] Store => ["--store", _database.ConnectionString, "--set", $"Store:PasswordFile={_database.PasswordFile}"];

    [FleetFact]
    public void A_ban_made_on_one_sensor_is_in_the_others_kernel_at_once_and_its_lift_too_across_a_restart()
    {
        using var first = new SensorProcess(_first.Target, Path.Combine(_data, "a"), extra: ["--no-dashboard", "--name", "edge-a", .. Store]);
        var second = new SensorProcess(_second.Target, Path.Combine(_data, "b"), extra: ["--no-dashboard", "--name", "edge-b", .. Store]);
        try
        {
            first.WaitFor("RUNNING");
            second.WaitFor("RUNNING");
            Assert.True(NamespacePair.Connects(_second.Scanner, NamespacePair.TargetAddress, Port));

            // The scanner's address is the same in both pairs: banned on the first, it is cut off from the second.
            Bans(_first, "add", NamespacePair.ScannerAddress, "--for", "1h");
            second.WaitFor($"FLEET BANNED {NamespacePair.ScannerAddress} for ");
            Assert.Contains($"firewall=nftables by edge-a: manual: ", second.Output, StringComparison.Ordinal);
            Assert.Contains(NamespacePair.ScannerAddress, HostsInSet(_second));
            Assert.False(NamespacePair.Connects(_second.Scanner, NamespacePair.TargetAddress, Port));

            Bans(_first, "remove", NamespacePair.ScannerAddress);
            second.WaitFor($"FLEET UNBANNED {NamespacePair.ScannerAddress} by edge-a");
            Assert.DoesNotContain(NamespacePair.ScannerAddress, HostsInSet(_second));
            Assert.True(NamespacePair.Connects(_second.Scanner, NamespacePair.TargetAddress, Port));

            // Down while a ban it holds is lifted and another is made: both are caught up at its next start.
            Bans(_first, "add", "203.0.113.5", "--for", "1h");
            second.WaitFor("FLEET BANNED 203.0.113.5 ");
            Assert.Equal(0, second.Terminate());
            second.Dispose();
            Bans(_first, "remove", "203.0.113.5");
            Bans(_first, "add", "203.0.113.6", "--for", "1h");
            Assert.Contains("203.0.113.5", HostsInSet(_second)); // stopping leaves bans in the kernel

            second = new SensorProcess(_second.Target, Path.Combine(_data, "b"), extra: ["--no-dashboard", "--name", "edge-b", .. Store]);
            second.WaitFor("RUNNING");
            second.WaitFor("FLEET UNBANNED 203.0.113.5 by edge-a");
            string set = HostsInSet(_second);
            Assert.DoesNotContain("203.0.113.5", set);
            Assert.Contains("203.0.113.6", set);
            Assert.DoesNotContain("FLEET", first.Output, StringComparison.Ordinal); // the first made them all
        }
        finally
        {
            second.Dispose();
        }
    }

    /// <summary><c>portsentinel bans ARGS</c> in the first pair's target, as the sensor edge-a there.</summary>
    private void Bans(NamespacePair pair, params string[] arguments)
    {
        var (exit, output) = NamespacePair.Exec(pair.Target, TimeSpan.FromSeconds(60),
            ["dotnet", Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll"), "bans", .. arguments, "--data-dir", Path.Combine(_data, "a"), "--name", "edge-a", .. Store]);
        Assert.True(exit == 0, output);
    }

    private static string HostsInSet(NamespacePair pair)
    {
        var (exit, output) = NamespacePair.Exec(pair.Target, TimeSpan.FromSeconds(10), "nft", "list", "set", "inet", "portsentinel", "hosts4");
        Assert.True(exit == 0, output);
        return output;
    }

    public void Dispose()
    {
        _server.Dispose();
        _first.Dispose();
        _second.Dispose();
        PostgresServer.Drop(_database);
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }
}
