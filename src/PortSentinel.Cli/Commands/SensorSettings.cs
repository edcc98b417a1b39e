using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
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
internal sealed record SensorSettings(DetectorOptions Detection, DecideOptions Decide, LiveCaptureOptions Capture, TrapOptions Trap, IReadOnlyList<NetPrefix> Allowed, FirewallOptions Firewall, DashboardOptions Dashboard, AbuseIpDbOptions AbuseIpDb, BlocklistOptions Blocklist, EventLogOptions EventLog, NotifyOptions Notify, ReportsOptions Reports, StoreOptions Store, SensorIdentityOptions Identity)
{
    /// <summary>What the library's host makes of these settings, capturing on <paramref name="interfaces"/> (none: on every interface, as each comes up).</summary>
    public SensorConfiguration Configuration(IReadOnlyList<string> interfaces, string dataDirectory) => new()
    {
        DataDirectory = dataDirectory,
        Sensor = new SensorOptions { Interfaces = interfaces, EveryInterface = interfaces.Count == 0, Capture = Capture, Trap = Trap, Detection = Detection, Firewall = Firewall },
        Decide = Decide,
        Allowed = Allowed,
        AbuseIpDb = AbuseIpDb,
        Blocklist = Blocklist,
        EventLog = EventLog,
        Notify = Notify,
        Reports = Reports,
        Store = Store,
        Name = Identity.Resolved,
    };

    /// <summary>
    /// Reads the configuration from its sources, with <paramref name="overlay"/> in place of the
    /// dashboard's changes on disk when given. A bad value read from a source is named with it
    /// (a start that fails on a value the dashboard saved names settings.json).
    /// </summary>
    public static SensorSettings Load(SettingsSources sources, JsonObject? overlay = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        JsonObject layered = overlay ?? sources.Overlay();
        try
        {
            return Read(sources, layered);
        }
        catch (SettingsException e) when (overlay is null)
        {
            throw new SettingsException(string.Join(Environment.NewLine, e.Message.Split(Environment.NewLine).Select(line => sources.Annotate(line, layered))));
        }
    }

    private static SensorSettings Read(SettingsSources sources, JsonObject overlay)
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
            Settings.Detection(configuration, sources.DetectorTables),
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
            Settings.Bind<ReportsOptions>(configuration, ReportsOptions.Section, o => o.Validate()),
            Settings.Bind<StoreOptions>(configuration, StoreOptions.Section, o => o.Validate()),
            Settings.Bind<SensorIdentityOptions>(configuration, SensorIdentityOptions.Section, o => o.Validate()));
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

    /// <summary>How many sets of detector tables may be alive at once (run: two per capture), for the memory bound of the capacities.</summary>
    public int DetectorTables { get; init; } = 1;

    /// <summary>
    /// <paramref name="line"/>, a problem that starts with the key it is about, followed by where
    /// that key's value comes from (the source of highest precedence that sets it), with the fix.
    /// </summary>
    public string Annotate(string line, JsonObject overlay)
    {
        ArgumentNullException.ThrowIfNull(line);
        Match key = Regex.Match(line, @"^[A-Za-z0-9]+(:[A-Za-z0-9]+)+");
        if (!key.Success || line.Contains(" is not a setting", StringComparison.Ordinal))
        {
            return line;
        }
        string path = key.Value;
        bool Sets(IConfiguration c) => c.AsEnumerable().Any(p => p.Value is not null && SettingsOverlay.Covers(path, p.Key));
        string? origin =
            Settings.Overrides(Overrides).Keys.Any(k => SettingsOverlay.Covers(path, k)) ? "It is given with --set."
            : Sets(new ConfigurationBuilder().AddEnvironmentVariables(Settings.EnvironmentPrefix).Build()) ? $"It is set in the environment ({Settings.EnvironmentPrefix}{path.Replace(":", "__", StringComparison.Ordinal)})."
            : OverlayFile is { } file && Sets(new ConfigurationBuilder().AddInMemoryCollection(SettingsOverlay.Over(new ConfigurationBuilder().Build(), overlay)).Build()) ? $"It is set in {file}, the changes made on the dashboard: change it on the Settings page, or edit or delete that file."
            : Config is { Exists: true } config && Sets(new ConfigurationBuilder().AddJsonFile(config.FullName, optional: true).Build()) ? $"It is set in {config.FullName}."
            : null;
        return origin is null ? line : $"{line} {origin}";
    }
}
