using PortSentinel.Cli.Commands;

namespace PortSentinel.Tests.Cli;

/// <summary>
/// An allowlist entry wider than Decide:AllowlistWidestV4 (/8) or AllowlistWidestV6 (/16) turns
/// prevention off for a large part of the Internet: it is refused, naming the entry and the key
/// that allows it, unless the operator sets that key.
/// </summary>
public sealed class AllowlistSettingsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ps-allow-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll");

    private static SensorSettings Load(params string[] set) => SensorSettings.Load(new SettingsSources(null, set, "dry-run", null));

    [Theory]
    [InlineData("0.0.0.0/0", "Allowlist:0 is \"0.0.0.0/0\", 2^32 addresses", "Decide:AllowlistWidestV4=0")]
    [InlineData("128.0.0.0/1", "Allowlist:0 is \"128.0.0.0/1\", 2^31 addresses", "Decide:AllowlistWidestV4=1")]
    [InlineData("::/0", "Allowlist:0 is \"::/0\", 2^128 addresses", "Decide:AllowlistWidestV6=0")]
    [InlineData("2000::/3", "Allowlist:0 is \"2000::/3\", 2^125 addresses", "Decide:AllowlistWidestV6=3")]
    [InlineData("fc00::/7", "Allowlist:0 is \"fc00::/7\"", "Decide:AllowlistWidestV6=7")]
    public void A_very_wide_entry_is_refused_with_the_entry_and_the_key_that_allows_it(string entry, string message, string fix)
    {
        var e = Assert.Throws<SettingsException>(() => Load($"Allowlist:0={entry}"));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Contains("prevention", e.Message, StringComparison.Ordinal);
        Assert.Contains("a prefix of /", e.Message, StringComparison.Ordinal);
        Assert.Contains(fix, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.0/8")]
    [InlineData("172.16.0.0/12")]
    [InlineData("203.0.113.7")]
    [InlineData("2001:db8::/32")]
    [InlineData("2001::/16")]
    public void Networks_up_to_the_widest_allowed_are_taken(string entry) =>
        Assert.Equal(entry, Assert.Single(Load($"Allowlist:0={entry}").Allowed).ToString());

    [Fact]
    public void The_operator_may_allow_wider_entries_by_saying_so()
    {
        SensorSettings settings = Load("Allowlist:0=0.0.0.0/0", "Allowlist:1=fc00::/7", "Decide:AllowlistWidestV4=0", "Decide:AllowlistWidestV6=7");
        Assert.Equal(["0.0.0.0/0", "fc00::/7"], settings.Allowed.Select(a => a.ToString()));
    }

    [Fact]
    public void A_wide_entry_kept_in_the_dashboards_settings_file_is_refused_with_the_file_named()
    {
        var sources = new SettingsSources(null, [], "dry-run", _directory);
        File.WriteAllText(sources.OverlayFile!, """{ "Allowlist": [ "::/0" ] }""");
        var e = Assert.Throws<SettingsException>(() => SensorSettings.Load(sources));
        Assert.Contains("Allowlist:0 is \"::/0\"", e.Message, StringComparison.Ordinal);
        Assert.Contains($"It is set in {sources.OverlayFile}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_bans_command_refuses_a_wide_entry_in_the_configuration_file()
    {
        string config = Path.Combine(_directory, "config.json");
        File.WriteAllText(config, """{ "Allowlist": [ "203.0.113.7", "0.0.0.0/0" ] }""");
        var (exit, output) = ProcessRunner.Run("dotnet", [Cli, "bans", "list", "--data-dir", Path.Combine(_directory, "data"), "--config", config], TimeSpan.FromSeconds(60));
        Assert.Equal(ExitCodes.BadConfiguration, exit);
        Assert.Contains("Allowlist:1 is \"0.0.0.0/0\"", output, StringComparison.Ordinal);
    }
}
