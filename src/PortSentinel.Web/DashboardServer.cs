using Microsoft.AspNetCore.Builder;
using PortSentinel.Common;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;

namespace PortSentinel.Web;

/// <summary>
/// The dashboard served beside a running sensor, with its own connection to the database: started
/// before the sensor (whose start-up compiles hundreds of methods that would otherwise compete
/// with the first scanners for the CPUs; docs/performance.md), stopped before it.
/// </summary>
public sealed class DashboardServer : IDisposable
{
    private readonly IStore _store;
    private WebApplication? _web;

    private DashboardServer(IStore store) => _store = store;

    /// <summary>Starts listening and says where; throws <see cref="IOException"/> when it cannot listen there.</summary>
    public static DashboardServer Start(SensorHost host, DashboardOptions options, ISettingsControl settings, SensorLog log)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(log);
        var server = new DashboardServer(host.OpenStore());
        try
        {
            var context = new DashboardContext(host.Sensor, server._store, host.DataDirectory, options, log) { Settings = settings, Notifier = host.Notifier, ReportsDirectory = host.ReportsDirectory };
            server._web = Dashboard.Build(context);
            server._web.StartAsync().GetAwaiter().GetResult();
            Announce(server._web, context, log);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_web is not null)
        {
            _web.StopAsync().GetAwaiter().GetResult();
            ((IDisposable)_web).Dispose();
        }
        _store.Dispose();
    }

    /// <summary>Says where the dashboard is, warns when it is reachable from the network without TLS, and prints the setup token while no account exists.</summary>
    private static void Announce(WebApplication web, DashboardContext context, SensorLog log)
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
}
