using System.CommandLine;
using PortSentinel.Notify;

namespace PortSentinel.Cli.Commands;

/// <summary><c>portsentinel notify test</c>: a sample alert to every configured channel, and how each fared.</summary>
public static class NotifyCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "The data directory (for the dashboard's settings).",
            DefaultValueFactory = _ => RunCommand.DefaultDataDirectory,
            Recursive = true, // also after the subcommand: notify test --data-dir …
        };
        var test = new Command("test", "Send a sample alert to every configured channel (webhooks, syslog, email) and report each result.");
        test.SetAction(p => Test(p.GetValue(Settings.ConfigOption), p.GetValue(Settings.SetOption) ?? [], p.GetValue(dataDir) ?? RunCommand.DefaultDataDirectory, Console.Out));
        var command = new Command("notify", "Alert notifications.") { dataDir, test };
        Settings.AddTo(command);
        return command;
    }

    public static int Test(FileInfo? config, string[] overrides, string dataDirectory, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        NotifyOptions options;
        try
        {
            options = SensorSettings.Load(new SettingsSources(config, overrides, "dry-run", Directory.Exists(dataDirectory) ? dataDirectory : null)).Notify;
        }
        catch (SettingsException e)
        {
            Console.Error.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadConfiguration;
        }
        IReadOnlyList<INotifyChannel> channels = Notifier.Channels(options);
        if (channels.Count == 0)
        {
            Console.Error.WriteLine($"portsentinel: no channel is configured; set {NotifyOptions.Section}:Webhooks, {NotifyOptions.Section}:Syslog:Address or {NotifyOptions.Section}:Email:Host (docs/notifications.md).");
            return ExitCodes.BadInput;
        }
        IReadOnlyList<(string Channel, string? Problem)> results = Notifier.TestAsync(channels, CancellationToken.None).GetAwaiter().GetResult();
        foreach (INotifyChannel channel in channels)
        {
            channel.Dispose();
        }
        foreach (var (channel, problem) in results)
        {
            output.WriteLine(problem is null ? $"ok    {channel}" : $"FAIL  {channel}: {problem}");
        }
        return results.All(r => r.Problem is null) ? ExitCodes.Ok : ExitCodes.BadInput;
    }
}
