using System.Text.Json.Nodes;
using PortSentinel.Cli.Commands;

namespace PortSentinel.Tests.Cli;

/// <summary>The dashboard's changes (DATA_DIR/settings.json) laid over a real configuration file: precedence, and lists replaced whole.</summary>
public sealed class SettingsOverlayTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ps-overlay-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private SettingsSources Sources(string file, params string[] set)
    {
        string path = Path.Combine(_directory, "config.json");
        File.WriteAllText(path, file);
        return new SettingsSources(new FileInfo(path), set, "dry-run", _directory);
    }

    private const string File3 = """
        {
          "Allowlist": ["203.0.113.1", "203.0.113.2", "203.0.113.3"],
          "Detection": { "VerticalPorts": 12, "TripwireTcpPorts": [23, 2323, 4444] },
          "Decide": { "BanSeconds": 600 }
        }
        """;

    [Fact]
    public void A_list_in_the_overlay_replaces_the_files_list_whole_and_other_keys_stay()
    {
        SettingsSources sources = Sources(File3);
        SettingsOverlay.Write(sources.OverlayFile!, JsonNode.Parse("""{ "Allowlist": ["198.51.100.9"], "Detection": { "TripwireTcpPorts": [] } }""")!.AsObject());
        SensorSettings settings = SensorSettings.Load(sources);
        Assert.Equal(["198.51.100.9"], settings.Allowed.Select(a => a.ToString()));
        Assert.Empty(settings.Detection.TripwireTcpPorts);
        Assert.Equal(12, settings.Detection.VerticalPorts);
        Assert.Equal(600, settings.Decide.BanSeconds);
    }

    [Fact]
    public void The_overlay_lies_over_the_file_and_under_the_command_line()
    {
        SettingsSources sources = Sources(File3, "Detection:VerticalPorts=40");
        SettingsOverlay.Write(sources.OverlayFile!, JsonNode.Parse("""{ "Detection": { "VerticalPorts": 30 }, "Decide": { "BanSeconds": 1200 } }""")!.AsObject());
        SensorSettings settings = SensorSettings.Load(sources);
        Assert.Equal(40, settings.Detection.VerticalPorts);
        Assert.Equal(1200, settings.Decide.BanSeconds);
        Assert.Equal(3, settings.Allowed.Count);
    }

    [Fact]
    public void Without_an_overlay_the_file_is_read_as_it_is()
    {
        SettingsSources sources = Sources(File3);
        Assert.False(File.Exists(sources.OverlayFile));
        SensorSettings settings = SensorSettings.Load(sources);
        Assert.Equal([23, 2323, 4444], settings.Detection.TripwireTcpPorts);
        Assert.Equal(3, settings.Allowed.Count);
    }

    [Fact]
    public void A_broken_overlay_stops_loading_with_the_file_named_and_the_fix()
    {
        SettingsSources sources = Sources(File3);
        File.WriteAllText(sources.OverlayFile!, "{ \"Decide\": ");
        var e = Assert.Throws<SettingsException>(() => SensorSettings.Load(sources));
        Assert.Contains(sources.OverlayFile!, e.Message, StringComparison.Ordinal);
        Assert.Contains("delete it", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "Decide": { "BanSeconds": 60 }, "Decide": { "BanSeconds": 120 } }""")]
    [InlineData("""{ "Detection": { "VerticalPorts": 5, "VerticalPorts": 6 } }""")]
    public void An_overlay_with_a_key_given_twice_stops_loading_with_the_file_named(string overlay)
    {
        // Found by fuzzing the settings (tests/fuzz/crashes/settings/overlay-duplicate-key.json):
        // JsonObject reads its properties lazily and threw ArgumentException out of Load.
        SettingsSources sources = Sources(File3);
        File.WriteAllText(sources.OverlayFile!, overlay);
        var e = Assert.Throws<SettingsException>(() => SensorSettings.Load(sources));
        Assert.Contains(sources.OverlayFile!, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Setting_makes_the_sections_on_the_way_and_removing_prunes_the_empty_ones()
    {
        JsonObject overlay = [];
        SettingsOverlay.Set(overlay, "Decide:BanSeconds", JsonValue.Create(60));
        SettingsOverlay.Set(overlay, "decide:BlockAt", JsonValue.Create("High"));
        Assert.Equal("""{"Decide":{"BanSeconds":60,"BlockAt":"High"}}""", overlay.ToJsonString());
        Assert.Equal(60, SettingsOverlay.Find(overlay, "DECIDE:banseconds")!.GetValue<int>());
        SettingsOverlay.Set(overlay, "Decide:BanSeconds", null);
        SettingsOverlay.Set(overlay, "Decide:BlockAt", null);
        SettingsOverlay.Set(overlay, "Detection:VerticalPorts", null);
        Assert.Equal("{}", overlay.ToJsonString());
    }
}
