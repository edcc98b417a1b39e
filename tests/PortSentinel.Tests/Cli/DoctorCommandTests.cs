using System.Diagnostics;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Cli;

public sealed class DoctorCommandTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"ps-doctor-{Guid.NewGuid():N}");

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll");

    [NamespaceFact]
    public void As_root_in_a_namespace_everything_checks_out()
    {
        using var pair = new NamespacePair();
        var (exit, output) = NamespacePair.Exec(pair.Target, TimeSpan.FromSeconds(60), "dotnet", Cli, "doctor", "--interface", NamespacePair.TargetDevice, "--data-dir", _data);
        Assert.True(exit == 0, output);
        foreach (string check in new[] { "configuration", "libpcap", "CAP_NET_RAW", "CAP_NET_ADMIN", $"capture on {NamespacePair.TargetDevice}", "firewall nftables", "data directory" })
        {
            Assert.Contains($"ok    {check}:", output);
        }
        Assert.Contains("Everything the sensor needs is here.", output);
    }

    [NamespaceTheory]
    [InlineData("ipset", "bans expire in the kernel")]
    [InlineData("iptables", "the sensor lifts bans that run out")]
    [InlineData("route", "the sensor lifts bans that run out")]
    public void The_chosen_backend_is_the_one_checked(string backend, string expiry)
    {
        using var pair = new NamespacePair();
        var (exit, output) = NamespacePair.Exec(pair.Target, TimeSpan.FromSeconds(60), "dotnet", Cli, "doctor", "--interface", NamespacePair.TargetDevice, "--data-dir", _data, "--firewall", backend);
        Assert.True(exit == 0, output);
        Assert.Contains($"ok    firewall {backend}: works; {expiry}", output);
    }

    [Fact]
    public void The_command_backend_without_a_command_names_the_key()
    {
        var (exit, output) = ProcessRunner.Run("dotnet", [Cli, "doctor", "--data-dir", _data, "--set", "Firewall:Backend=command"], TimeSpan.FromSeconds(60));
        Assert.Equal(1, exit);
        Assert.Contains("FAIL  configuration: Firewall:BlockCommand must be set", output);
    }

    [NamespaceFact]
    public void Without_the_capabilities_each_missing_one_is_named_with_the_fix()
    {
        using var pair = new NamespacePair();
        Directory.CreateDirectory(_data);
        using (Process chown = Process.Start("chown", ["65534:65534", _data])!)
        {
            chown.WaitForExit();
        }
        var (exit, output) = NamespacePair.Exec(pair.Target, TimeSpan.FromSeconds(60),
            "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
            "env", $"HOME={_data}", "dotnet", Cli, "doctor", "--interface", NamespacePair.TargetDevice, "--data-dir", Path.Combine(_data, "db"),
            "--set", "Detection:VerticalPorts=0");
        Assert.Equal(1, exit);
        Assert.Contains("FAIL  configuration: Detection:VerticalPorts is 0", output);
        Assert.Contains("FAIL  CAP_NET_RAW: missing", output);
        Assert.Contains("FAIL  CAP_NET_ADMIN: missing", output);
        Assert.Contains($"FAIL  capture on {NamespacePair.TargetDevice}: {NamespacePair.TargetDevice}: permission denied", output);
        Assert.Contains("FAIL  firewall nftables: nftables refuses: changing the firewall needs CAP_NET_ADMIN", output);
        Assert.Contains("ok    data directory:", output);
        Assert.Contains("5 problems to fix", output);

        // A backend that leaves the kernel's tables alone does not need CAP_NET_ADMIN.
        (exit, output) = NamespacePair.Exec(pair.Target, TimeSpan.FromSeconds(60),
            "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
            "env", $"HOME={_data}", "dotnet", Cli, "doctor", "--interface", NamespacePair.TargetDevice, "--data-dir", Path.Combine(_data, "db"), "--firewall", "dry-run");
        Assert.Equal(1, exit); // capture still needs CAP_NET_RAW
        Assert.Contains("ok    CAP_NET_ADMIN: not needed by the dry-run backend", output);
        Assert.Contains("ok    firewall dry-run", output);
    }

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }
}
