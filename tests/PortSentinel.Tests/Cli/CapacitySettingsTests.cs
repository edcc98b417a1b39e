using PortSentinel.Cli.Commands;
using PortSentinel.Tests.Corpus;

namespace PortSentinel.Tests.Cli;

/// <summary>
/// Capacities bounded by the machine, through the real CLI in a process whose heap is limited to
/// 256 MiB (DOTNET_GCHeapHardLimit, as a cgroup limit would): the bound follows the limit, so
/// modest values are refused, and whatever happens nothing of gigabytes is ever allocated.
/// </summary>
public sealed class CapacitySettingsTests : IDisposable
{
    private const string HeapLimit = "0x10000000"; // 256 MiB

    private readonly string _data = Path.Combine(Path.GetTempPath(), $"ps-capacity-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll");

    private static (int Exit, string Output) Limited(params string[] arguments) =>
        ProcessRunner.Run("dotnet", [Cli, .. arguments], TimeSpan.FromSeconds(60), ("DOTNET_GCHeapHardLimit", HeapLimit));

    [Fact]
    public void Analyze_refuses_a_flow_capacity_past_the_flow_tables_reach()
    {
        var (exit, output) = Limited("analyze", "--set", "Detection:FlowCapacity=536870912", CorpusFiles.PathOf("tcp-syn.pcap"));
        Assert.True(exit == ExitCodes.BadConfiguration, output);
        Assert.Contains("Detection:FlowCapacity is 536870912", output, StringComparison.Ordinal);
        Assert.DoesNotContain("OutOfMemoryException", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_refuses_a_capacity_whose_tables_exceed_half_the_memory_the_process_may_use()
    {
        // 4,194,304 first contacts take about 256 MiB: more than half of 256 MiB.
        var (exit, output) = Limited("analyze", "--set", "Detection:FlowCapacity=4194304", CorpusFiles.PathOf("tcp-syn.pcap"));
        Assert.True(exit == ExitCodes.BadConfiguration, output);
        Assert.Contains("Detection:FlowCapacity is 4194304: the detector's tables would take ", output, StringComparison.Ordinal);
        Assert.Contains("half of the 256 MiB", output, StringComparison.Ordinal);
        Assert.Matches(@"the most Detection:FlowCapacity can be is \d+", output);

        // The defaults fit.
        (exit, output) = Limited("analyze", CorpusFiles.PathOf("tcp-syn.pcap"));
        Assert.True(exit == ExitCodes.Ok, output);
    }

    [Fact]
    public void Run_refuses_a_capture_ring_larger_than_a_quarter_of_the_memory_the_process_may_use()
    {
        var (exit, output) = Limited("run", "--data-dir", _data, "--interface", "lo", "--firewall", "dry-run", "--no-dashboard", "--set", "Capture:BufferBytes=134217728");
        Assert.True(exit == ExitCodes.BadConfiguration, output);
        Assert.Contains("Capture:BufferBytes is 134217728: a ring of 128 MiB per interface is more than a quarter of the 256 MiB this process may use; give at most 67108864", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_start_with_a_capacity_persisted_by_the_dashboard_that_does_not_fit_names_the_key_and_the_file()
    {
        Directory.CreateDirectory(_data);
        string overlay = SettingsOverlay.PathIn(_data);
        File.WriteAllText(overlay, """{ "Detection": { "SourceCapacity": 1073741824 } }""");
        var (exit, output) = Limited("run", "--data-dir", _data, "--interface", "lo", "--firewall", "dry-run", "--no-dashboard");
        Assert.True(exit == ExitCodes.BadConfiguration, output);
        Assert.Contains("Detection:SourceCapacity is 1073741824", output, StringComparison.Ordinal);
        Assert.Contains(overlay, output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
    }
}
