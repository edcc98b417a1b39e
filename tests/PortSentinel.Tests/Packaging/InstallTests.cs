using PortSentinel.Tests.Corpus;

namespace PortSentinel.Tests.Packaging;

/// <summary>A fact that needs systemd-analyze to check the unit (Debian's systemd).</summary>
public sealed class SystemdFactAttribute : FactAttribute
{
    public SystemdFactAttribute()
    {
        Skip = File.Exists("/usr/bin/systemd-analyze") ? null : "needs systemd-analyze (Debian's systemd) to verify the unit";
    }
}

public sealed class InstallTests : IDisposable
{
    private readonly string _stage = Path.Combine(Path.GetTempPath(), $"ps-stage-{Guid.NewGuid():N}");

    [SystemdFact]
    public void The_install_script_stages_a_runnable_sensor_and_a_unit_systemd_accepts()
    {
        var (exit, output) = Run(Path.Combine(CorpusFiles.Root, "deploy", "install.sh"), [], ("DESTDIR", _stage));
        Assert.True(exit == 0, output);
        string cli = Path.Combine(_stage, "opt", "portsentinel", "bin", "PortSentinel.Cli");
        (exit, output) = Run(cli, ["analyze", "--format", "json", CorpusFiles.PathOf("tcp-syn.pcap")]);
        Assert.True(exit == 0, output);
        Assert.Contains("\"tcp-syn\"", output);

        string unit = File.ReadAllText(Path.Combine(_stage, "etc", "systemd", "system", "portsentinel.service"));
        Assert.Contains("AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN", unit);
        Assert.Contains("CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN", unit);
        Assert.Contains("User=portsentinel", unit);
        // systemd-analyze checks the executable exists: point the staged unit at the staged tree.
        string staged = Path.Combine(_stage, "portsentinel.service");
        File.WriteAllText(staged, unit.Replace("/opt/portsentinel", Path.Combine(_stage, "opt", "portsentinel"), StringComparison.Ordinal));
        (exit, output) = Run("systemd-analyze", ["verify", staged]);
        Assert.True(exit == 0 && output.Trim().Length == 0, output);
    }

    private static (int Exit, string Output) Run(string file, string[] args, params (string Name, string Value)[] environment) =>
        ProcessRunner.Run(file, args, TimeSpan.FromMinutes(5), environment);

    public void Dispose()
    {
        if (Directory.Exists(_stage))
        {
            Directory.Delete(_stage, recursive: true);
        }
    }
}
