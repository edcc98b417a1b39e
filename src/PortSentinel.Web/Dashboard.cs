using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PortSentinel.Common;
using PortSentinel.Web.Accounts;
using PortSentinel.Web.Api;
using PortSentinel.Web.Live;

namespace PortSentinel.Web;

/// <summary>The web dashboard and API, served by Kestrel inside the sensor's process: the table of contents.</summary>
public static class Dashboard
{
    public static WebApplication Build(DashboardContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        builder.Logging.ClearProviders().AddProvider(new LogProvider(context.Log));
        builder.WebHost.UseKestrelHttpsConfiguration().UseUrls(context.Options.Addresses()).ConfigureKestrel(kestrel =>
        {
            if (context.Options.CertificateFile is { } certificate)
            {
                kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = X509Certificate2.CreateFromPemFile(certificate, context.Options.CertificateKeyFile));
            }
        });

        // The sensor's process handles SIGINT, SIGTERM and SIGHUP itself; the web host must not
        // (its console lifetime would also stop on SIGTERM, and cancel a start in progress).
        builder.Services.AddSingleton<IHostLifetime, SensorLifetime>();
        builder.Services.AddSingleton(context);
        builder.Services.AddSingleton<StatsApi.OverviewFigures>();
        builder.Services.AddSingleton<TrafficSampler>().AddHostedService(services => services.GetRequiredService<TrafficSampler>());
        builder.Services.AddDataProtection().SetApplicationName("PortSentinel").PersistKeysToFileSystem(KeyDirectory(context));
        builder.Services.AddDashboardAuthentication(context.Options);
        builder.Services.AddDashboardGuards(context.Options);

        WebApplication app = builder.Build();
        app.Use(SecurityHeaders);
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapSession();
        app.MapAlerts();
        app.MapBans();
        app.MapStats();
        app.MapUsers();
        app.MapSettings();
        app.MapReports();
        app.MapLive();
        return app;
    }

    /// <summary>The keys that sign session cookies and CSRF tokens, in the data directory, readable by the sensor's user only: sessions survive a restart.</summary>
    private static DirectoryInfo KeyDirectory(DashboardContext context)
    {
        var keys = new DirectoryInfo(Path.Combine(context.DataDirectory, "keys"));
        if (!keys.Exists && OperatingSystem.IsLinux())
        {
            keys.Create();
            keys.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        }
        return keys;
    }

    /// <summary>
    /// Only the app's own scripts, styles and connections; no framing; no sniffing; no referrer. Over
    /// HTTPS, HSTS for a year: the browser then never tries plain http to this host name again (on
    /// any port), where a login could be read or a session taken. Not over http, where browsers ignore it
    /// (RFC 6797 §8.1), and without includeSubDomains, which would bind other services of the domain.
    /// (ASP.NET Core's UseHsts is not used: it leaves out localhost and 127.0.0.1.)
    /// </summary>
    private static Task SecurityHeaders(HttpContext http, RequestDelegate next)
    {
        IHeaderDictionary headers = http.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        if (http.Request.IsHttps)
        {
            headers.StrictTransportSecurity = "max-age=31536000";
        }
        return next(http);
    }

    private sealed class SensorLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>The web server's warnings and errors go to the sensor's log; its chatter does not.</summary>
    private sealed class LogProvider(SensorLog log) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(log, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(SensorLog log, string category) : ILogger
        {
            // Keys kept unencrypted at rest is the documented choice (a directory only the sensor's user reads), not news at every start.
            private readonly LogLevel _least = category.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal) ? LogLevel.Error : LogLevel.Warning;

            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= _least;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    log($"{(logLevel >= LogLevel.Error ? "ERROR" : "WARNING")} web {category}: {formatter(state, exception).ReplaceLineEndings(" ")}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message.ReplaceLineEndings(" ")})")}");
                }
            }
        }
    }
}
