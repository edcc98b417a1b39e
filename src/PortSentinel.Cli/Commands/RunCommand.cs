using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using PortSentinel.Capture;
using PortSentinel.Common;
using PortSentinel.Detect;
using PortSentinel.Record;
using PortSentinel.Respond;
using PortSentinel.Web;

namespace PortSentinel.Cli.Commands;

/// <summary><c>portsentinel run</c>: the live sensor — capture, detect, decide, block, record.</summary>
public static class RunCommand
{
    public const string DefaultDataDirectory = "/var/lib/portsentinel";

    public static Command Create()
    {
        var interfaces = new Option<string[]>("--interface")
        {
            Description = "Capture on this interface (repeatable); default: every interface that is up, but loopback.",
        };
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "Where the database lives.",
            DefaultValueFactory = _ => DefaultDataDirectory,
        };
        Option<string?> firewall = Firewalls.Option();
        var urls = new Option<string?>("--urls")
        {
            Description = "Where the dashboard listens, e.g. http://127.0.0.1:5000 (default) or https://0.0.0.0:8443; several separated by ';'.",
        };
        var noDashboard = new Option<bool>("--no-dashboard") { Description = "Run the sensor alone, without the web dashboard and API." };
        var command = new Command("run", "Run the live sensor: detect scans and block scanners in the kernel; serve the dashboard.") { interfaces, dataDir, firewall, urls, noDashboard };
        StoreSelection.AddTo(command, name: true);
        command.SetAction(parse =>
        {
            string[] overrides = StoreSelection.Overrides(parse);
            if (parse.GetValue(urls) is { } addresses)
            {
                overrides = [.. overrides, $"{DashboardOptions.Section}:{nameof(DashboardOptions.Urls)}={addresses}"];
            }
            return Run(
                parse.GetValue(interfaces) ?? [],
                parse.GetValue(dataDir) ?? DefaultDataDirectory,
                parse.GetValue(firewall),
                parse.GetValue(Settings.ConfigOption),
                overrides,
                dashboard: !parse.GetValue(noDashboard));
        });
        return command;
    }

    public static int Run(string[] interfaces, string dataDirectory, string? firewallName, FileInfo? config, string[] overrides, bool dashboard = true)
    {
        int pid = Environment.ProcessId;
        void Log(string line) =>
            Console.Out.WriteLine($"{DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss,fff", CultureInfo.InvariantCulture)} portsentinel[{pid}]: {line}");

        // Each capture has its detector, and a change applied while running makes every capture's
        // new one before the old is let go: twice the tables per capture may be alive at once
        // (without --interface, counted for the interfaces up at start).
        int captures = interfaces.Length > 0 ? interfaces.Length : LinkWatch.UpNow().Length;
        var sources = new SettingsSources(config, overrides, firewallName, dataDirectory) { DetectorTables = 2 * Math.Max(1, captures) };
        SensorSettings settings;
        try
        {
            settings = SensorSettings.Load(sources);
        }
        catch (SettingsException e)
        {
            Console.Error.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadConfiguration;
        }
        try
        {
            using SensorHost host = SensorHost.Create(settings.Configuration(interfaces, dataDirectory), Log);
            var running = new RunningSettings(sources, settings, host.Sensor, Log);
            using var stop = new ManualResetEvent(false);
            using var hangUp = new AutoResetEvent(false);
            Signals.StopIgnoringInterrupts();
            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
            using PosixSignalRegistration sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; hangUp.Set(); });
            if (dashboard)
            {
                try
                {
                    host.Own(DashboardServer.Start(host, settings.Dashboard, running, Log));
                }
                catch (IOException e)
                {
                    Console.Error.WriteLine($"portsentinel: the dashboard cannot listen on {settings.Dashboard.Urls}: {e.Message}. Choose another address with --urls, or run without it: --no-dashboard.");
                    return ExitCodes.BadInput;
                }
            }
            host.Start();
            while (WaitHandle.WaitAny([stop, hangUp]) == 1)
            {
                running.Reload();
            }
            Log("STOPPING (bans stay in the firewall)");
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is CaptureException or FirewallException or StoreException)
        {
            Console.Error.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (OutOfMemoryException)
        {
            // The capacities were checked against the memory there was; others may have taken it since.
            Console.Error.WriteLine($"portsentinel: out of memory while making the detector's tables: lower {DetectorOptions.Section}:{nameof(DetectorOptions.SourceCapacity)} or {nameof(DetectorOptions.FlowCapacity)} ({sources.OverlayFile} holds the changes made on the dashboard), or free memory.");
            return ExitCodes.BadConfiguration;
        }
    }
}
