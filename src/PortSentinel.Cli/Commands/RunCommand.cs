using System.CommandLine;
using System.Globalization;
using System.Net.NetworkInformation;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using PortSentinel.Capture;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;
using PortSentinel.Respond;

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
        var command = new Command("run", "Run the live sensor: detect scans and block scanners in the kernel.") { interfaces, dataDir, firewall };
        Settings.AddTo(command);
        command.SetAction(parse => Run(
            parse.GetValue(interfaces) ?? [],
            parse.GetValue(dataDir) ?? DefaultDataDirectory,
            parse.GetValue(firewall),
            parse.GetValue(Settings.ConfigOption),
            parse.GetValue(Settings.SetOption) ?? []));
        return command;
    }

    public static int Run(string[] interfaces, string dataDirectory, string? firewallName, FileInfo? config, string[] overrides)
    {
        int pid = Environment.ProcessId;
        void Log(string line) =>
            Console.Out.WriteLine($"{DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss,fff", CultureInfo.InvariantCulture)} portsentinel[{pid}]: {line}");

        SensorSettings settings;
        try
        {
            settings = SensorSettings.Load(config, overrides, firewallName);
        }
        catch (SettingsException e)
        {
            Console.Error.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadConfiguration;
        }
        string[] devices = interfaces.Length > 0 ? interfaces : DefaultInterfaces();
        if (devices.Length == 0)
        {
            Console.Error.WriteLine("portsentinel: no interface is up besides loopback; name one with --interface.");
            return ExitCodes.BadInput;
        }

        IFirewall? firewall = null;
        SqliteStore? store = null;
        Sensor? sensor = null;
        try
        {
            firewall = Firewalls.Create(settings.Firewall);
            store = SqliteStore.Open(dataDirectory);
            var allowlist = new Allowlist(HostFacts.Read(), settings.Allowed);
            sensor = new Sensor(devices, settings.Capture, settings.Trap, settings.Detection, new Decider(allowlist, settings.Decide), firewall, settings.Firewall, store, Log);
            using var stop = new ManualResetEvent(false);
            using var hangUp = new AutoResetEvent(false);
            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
            using PosixSignalRegistration sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; hangUp.Set(); });
            sensor.Start();
            Log($"RUNNING with {firewall.Name}, data in {store.Path}, {allowlist.Entries.Count()} allowlist entries");
            while (WaitHandle.WaitAny([stop, hangUp]) == 1)
            {
                settings = Reload(sensor, settings, config, overrides, firewallName, Log);
            }
            Log("STOPPING (bans stay in the firewall)");
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is CaptureException or FirewallException or StoreException)
        {
            Console.Error.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadInput;
        }
        finally
        {
            sensor?.Dispose();
            store?.Dispose();
            firewall?.Dispose();
        }
    }

    /// <summary>
    /// SIGHUP: reads the configuration again and applies what can change while running. A bad
    /// configuration is refused and the running one kept; changes to what only a start can apply
    /// (capture, firewall) are named. Returns the configuration now in force.
    /// </summary>
    private static SensorSettings Reload(Sensor sensor, SensorSettings current, FileInfo? config, string[] overrides, string? firewallName, SensorLog log)
    {
        SensorSettings next;
        try
        {
            next = SensorSettings.Load(config, overrides, firewallName);
        }
        catch (SettingsException e)
        {
            log($"ERROR reload refused, the running configuration stays: {e.Message.ReplaceLineEndings(" ")}");
            return current;
        }
        bool detection = !Same(next.Detection, current.Detection);
        bool trap = !Same(next.Trap, current.Trap);
        var allowlist = new Allowlist(HostFacts.Read(), next.Allowed);
        sensor.Reconfigure(detection ? next.Detection : null, allowlist, next.Decide, trap ? next.Trap : null);
        log($"RELOADED configuration: detection {(detection ? "changed" : "unchanged")}, trap {(trap ? "changed" : "unchanged")}, policy and {allowlist.Entries.Count()} allowlist entries applied");
        string[] later = [.. new[] { (LiveCaptureOptions.Section, Same(next.Capture, current.Capture)), (FirewallOptions.Section, Same(next.Firewall, current.Firewall)) }.Where(c => !c.Item2).Select(c => c.Item1)];
        if (later.Length > 0)
        {
            log($"WARNING changes to {string.Join(" and ", later)} take effect at the next start");
        }
        return next with { Capture = current.Capture, Firewall = current.Firewall };
    }

    private static bool Same<T>(T a, T b) => JsonSerializer.Serialize(a) == JsonSerializer.Serialize(b);

    /// <summary>Every interface that is up, but loopback: where run captures when none is named.</summary>
    internal static string[] DefaultInterfaces() =>
        [.. NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .Select(i => i.Name)];
}
