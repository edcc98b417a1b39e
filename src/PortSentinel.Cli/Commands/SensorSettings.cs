using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using PortSentinel.Capture;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Notify;
using PortSentinel.Record;
using PortSentinel.Report;
using PortSentinel.Respond;
using PortSentinel.Web;

namespace PortSentinel.Cli.Commands;

/// <summary>Everything <c>run</c> reads from configuration, read and validated together.</summary>
internal sealed record SensorSettings(DetectorOptions Detection, DecideOptions Decide, LiveCaptureOptions Capture, TrapOptions Trap, IReadOnlyList<NetPrefix> Allowed, FirewallOptions Firewall, DashboardOptions Dashboard, AbuseIpDbOptions AbuseIpDb, BlocklistOptions Blocklist, EventLogOptions EventLog, NotifyOptions Notify, ReportsOptions Reports)
{
    /// <summary>What the library's host makes of these settings, capturing on <paramref name="interfaces"/>.</summary>
    public SensorConfiguration Configuration(IReadOnlyList<string> interfaces, string dataDirectory) => new()
    {
        DataDirectory = dataDirectory,
        Sensor = new SensorOptions { Interfaces = interfaces, Capture = Capture, Trap = Trap, Detection = Detection, Firewall = Firewall },
        Decide = Decide,
        Allowed = Allowed,
        AbuseIpDb = AbuseIpDb,
        Blocklist = Blocklist,
        EventLog = EventLog,
        Notify = Notify,
        Reports = Reports,
    };

    /// <summary>Reads the configuration from its sources, with <paramref name="overlay"/> in place of the dashboard's changes on disk when given.</summary>
    public static SensorSettings Load(SettingsSources sources, JsonObject? overlay = null)
    {
        IConfiguration configuration = sources.Configuration(overlay);
        var abuse = Settings.Bind<AbuseIpDbOptions>(configuration, AbuseIpDbOptions.Section, o => o.Validate());
        var blocklist = Settings.Bind<BlocklistOptions>(configuration, BlocklistOptions.Section, o => o.Validate());
        if (blocklist.AbuseIpDb && !abuse.Enabled)
        {
            throw new SettingsException($"{BlocklistOptions.Section}:{nameof(BlocklistOptions.AbuseIpDb)} is on, but {AbuseIpDbOptions.Section}:{nameof(AbuseIpDbOptions.ApiKey)} is empty: set the key (PORTSENTINEL__AbuseIpDb__ApiKey), or turn the import off.");
        }
        var decide = Settings.Bind<DecideOptions>(configuration, DecideOptions.Section, o => o.Validate());
        return new SensorSettings(
            Settings.Detection(configuration),
            decide,
            Settings.Bind<LiveCaptureOptions>(configuration, LiveCaptureOptions.Section, o => o.Validate()),
            Settings.Bind<TrapOptions>(configuration, TrapOptions.Section, o => o.Validate()),
            Settings.Allowlist(configuration, decide),
            Firewalls.Options(configuration, sources.FirewallName),
            Settings.Bind<DashboardOptions>(configuration, DashboardOptions.Section, o => o.Validate()),
            abuse,
            blocklist,
            Settings.Bind<EventLogOptions>(configuration, EventLogOptions.Section, o => o.Validate()),
            Settings.Bind<NotifyOptions>(configuration, NotifyOptions.Section, o => o.Validate()),
            Settings.Bind<ReportsOptions>(configuration, ReportsOptions.Section, o => o.Validate()));
    }
}

/// <summary>
/// Where a command's configuration comes from: the file (--config), the dashboard's changes in
/// <paramref name="DataDirectory"/> (none when null), the environment, --set flags, and --firewall.
/// </summary>
internal sealed record SettingsSources(FileInfo? Config, string[] Overrides, string? FirewallName, string? DataDirectory)
{
    public string? OverlayFile => DataDirectory is null ? null : SettingsOverlay.PathIn(DataDirectory);

    /// <summary>The dashboard's changes as they are on disk.</summary>
    public JsonObject Overlay() => OverlayFile is { } file ? SettingsOverlay.Read(file) : [];

    public IConfiguration Configuration(JsonObject? overlay = null) => Settings.Load(Config, Overrides, overlay ?? Overlay(), OverlayFile);
}
