using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PortSentinel.Web.Accounts;

namespace PortSentinel.Web.Api;

/// <summary>The configuration in force for everyone; changes to thresholds, allowlist and ban policy for admins, applied at once.</summary>
public static class SettingsApi
{
    public static void MapSettings(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/api/v1/settings").RequireAuthorization(Authentication.Viewer).RequireCsrf();
        group.MapGet("/", (DashboardContext dashboard) => dashboard.Settings is { } settings ? Results.Ok(settings.View()) : Unavailable());
        group.MapPut("/", Change).RequireAuthorization(Authentication.Admin);
    }

    private static IResult Unavailable() => Guards.NotFound("this sensor was started without a configuration the dashboard can change.");

    private static IResult Change(JsonObject? changes, HttpContext http, DashboardContext dashboard)
    {
        if (dashboard.Settings is not { } settings)
        {
            return Unavailable();
        }
        if (changes is null || changes.Count == 0)
        {
            return Guards.BadRequest("give the settings to change as an object of configuration paths, e.g. {\"Decide:BanSeconds\": 7200, \"Allowlist\": [\"203.0.113.7\"]}; null puts a key back to the file's value.");
        }
        SettingsView view;
        try
        {
            view = settings.Change(changes.ToDictionary(c => c.Key, c => c.Value), http.Actor());
        }
        catch (SettingsRejectedException e)
        {
            return Guards.Error(e.Conflict ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Guards.Error(StatusCodes.Status500InternalServerError, $"the settings could not be saved, so nothing changed: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            return Guards.Error(StatusCodes.Status500InternalServerError, e.Message);
        }
        dashboard.Store.Audit(dashboard.Time.GetUtcNow(), http.Actor(), "settings.change", string.Join(", ", changes.Select(c => c.Key)), changes.ToJsonString(), http.Remote());
        return Results.Ok(view);
    }
}
