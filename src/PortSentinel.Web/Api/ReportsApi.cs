using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PortSentinel.Report;
using PortSentinel.Web.Accounts;

namespace PortSentinel.Web.Api;

/// <summary>The daily reports the sensor keeps: their list, and each as HTML or JSON.</summary>
public static class ReportsApi
{
    public sealed record ReportFile(string Name, DateTimeOffset Written, long Bytes);

    public static void MapReports(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/api/v1/reports").RequireAuthorization(Authentication.Viewer);
        group.MapGet("/", List);
        group.MapGet("/{name}", One);
    }

    private static IResult List(DashboardContext dashboard) =>
        Results.Ok(dashboard.ReportsDirectory is { } directory && Directory.Exists(directory)
            ? Directory.GetFiles(directory).Select(f => new FileInfo(f)).Where(f => DailyReports.FileName().IsMatch(f.Name))
                .OrderByDescending(f => f.Name, StringComparer.Ordinal).Select(f => new ReportFile(f.Name, f.LastWriteTimeUtc, f.Length)).ToList()
            : []);

    private static IResult One(string name, HttpContext http, DashboardContext dashboard)
    {
        // The name is checked whole against the pattern: no path can be smuggled in.
        if (dashboard.ReportsDirectory is not { } directory || !DailyReports.FileName().IsMatch(name) || !File.Exists(Path.Combine(directory, name)))
        {
            return Guards.NotFound($"there is no report {name}; GET /api/v1/reports lists them.");
        }
        if (name.EndsWith(".json", StringComparison.Ordinal))
        {
            return Results.File(Path.Combine(directory, name), "application/json");
        }
        // The report styles itself inline and runs nothing: allow exactly that.
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";
        return Results.File(Path.Combine(directory, name), "text/html; charset=utf-8");
    }
}
