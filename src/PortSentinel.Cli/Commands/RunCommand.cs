using System.CommandLine;
using System.Globalization;
using System.Net.NetworkInformation;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using PortSentinel.Capture;
using PortSentinel.Decide;
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
        Option<string> firewall = Firewalls.Option();
        var command = new Command("run", "Run the live sensor: detect scans and block scanners in the kernel.") { interfaces, dataDir, firewall };
        Settings.AddTo(command);
        command.SetAction(parse => Run(
            parse.GetValue(interfaces) ?? [],
            parse.GetValue(dataDir) ?? DefaultDataDirectory,
            parse.GetValue(firewall) ?? "nftables",
            parse.GetValue(Settings.ConfigOption),
            parse.GetValue(Settings.SetOption) ?? []));
        return command;
    }

    public static int Run(string[] interfaces, string dataDirectory, string firewallName, FileInfo? config, string[] overrides)
    {
        int pid = Environment.ProcessId;
        void Log(string line) =>
            Console.Out.WriteLine($"{DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss,fff", CultureInfo.InvariantCulture)} portsentinel[{pid}]: {line}");

        DetectorOptions detection;
        DecideOptions decide;
        LiveCaptureOptions capture;
        TrapOptions trap;
        IReadOnlyList<Decode.NetPrefix> allowed;
        try
        {
            IConfiguration configuration = Settings.Load(config, overrides);
            detection = Settings.Detection(configuration);
            decide = Settings.Bind<DecideOptions>(configuration, DecideOptions.Section, o => o.Validate());
            capture = Settings.Bind<LiveCaptureOptions>(configuration, "Capture");
            trap = Settings.Bind<TrapOptions>(configuration, TrapOptions.Section, o => o.Validate());
            allowed = Settings.Allowlist(configuration);
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
            firewall = Firewalls.Create(firewallName);
            store = SqliteStore.Open(dataDirectory);
            var allowlist = new Allowlist(HostFacts.Read(), allowed);
            sensor = new Sensor(devices, capture, trap, detection, new Decider(allowlist, decide), firewall, store, Log);
            using var stop = new ManualResetEventSlim();
            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
            sensor.Start();
            Log($"RUNNING with {firewall.Name}, data in {store.Path}, {allowlist.Entries.Count()} allowlist entries");
            stop.Wait();
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

    private static string[] DefaultInterfaces() =>
        [.. NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .Select(i => i.Name)];
}
