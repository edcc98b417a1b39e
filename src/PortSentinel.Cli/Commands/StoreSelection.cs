using System.CommandLine;
using Microsoft.Extensions.Configuration;
using PortSentinel.Record;

namespace PortSentinel.Cli.Commands;

/// <summary>
/// <c>--store</c> and <c>--name</c>: which store a command works on, and as which sensor. The
/// store is PostgreSQL when <c>--store</c> or <c>Store:ConnectionString</c> (the file, the
/// environment, --set) names one, else SQLite in the data directory.
/// </summary>
internal static class StoreSelection
{
    public static readonly Option<string?> StoreOption = new("--store")
    {
        Description = "A PostgreSQL connection string shared by a fleet, e.g. Host=db.example;Database=portsentinel;Username=sensor (the password from Store:PasswordFile or PGPASSWORD); default: SQLite in --data-dir.",
        Recursive = true,
    };

    public static readonly Option<string?> NameOption = new("--name")
    {
        Description = "This sensor's name in a fleet's store (Sensor:Name); default: the host name.",
        Recursive = true,
    };

    /// <summary>Adds --store (and, for a sensor and what writes as one, --name) with --config and --set.</summary>
    public static void AddTo(Command command, bool name = false)
    {
        Settings.AddTo(command);
        command.Options.Add(StoreOption);
        if (name)
        {
            command.Options.Add(NameOption);
        }
    }

    /// <summary>The --set flags with --store and --name as the settings they stand for.</summary>
    public static string[] Overrides(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        string[] overrides = parse.GetValue(Settings.SetOption) ?? [];
        if (parse.GetValue(StoreOption) is { } store)
        {
            overrides = [.. overrides, $"{StoreOptions.Section}:{nameof(StoreOptions.ConnectionString)}={store}"];
        }
        if (parse.GetResult(NameOption) is not null && parse.GetValue(NameOption) is { } name)
        {
            overrides = [.. overrides, $"{SensorIdentityOptions.Section}:{nameof(SensorIdentityOptions.Name)}={name}"];
        }
        return overrides;
    }

    /// <summary>Opens the store the command's settings name; throws <see cref="SettingsException"/> for a bad one, <see cref="StoreException"/> when it cannot be opened.</summary>
    public static IStore Open(ParseResult parse, string dataDirectory) =>
        Open(new SettingsSources(parse.GetValue(Settings.ConfigOption), Overrides(parse), null, dataDirectory).Configuration(), dataDirectory);

    /// <summary>
    /// Opens the store the command's settings name and runs <paramref name="action"/> on it: a bad
    /// setting exits 2, a store that cannot be opened or used 1, each with its message.
    /// </summary>
    public static int WithStore(ParseResult parse, string dataDirectory, Func<IStore, int> action) =>
        WithStore(() => Open(parse, dataDirectory), action);

    /// <inheritdoc cref="WithStore(ParseResult, string, Func{IStore, int})"/>
    public static int WithStore(Func<IStore> open, Func<IStore, int> action)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            using IStore store = open();
            return action(store);
        }
        catch (SettingsException e)
        {
            Console.Error.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadConfiguration;
        }
        catch (StoreException e)
        {
            Console.Error.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadInput;
        }
    }

    /// <inheritdoc cref="Open(ParseResult, string)"/>
    public static IStore Open(IConfiguration configuration, string dataDirectory) =>
        Stores.Open(Settings.Bind<StoreOptions>(configuration, StoreOptions.Section, o => o.Validate()), dataDirectory,
            Settings.Bind<SensorIdentityOptions>(configuration, SensorIdentityOptions.Section, o => o.Validate()).Resolved);
}
