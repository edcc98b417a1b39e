using System.CommandLine;
using System.Globalization;
using System.Net.NetworkInformation;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using PortSentinel.Capture;
using PortSentinel.Common;
using PortSentinel.Decide;
using PortSentinel.Intel;
using PortSentinel.Notify;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;
using PortSentinel.Report;
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
        Settings.AddTo(command);
        command.SetAction(parse =>
        {
            string[] overrides = parse.GetValue(Settings.SetOption) ?? [];
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

        var sources = new SettingsSources(config, overrides, firewallName, dataDirectory);
        string reportsDirectory = Path.Combine(dataDirectory, "reports");
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
        string[] devices = interfaces.Length > 0 ? interfaces : DefaultInterfaces();
        if (devices.Length == 0)
        {
            Console.Error.WriteLine("portsentinel: no interface is up besides loopback; name one with --interface.");
            return ExitCodes.BadInput;
        }

        IFirewall? firewall = null;
        SqliteStore? store = null;
        Sensor? sensor = null;
        ReputationService? reputation = null;
        BlocklistImport? blocklist = null;
        EventLog? events = null;
        Notifier? notifier = null;
        DailyReports? reports = null;
        WebApplication? web = null;
        SqliteStore? webStore = null;
        try
        {
            firewall = Firewalls.Create(settings.Firewall);
            store = SqliteStore.Open(dataDirectory);
            var allowlist = new Allowlist(HostFacts.Read(), settings.Allowed);
            reputation = settings.AbuseIpDb.Enabled ? new ReputationService(settings.AbuseIpDb, store, Log) : null;
            sensor = new Sensor(devices, settings.Capture, settings.Trap, settings.Detection, new Decider(allowlist, settings.Decide), firewall, settings.Firewall, store, Log)
            {
                Reputation = reputation,
            };
            var running = new RunningSettings(sources, settings, sensor, Log);
            using var stop = new ManualResetEvent(false);
            using var hangUp = new AutoResetEvent(false);
            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
            using PosixSignalRegistration sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; hangUp.Set(); });
            // Before the start, so that nothing the sensor does is missing from it.
            events = settings.EventLog.Enabled ? new EventLog(settings.EventLog, sensor.Feed, Log) : null;
            notifier = settings.Notify.Enabled ? new Notifier(settings.Notify, Notifier.Channels(settings.Notify), sensor.Feed, Log) : null;
            if (dashboard)
            {
                // Before the sensor: its start-up compiles hundreds of methods, which would
                // otherwise compete with the first scanners for the CPUs (docs/performance.md).
                webStore = SqliteStore.Open(dataDirectory);
                var context = new DashboardContext(sensor, webStore, settings.Dashboard, Log) { Settings = running, Notifier = notifier, ReportsDirectory = reportsDirectory };
                web = Dashboard.Build(context);
                web.StartAsync().GetAwaiter().GetResult();
                AnnounceDashboard(web, context, Log);
            }
            sensor.Start();
            if (settings.Reports.Enabled)
            {
                reports = new DailyReports(settings.Reports, settings.Notify.Email, store, reportsDirectory, () => Health(sensor), Log);
                reports.Start();
            }
            if (settings.Blocklist.Enabled)
            {
                blocklist = new BlocklistImport(settings.Blocklist, settings.AbuseIpDb, sensor.Preempt, Log);
                blocklist.Start();
            }
            Log($"RUNNING with {firewall.Name}, data in {store.Path}, {allowlist.Entries.Count()} allowlist entries, reputation {(reputation is null ? $"off (no {AbuseIpDbOptions.Section}:{nameof(AbuseIpDbOptions.ApiKey)})" : $"from {settings.AbuseIpDb.BaseUrl}")}");
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
        catch (IOException e) when (web is not null)
        {
            Console.Error.WriteLine($"portsentinel: the dashboard cannot listen on {settings.Dashboard.Urls}: {e.Message}. Choose another address with --urls, or run without it: --no-dashboard.");
            return ExitCodes.BadInput;
        }
        finally
        {
            if (web is not null)
            {
                web.StopAsync().GetAwaiter().GetResult();
                ((IDisposable)web).Dispose();
            }
            webStore?.Dispose();
            blocklist?.Dispose();
            reports?.Dispose();
            sensor?.Dispose();
            events?.Dispose();
            notifier?.Dispose();
            reputation?.Dispose();
            store?.Dispose();
            firewall?.Dispose();
        }
    }

    /// <summary>Says where the dashboard is, warns when it is reachable from the network without TLS, and prints the setup token while no account exists.</summary>
    private static void AnnounceDashboard(WebApplication web, DashboardContext context, SensorLog log)
    {
        string[] urls = [.. web.Urls];
        log($"DASHBOARD on {string.Join(", ", urls)}");
        foreach (Uri uri in urls.Select(u => new Uri(u)).Where(u => u.Scheme == "http" && !u.IsLoopback))
        {
            log($"WARNING the dashboard on {uri} is reachable from the network without TLS: passwords and sessions cross it in clear. Serve https with {DashboardOptions.Section}:{nameof(DashboardOptions.CertificateFile)}, or keep it on 127.0.0.1.");
        }
        if (context.OpenSetup() is { } token)
        {
            log($"SETUP no account yet: open {urls[0].TrimEnd('/')}/setup.html#{token} to create the first admin (this token works once, in this run), or run: portsentinel users add NAME --role admin");
        }
    }

    /// <summary>The capture's figures for the daily report.</summary>
    private static ActivityReport.SensorHealth Health(Sensor sensor)
    {
        SensorStatistics stats = sensor.Statistics();
        return new ActivityReport.SensorHealth(sensor.FirewallName, (DateTimeOffset.UtcNow - stats.Started).TotalSeconds,
            stats.Interfaces.Sum(i => i.Received), stats.Interfaces.Sum(i => i.Dropped + i.InterfaceDropped), stats.FirewallErrors);
    }

    /// <summary>Every interface that is up, but loopback: where run captures when none is named.</summary>
    internal static string[] DefaultInterfaces() =>
        [.. NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .Select(i => i.Name)];
}
