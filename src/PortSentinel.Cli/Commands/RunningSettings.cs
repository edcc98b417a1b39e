using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using PortSentinel.Capture;
using PortSentinel.Common;
using PortSentinel.Decide;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Notify;
using PortSentinel.Record;
using PortSentinel.Report;
using PortSentinel.Respond;
using PortSentinel.Web;

namespace PortSentinel.Cli.Commands;

/// <summary>
/// The configuration of the running sensor: read again on SIGHUP, changed from the dashboard's
/// Settings page (kept in DATA_DIR/settings.json), applied to the sensor without a restart.
/// Thresholds, the allowlist and the ban policy change while running; the rest (capture, firewall,
/// trap, dashboard) is shown, and changes in the file take effect at the next start.
/// </summary>
internal sealed class RunningSettings(SettingsSources sources, SensorSettings initial, Sensor sensor, SensorLog log) : ISettingsControl
{
    public const string AllowlistSection = "Allowlist";

    private const string Masked = "********";

    private static readonly string[] _secretSuffixes = ["Password", "Secret", "Token", "ApiKey"];

    /// <summary>The sections whose keys change while running, besides the allowlist.</summary>
    private static readonly (string Section, Type Options)[] _editable = [(DetectorOptions.Section, typeof(DetectorOptions)), (DecideOptions.Section, typeof(DecideOptions))];

    /// <summary>The sections only a start applies: shown, and named when a reload finds them changed.</summary>
    private static readonly (string Section, Func<SensorSettings, object> Of)[] _startOnly =
    [
        (LiveCaptureOptions.Section, s => s.Capture), (FirewallOptions.Section, s => s.Firewall), (DashboardOptions.Section, s => s.Dashboard),
        (AbuseIpDbOptions.Section, s => s.AbuseIpDb), (BlocklistOptions.Section, s => s.Blocklist), (EventLogOptions.Section, s => s.EventLog), (NotifyOptions.Section, s => s.Notify), (ReportsOptions.Section, s => s.Reports),
        (StoreOptions.Section, s => s.Store), (SensorIdentityOptions.Section, s => s.Identity),
    ];

    private static readonly JsonSerializerOptions _json = new() { Converters = { new JsonStringEnumConverter() } };

    private readonly Lock _gate = new();
    private SensorSettings _current = initial;
    private JsonObject _overlay = sources.Overlay();

    public SensorSettings Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>
    /// SIGHUP: reads the configuration again (file, dashboard changes, environment) and applies what
    /// can change while running. A bad configuration is refused and the running one kept.
    /// </summary>
    public void Reload()
    {
        lock (_gate)
        {
            SensorSettings next;
            JsonObject overlay;
            try
            {
                overlay = sources.Overlay();
                next = SensorSettings.Load(sources, overlay);
            }
            catch (SettingsException e)
            {
                log($"ERROR reload refused, the running configuration stays: {e.Message.ReplaceLineEndings(" ")}");
                return;
            }
            try
            {
                Apply(next, "RELOADED configuration");
            }
            catch (Exception e) when (e is OutOfMemoryException or ArgumentException)
            {
                log($"ERROR reload not applied, the running configuration stays: {e.Message.ReplaceLineEndings(" ")}");
                return;
            }
            _overlay = overlay;
        }
    }

    public SettingsView View()
    {
        lock (_gate)
        {
            return Describe();
        }
    }

    public SettingsView Change(IReadOnlyDictionary<string, JsonNode?> changes, string actor)
    {
        ArgumentNullException.ThrowIfNull(changes);
        lock (_gate)
        {
            var overlay = (JsonObject)_overlay.DeepClone();
            Dictionary<string, string> pins = Pins();
            var done = new List<string>();
            foreach ((string given, JsonNode? value) in changes)
            {
                (string path, Type type) = Editable(given);
                if (pins.FirstOrDefault(p => SettingsOverlay.Covers(path, p.Key) || SettingsOverlay.Covers(p.Key, path)) is { Key: not null } pin)
                {
                    throw new SettingsRejectedException($"{path} is set by {pin.Value}, which takes precedence over the dashboard; change it there.", conflict: true);
                }
                bool list = type != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(type);
                if (value is not null && (list ? value is not JsonArray array || array.Any(i => i is not JsonValue) : value is not JsonValue))
                {
                    throw new SettingsRejectedException(list
                        ? $"{path} takes a list, e.g. {(path == AllowlistSection ? "[\"203.0.113.7\", \"198.51.100.0/24\"]" : "[22, 23]")}."
                        : $"{path} takes a single value (a number, text or true/false).");
                }
                SettingsOverlay.Set(overlay, path, value);
                done.Add($"{path}={value?.ToJsonString() ?? "(back to the file's value)"}");
            }
            SensorSettings next;
            try
            {
                next = SensorSettings.Load(sources, overlay);
            }
            catch (SettingsException e)
            {
                throw new SettingsRejectedException(e.Message.ReplaceLineEndings(" "));
            }
            // Applied first, kept only once in force: a change the sensor cannot take (memory) must
            // not be read again at the next start. Should keeping it fail, the sensor goes back.
            SensorSettings previous = _current;
            try
            {
                Apply(next, $"SETTINGS changed by {actor} ({string.Join(", ", done)})");
            }
            catch (Exception e) when (e is OutOfMemoryException or ArgumentException)
            {
                log($"ERROR settings change by {actor} not applied, nothing changed: {e.Message.ReplaceLineEndings(" ")}");
                throw new InvalidOperationException($"the sensor could not apply the change ({e.Message.ReplaceLineEndings(" ")}), so nothing changed and nothing was saved.", e);
            }
            if (sources.OverlayFile is { } file)
            {
                try
                {
                    SettingsOverlay.Write(file, overlay);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Apply(previous, $"SETTINGS change by {actor} taken back, as {file} could not be written ({e.Message})");
                    throw;
                }
            }
            _overlay = overlay;
            return Describe();
        }
    }

    /// <summary>Puts <paramref name="next"/> in force (under the lock); what only a start can apply is named and kept as it is.</summary>
    private void Apply(SensorSettings next, string headline)
    {
        SensorSettings current = _current;
        bool detection = !Same(next.Detection, current.Detection);
        bool trap = !Same(next.Trap, current.Trap);
        var allowlist = new Allowlist(HostFacts.Read(), next.Allowed);
        sensor.Reconfigure(detection ? next.Detection : null, allowlist, next.Decide, trap ? next.Trap : null);
        log($"{headline}: detection {(detection ? "changed" : "unchanged")}, trap {(trap ? "changed" : "unchanged")}, policy and {allowlist.Entries.Count()} allowlist entries applied");
        string[] later = [.. _startOnly.Where(s => !Same(s.Of(next), s.Of(current))).Select(s => s.Section)];
        if (later.Length > 0)
        {
            log($"WARNING changes to {string.Join(" and ", later)} take effect at the next start");
        }
        _current = current with { Detection = next.Detection, Decide = next.Decide, Allowed = next.Allowed, Trap = next.Trap };
    }

    private static bool Same<T>(T a, T b) => JsonSerializer.Serialize(a) == JsonSerializer.Serialize(b);

    /// <summary>The configuration path of a key the dashboard may change, spelt as the options spell it, and the key's type.</summary>
    private static (string Path, Type Type) Editable(string path)
    {
        if (SettingsSchema.Problem(path, origin: null) is { } unknown)
        {
            throw new SettingsRejectedException(unknown);
        }
        string[] segments = path.Split(':');
        if (segments.Length == 1 && segments[0].Equals(AllowlistSection, StringComparison.OrdinalIgnoreCase))
        {
            return (AllowlistSection, typeof(string[]));
        }
        if (!_editable.Any(e => e.Section.Equals(segments[0], StringComparison.OrdinalIgnoreCase)))
        {
            throw new SettingsRejectedException(segments[0].Equals(TrapOptions.Section, StringComparison.OrdinalIgnoreCase) || _startOnly.Any(s => s.Section.Equals(segments[0], StringComparison.OrdinalIgnoreCase))
                ? $"{path} cannot change while the sensor runs: set it in the configuration file (--config), it takes effect at the next start."
                : $"{path} is not a setting the dashboard changes; it changes {DetectorOptions.Section}:…, {DecideOptions.Section}:… and {AllowlistSection} (docs/configuration.md).");
        }
        (string section, Type options) = _editable.First(e => e.Section.Equals(segments[0], StringComparison.OrdinalIgnoreCase));
        PropertyInfo? property = segments.Length == 2 ? Keys(options).FirstOrDefault(p => p.Name.Equals(segments[1], StringComparison.OrdinalIgnoreCase)) : null;
        return property is null
            ? throw new SettingsRejectedException($"{path} is not a setting. Known keys of {section}: {string.Join(", ", Keys(options).Select(p => p.Name))}.")
            : ($"{section}:{property.Name}", property.PropertyType);
    }

    private static IEnumerable<PropertyInfo> Keys(Type options) =>
        options.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod?.IsPublic == true).OrderBy(p => p.MetadataToken);

    /// <summary>Keys the environment and the command line set, which the dashboard must not try to change: path to who sets it.</summary>
    private Dictionary<string, string> Pins()
    {
        var pins = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, string?> pair in new ConfigurationBuilder().AddEnvironmentVariables(Settings.EnvironmentPrefix).Build().AsEnumerable().Where(p => p.Value is not null))
        {
            pins[pair.Key] = $"the environment ({Settings.EnvironmentPrefix}{pair.Key.Replace(":", "__", StringComparison.Ordinal)})";
        }
        foreach (string key in Settings.Overrides(sources.Overrides).Keys)
        {
            pins[key] = $"the command line (--set {key}=…)";
        }
        if (sources.FirewallName is not null)
        {
            pins[$"{FirewallOptions.Section}:{nameof(FirewallOptions.Backend)}"] = "the command line (--firewall)";
        }
        return pins;
    }

    private SettingsView Describe()
    {
        Dictionary<string, string> pins = Pins();
        SettingsSection Section(string name, object options, bool editable) => new(name, editable, [.. Keys(options.GetType()).Select(p => Field($"{name}:{p.Name}", p.PropertyType, p.GetValue(options), pins))]);
        SensorSettings s = _current;
        return new SettingsView(
            [
                Section(DetectorOptions.Section, s.Detection, editable: true),
                Section(DecideOptions.Section, s.Decide, editable: true),
                new SettingsSection(AllowlistSection, true, [Field(AllowlistSection, typeof(string[]), s.Allowed.Select(a => a.ToString()).ToArray(), pins)]),
                Section(TrapOptions.Section, s.Trap, editable: false),
                .. _startOnly.Select(section => Section(section.Section, section.Of(s), editable: false)),
            ],
            sources.Config?.FullName,
            sources.OverlayFile ?? "(none)");
    }

    private SettingsField Field(string path, Type type, object? value, Dictionary<string, string> pins)
    {
        bool secret = IsSecret(path);
        JsonNode? json = secret && value is string { Length: > 0 } ? JsonValue.Create(Masked) : Mask(JsonSerializer.SerializeToNode(value, _json));
        (string kind, IReadOnlyList<string>? choices) = type switch
        {
            _ when type == typeof(int) || type == typeof(long) => ("integer", null),
            _ when type == typeof(double) => ("number", null),
            _ when type == typeof(bool) => ("boolean", null),
            _ when type == typeof(string) => ("text", null),
            _ when type.IsEnum => ("choice", Enum.GetNames(type)),
            _ when path == AllowlistSection => ("networks", null),
            _ when type == typeof(IList<int>) => ("integers", null),
            _ => ("object", (IReadOnlyList<string>?)null),
        };
        string? pinnedBy = pins.FirstOrDefault(p => SettingsOverlay.Covers(path, p.Key)).Value;
        return new SettingsField(path, kind, json, SettingsOverlay.Find(_overlay, path) is not null, pinnedBy, secret, choices);
    }

    /// <summary>
    /// Inside a value made of several keys (Notify:Email, Notify:Webhooks), the secrets masked: keys
    /// named as secrets, and the path of web addresses (a webhook's path is its token).
    /// </summary>
    private static JsonNode? Mask(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (string key in o.Select(p => p.Key).ToList())
                {
                    if (IsSecret(key) && o[key] is JsonValue v && v.ToString().Length > 0)
                    {
                        o[key] = Masked;
                    }
                    else if (key.Equals("Url", StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(o[key]?.ToString(), UriKind.Absolute, out Uri? url))
                    {
                        o[key] = $"{url.Scheme}://{url.Authority}/{Masked}";
                    }
                    else
                    {
                        Mask(o[key]);
                    }
                }
                break;
            case JsonArray a:
                foreach (JsonNode? item in a)
                {
                    Mask(item);
                }
                break;
        }
        return node;
    }

    /// <summary>Keys whose values are never shown: passwords, secrets, tokens and API keys.</summary>
    public static bool IsSecret(string path)
    {
        string key = path[(path.LastIndexOf(':') + 1)..];
        return _secretSuffixes.Any(s => key.EndsWith(s, StringComparison.OrdinalIgnoreCase));
    }
}
