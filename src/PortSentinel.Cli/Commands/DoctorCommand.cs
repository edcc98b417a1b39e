using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using PortSentinel.Capture;
using PortSentinel.Decide;
using PortSentinel.Record;
using PortSentinel.Respond;
using PortSentinel.Respond.Nftables;

namespace PortSentinel.Cli.Commands;

/// <summary><c>portsentinel doctor</c>: can the sensor run here, and if not, what to fix.</summary>
public static class DoctorCommand
{
    // Linux capability numbers (capability.h).
    private const int CapNetAdmin = 12;
    private const int CapNetRaw = 13;

    public static Command Create()
    {
        var interfaces = new Option<string[]>("--interface") { Description = "Check capture on this interface (repeatable); default: those run would use." };
        var dataDir = new Option<string>("--data-dir") { Description = "The data directory to check.", DefaultValueFactory = _ => RunCommand.DefaultDataDirectory };
        Option<string?> firewall = Firewalls.Option();
        var command = new Command("doctor", "Check libpcap, capture, the firewall, capabilities, the data directory and the configuration.") { interfaces, dataDir, firewall };
        StoreSelection.AddTo(command, name: true);
        command.SetAction(p => Run(p.GetValue(interfaces) ?? [], p.GetValue(dataDir) ?? RunCommand.DefaultDataDirectory, p.GetValue(firewall), p.GetValue(Settings.ConfigOption), StoreSelection.Overrides(p), Console.Out));
        return command;
    }

    public static int Run(string[] interfaces, string dataDirectory, string? firewallName, FileInfo? config, string[] overrides, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int problems = 0;
        void Report(string check, string? problem, string detail)
        {
            output.WriteLine(problem is null ? $"ok    {check}: {detail}" : $"FAIL  {check}: {problem}");
            problems += problem is null ? 0 : 1;
        }

        // With a bad configuration the rest is checked as run would be with the defaults.
        var firewallOptions = new FirewallOptions { Backend = firewallName ?? "nftables" };
        var capture = new LiveCaptureOptions();
        var storeOptions = new StoreOptions();
        string sensorName = Environment.MachineName;
        try
        {
            // The capacities are checked as run checks them: two sets of tables per capture.
            int captures = interfaces.Length > 0 ? interfaces.Length : LinkWatch.UpNow().Length;
            SensorSettings settings = SensorSettings.Load(new SettingsSources(config, overrides, firewallName, dataDirectory) { DetectorTables = 2 * Math.Max(1, captures) });
            firewallOptions = settings.Firewall;
            capture = settings.Capture;
            storeOptions = settings.Store;
            sensorName = settings.Identity.Resolved;
            Report("configuration", null, "valid");
        }
        catch (SettingsException e)
        {
            Report("configuration", e.Message, "");
        }

        string? version = PcapFile.LibraryVersion();
        Report("libpcap", version is null ? "libpcap.so.0.8 is missing: apt-get install libpcap0.8" : null, version ?? "");

        (bool raw, bool admin) = Capabilities();
        Report("CAP_NET_RAW", raw ? null : "missing: capture needs it (run as root, or as the systemd unit does)", "present");
        // Only the backends that change the kernel's tables need it.
        bool kernel = firewallOptions.Backend is "nftables" or "ipset" or "iptables" or "route";
        Report("CAP_NET_ADMIN", admin || !kernel ? null : $"missing: the {firewallOptions.Backend} backend changes the kernel's tables and needs it (run as root, or as the systemd unit does)", admin ? "present" : $"not needed by the {firewallOptions.Backend} backend");

        string[] devices = interfaces.Length > 0 ? interfaces : LinkWatch.UpNow();
        if (devices.Length == 0)
        {
            Report("capture", null, "no interface is up besides loopback yet: run captures on each as it comes up");
        }
        foreach (string device in devices)
        {
            try
            {
                using PcapLive live = PcapLive.Open(device, capture);
                Report($"capture on {device}", null, $"opens ({live.LinkType})");
            }
            catch (CaptureException e)
            {
                Report($"capture on {device}", e.Message, "");
            }
        }

        try
        {
            // nftables is only probed; the other backends are set up, as run would.
            using IFirewall backend = FirewallBackends.Create(firewallOptions);
            string? problem = backend is NftablesFirewall nftables ? nftables.Probe() : null;
            if (backend is not NftablesFirewall)
            {
                backend.Initialize();
            }
            Report($"firewall {backend.Name}", problem, backend.ExpiresByItself ? "works; bans expire in the kernel" : "works; the sensor lifts bans that run out");
        }
        catch (FirewallException e)
        {
            Report($"firewall {firewallOptions.Backend}", e.Message, "");
        }

        string storeCheck = storeOptions.IsPostgres ? "store" : "data directory";
        try
        {
            using IStore store = Stores.Open(storeOptions, dataDirectory, sensorName);
            Report(storeCheck, null, $"{store.Location}, schema {store.SchemaVersion}, {store.ActiveBans(DateTimeOffset.UtcNow).Count} bans in force{(storeOptions.IsPostgres ? $", this sensor {sensorName}" : "")}");
        }
        catch (StoreException e)
        {
            Report(storeCheck, e.Message, "");
        }

        output.WriteLine(problems == 0 ? "Everything the sensor needs is here." : $"{problems} problem{(problems == 1 ? "" : "s")} to fix before `portsentinel run`.");
        return problems == 0 ? ExitCodes.Ok : ExitCodes.BadInput;
    }

    /// <summary>The effective capabilities of this process, from /proc/self/status (CapEff, hex).</summary>
    private static (bool Raw, bool Admin) Capabilities()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal)
                && ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong caps))
            {
                return ((caps & (1UL << CapNetRaw)) != 0, (caps & (1UL << CapNetAdmin)) != 0);
            }
        }
        return (false, false);
    }
}
