using System.Text.Json.Nodes;
using PortSentinel.Cli.Commands;
using PortSentinel.Tests.Corpus;

namespace PortSentinel.Tests.Cli;

/// <summary>
/// A key no option binds, from any source (--set, the environment, the --config file, the
/// dashboard's settings.json), stops the command with the key, where it came from and, when a
/// known key is close, that key: in silence its default would be used instead.
/// </summary>
public sealed class UnknownSettingsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ps-unknown-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll");

    private static (int Exit, string Out, string Err) Analyze(string[] set, FileInfo? config = null)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int exit = AnalyzeCommand.Run([CorpusFiles.PathOf("tcp-syn.pcap")], "table", config, set, output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    [Theory]
    [InlineData("Foo:Bar=1", "Foo:Bar (--set) is not a setting")]
    [InlineData("Detecton:VerticalPorts=5", "Detecton:VerticalPorts (--set) is not a setting; did you mean Detection:VerticalPorts?")]
    [InlineData("Detection:VerticalPort=5", "Detection:VerticalPort (--set) is not a setting; did you mean Detection:VerticalPorts?")]
    [InlineData("VerticalPorts=5", "did you mean Detection:VerticalPorts?")]
    [InlineData("Notify:Email:Hots=127.0.0.1", "did you mean Notify:Email:Host?")]
    [InlineData("Notify:Webhooks:0:Urll=https://example.net/hook", "did you mean Notify:Webhooks:0:Url?")]
    [InlineData("Detection:VerticalPorts:Max=5", "Detection:VerticalPorts:Max (--set) is not a setting")]
    public void An_unknown_key_on_the_command_line_is_refused_with_the_closest_known_key(string setting, string message)
    {
        var (exit, stdout, stderr) = Analyze([setting]);
        Assert.Equal(ExitCodes.BadConfiguration, exit);
        Assert.Equal("", stdout);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_section_without_a_close_match_lists_the_known_sections()
    {
        var (exit, _, stderr) = Analyze(["Foo:Bar=1"]);
        Assert.Equal(ExitCodes.BadConfiguration, exit);
        Assert.Contains("Known sections: Detection, Decide, Capture, Trap, Allowlist, Firewall", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Known_keys_of_every_section_and_lists_are_accepted()
    {
        var (exit, _, stderr) = Analyze(["Capture:SnapLength=96", "Notify:Webhooks:0:Url=https://example.net/hook", "Detection:TripwireTcpPorts:0=31337", "Allowlist:0=203.0.113.7", "dashboard:urls=http://127.0.0.1:5001"]);
        Assert.True(exit == 0, stderr);
    }

    [Fact]
    public void An_unknown_key_in_the_configuration_file_is_refused_with_the_file_named()
    {
        string path = Path.Combine(_directory, "config.json");
        File.WriteAllText(path, """{ "Detection": { "VerticalPorts": 12 }, "Bogus": { "Key": 1 } }""");
        var (exit, _, stderr) = Analyze([], new FileInfo(path));
        Assert.Equal(ExitCodes.BadConfiguration, exit);
        Assert.Contains($"Bogus:Key (--config {path}) is not a setting", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_in_the_dashboards_settings_file_is_refused_with_the_file_named()
    {
        var sources = new SettingsSources(null, [], "dry-run", _directory);
        SettingsOverlay.Write(sources.OverlayFile!, JsonNode.Parse("""{ "Decide": { "BanSecond": 60 } }""")!.AsObject());
        var e = Assert.Throws<SettingsException>(() => SensorSettings.Load(sources));
        Assert.Contains($"Decide:BanSecond ({sources.OverlayFile}) is not a setting; did you mean Decide:BanSeconds?", e.Message, StringComparison.Ordinal);

        // The commands that read it stop with exit 2.
        var (exit, output) = ProcessRunner.Run("dotnet", [Cli, "bans", "list", "--data-dir", _directory], TimeSpan.FromSeconds(60));
        Assert.Equal(ExitCodes.BadConfiguration, exit);
        Assert.Contains("Decide:BanSecond", output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_in_the_environment_is_refused_with_the_variable_named()
    {
        var (exit, output) = ProcessRunner.Run("dotnet", [Cli, "analyze", CorpusFiles.PathOf("tcp-syn.pcap")], TimeSpan.FromSeconds(60), ("PORTSENTINEL__Detecton__VerticalPorts", "5"));
        Assert.Equal(ExitCodes.BadConfiguration, exit);
        Assert.Contains("Detecton:VerticalPorts (the environment, PORTSENTINEL__Detecton__VerticalPorts) is not a setting; did you mean Detection:VerticalPorts?", output, StringComparison.Ordinal);
    }
}
