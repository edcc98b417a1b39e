using System.CommandLine;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Cli.Commands;

/// <summary>Bad configuration: the message names the key and the fix.</summary>
public sealed class SettingsException(string message) : Exception(message)
{
    public SettingsException()
        : this("invalid configuration")
    {
    }

    public SettingsException(string message, Exception inner)
        : this(message + " " + inner.Message)
    {
    }
}

/// <summary>
/// Configuration, lowest precedence first: a JSON file (--config), the changes made on the
/// dashboard's Settings page (DATA_DIR/settings.json), PORTSENTINEL__* environment variables
/// (PORTSENTINEL__Detection__VerticalPorts=20), then --set Section:Key=value flags.
/// </summary>
public static class Settings
{
    public static readonly Option<FileInfo?> ConfigOption = new("--config")
    {
        Description = "A JSON configuration file (see docs/configuration.md).",
        Recursive = true, // also after a subcommand: bans list --config …
    };

    public static readonly Option<string[]> SetOption = new("--set")
    {
        Description = "Override one setting, e.g. --set Detection:VerticalPorts=20 (repeatable).",
        AllowMultipleArgumentsPerToken = false,
        Recursive = true,
    };

    public static void AddTo(Command command)
    {
        command.Options.Add(ConfigOption);
        command.Options.Add(SetOption);
    }

    /// <summary>
    /// The configuration: the file, then the dashboard's <paramref name="overlay"/> (see
    /// <see cref="SettingsOverlay"/>, read from <paramref name="overlayFile"/>), then the
    /// environment, then <paramref name="overrides"/>. A key no option binds, from any of them, is
    /// refused with where it came from.
    /// </summary>
    public static IConfiguration Load(FileInfo? file, IEnumerable<string> overrides, JsonObject? overlay = null, string? overlayFile = null)
    {
        IConfigurationBuilder builder = new ConfigurationBuilder();
        var unknown = new List<string>();
        if (file is not null)
        {
            if (!file.Exists)
            {
                throw new SettingsException($"--config {file.FullName}: no such file.");
            }
            builder.AddJsonFile(file.FullName, optional: false);
            unknown.AddRange(SettingsSchema.Unknown(Build(builder, file), _ => $"--config {file.FullName}"));
        }
        if (overlay is { Count: > 0 })
        {
            unknown.AddRange(SettingsSchema.Unknown(new ConfigurationBuilder().AddInMemoryCollection(SettingsOverlay.Over(new ConfigurationBuilder().Build(), overlay)).Build(), _ => overlayFile ?? SettingsOverlay.FileName));
            builder = new ConfigurationBuilder().AddInMemoryCollection(SettingsOverlay.Over(Build(builder, file), overlay));
        }
        unknown.AddRange(SettingsSchema.Unknown(new ConfigurationBuilder().AddEnvironmentVariables(EnvironmentPrefix).Build(), key => $"the environment, {EnvironmentPrefix}{key.Replace(":", "__", StringComparison.Ordinal)}"));
        Dictionary<string, string?> flags = Overrides(overrides);
        unknown.AddRange(SettingsSchema.Unknown(new ConfigurationBuilder().AddInMemoryCollection(flags).Build(), _ => "--set"));
        if (unknown.Count > 0)
        {
            throw new SettingsException(string.Join(Environment.NewLine, unknown));
        }
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(flags);
        return Build(builder, file);
    }

    public const string EnvironmentPrefix = "PORTSENTINEL__";

    /// <summary>The --set flags as configuration keys and values.</summary>
    public static Dictionary<string, string?> Overrides(IEnumerable<string> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var pairs = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (string item in overrides)
        {
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new SettingsException($"--set {item}: expected Section:Key=value, e.g. --set Detection:VerticalPorts=20.");
            }
            pairs[item[..eq].Trim()] = item[(eq + 1)..].Trim();
        }
        return pairs;
    }

    private static IConfigurationRoot Build(IConfigurationBuilder builder, FileInfo? file)
    {
        try
        {
            return builder.Build();
        }
        catch (InvalidDataException e)
        {
            throw new SettingsException($"--config {file?.FullName}: not valid JSON.", e);
        }
        catch (FormatException e)
        {
            throw new SettingsException($"--config {file?.FullName}: not valid JSON.", e);
        }
    }

    /// <summary>The <c>Detection</c> section, its capacities checked for <paramref name="tables"/> sets of tables alive at once (see <see cref="DetectorOptions.Validate(int)"/>).</summary>
    public static DetectorOptions Detection(IConfiguration configuration, int tables = 1) =>
        Bind<DetectorOptions>(configuration, DetectorOptions.Section, o => o.Validate(tables));

    /// <summary>Binds a section onto options with their defaults, refusing unknown keys and values the validator rejects.</summary>
    public static T Bind<T>(IConfiguration configuration, string section, Func<T, IReadOnlyList<string>>? validate = null)
        where T : new()
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfigurationSection node = configuration.GetSection(section);
        RejectUnknownKeys(node, typeof(T));
        var options = new T();
        try
        {
            node.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new SettingsException($"{section}: {e.Message} Give a value of the key's type (docs/configuration.md).");
        }
        IReadOnlyList<string> errors = validate?.Invoke(options) ?? [];
        if (errors.Count > 0)
        {
            throw new SettingsException(string.Join(Environment.NewLine, errors));
        }
        return options;
    }

    /// <summary>
    /// The <c>Allowlist</c> list: addresses and networks never blocked, besides the host's own. A
    /// network wider than <paramref name="policy"/>'s <see cref="DecideOptions.AllowlistWidestV4"/>
    /// or <see cref="DecideOptions.AllowlistWidestV6"/> is refused: it would turn prevention off.
    /// </summary>
    public static IReadOnlyList<NetPrefix> Allowlist(IConfiguration configuration, DecideOptions policy)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(policy);
        var result = new List<NetPrefix>();
        var errors = new List<string>();
        foreach (IConfigurationSection item in configuration.GetSection(RunningSettings.AllowlistSection).GetChildren())
        {
            if (!NetPrefix.TryParse(item.Value ?? "", out NetPrefix? prefix))
            {
                errors.Add($"{item.Path} is \"{item.Value}\"; give an address or network, e.g. 203.0.113.7 or 198.51.100.0/24.");
                continue;
            }
            bool v4 = prefix.Value.Address.IsV4;
            int widest = v4 ? policy.AllowlistWidestV4 : policy.AllowlistWidestV6;
            if (prefix.Value.Length < widest)
            {
                string key = $"{DecideOptions.Section}:{(v4 ? nameof(DecideOptions.AllowlistWidestV4) : nameof(DecideOptions.AllowlistWidestV6))}";
                errors.Add($"{item.Path} is \"{item.Value}\", 2^{(v4 ? 32 : 128) - prefix.Value.Length} addresses: allowlisting it turns prevention off for all of them. "
                    + $"Give a prefix of /{widest} or longer, or, if that is what you mean, set {key}={prefix.Value.Length} (docs/prevention.md).");
                continue;
            }
            result.Add(prefix.Value);
        }
        return errors.Count > 0 ? throw new SettingsException(string.Join(Environment.NewLine, errors)) : result;
    }

    /// <summary>A misspelt key would otherwise be ignored in silence and its default used.</summary>
    private static void RejectUnknownKeys(IConfigurationSection section, Type options)
    {
        string[] unknown = [.. section.AsEnumerable().Where(p => p.Value is not null && p.Key.Length > section.Path.Length)
            .Select(p => SettingsSchema.Problem(options, section.Path, p.Key, "configuration")).OfType<string>().Distinct()];
        if (unknown.Length > 0)
        {
            throw new SettingsException(string.Join(Environment.NewLine, unknown));
        }
    }
}
