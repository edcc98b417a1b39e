using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PortSentinel.Decode;
using PortSentinel.Record;
using PortSentinel.Respond;
using PortSentinel.Web.Accounts;

namespace PortSentinel.Web.Api;

/// <summary>Bans in force and their history for everyone; manual block and unblock for admins, through the sensor that owns the firewall.</summary>
public static class BansApi
{
    /// <summary>A ban as the API gives it; <c>Expires</c> null: until lifted by hand; <c>Hold</c>: the short hold of a source not verified at its address, no offence.</summary>
    public sealed record BanBody(string Network, string Reason, DateTimeOffset Created, DateTimeOffset? Expires, long? RemainingSeconds, int Offence, DateTimeOffset? Lifted, string? LiftedBy, bool Active, bool Hold)
    {
        public static BanBody From(BanRecord ban, DateTimeOffset now)
        {
            ArgumentNullException.ThrowIfNull(ban);
            bool active = ban.Lifted is null && (ban.Expires is null || ban.Expires > now);
            long? remaining = active && ban.Expires is { } e ? (long)Math.Ceiling((e - now).TotalSeconds) : null;
            return new BanBody(ban.Network.ToString(), ban.Reason, ban.Created, ban.Expires, remaining, ban.Offence, ban.Lifted, ban.LiftedBy, active, ban.Hold);
        }
    }

    public sealed record BanRequest(string? Address, string? Duration, string? Reason);

    public sealed record HistoryPage(IReadOnlyList<BanBody> Items, long Total, int Page, int PageSize);

    public static void MapBans(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/api/v1/bans").RequireAuthorization(Authentication.Viewer).RequireCsrf();
        group.MapGet("/", Active);
        group.MapGet("/history", History);
        group.MapPost("/", Create).RequireAuthorization(Authentication.Admin);
        group.MapDelete("/{**network}", Delete).RequireAuthorization(Authentication.Admin);
    }

    private static IResult Active(DashboardContext dashboard)
    {
        DateTimeOffset now = dashboard.Time.GetUtcNow();
        return Results.Ok(dashboard.Store.ActiveBans(now).Select(b => BanBody.From(b, now)).ToList());
    }

    private static IResult History(HttpRequest request, DashboardContext dashboard)
    {
        if (!Guards.TryPage(request.Query, out int page, out int size, out string? error))
        {
            return Guards.BadRequest(error);
        }
        DateTimeOffset now = dashboard.Time.GetUtcNow();
        IReadOnlyList<BanRecord> bans = dashboard.Store.BanHistory((page - 1) * size, size);
        return Results.Ok(new HistoryPage([.. bans.Select(b => BanBody.From(b, now))], dashboard.Store.BanCount(), page, size));
    }

    private static async Task<IResult> Create(BanRequest request, HttpContext http, DashboardContext dashboard)
    {
        if (request.Address is null || !NetPrefix.TryParse(request.Address, out NetPrefix? network))
        {
            return Guards.BadRequest($"\"address\" \"{request.Address}\" is not an address or network; give e.g. 203.0.113.7 or 198.51.100.0/24.");
        }
        TimeSpan? length;
        if (request.Duration is null)
        {
            length = dashboard.Sensor.Decider.BanLength(1);
        }
        else if (!ManualBans.TryParseDuration(request.Duration, out length, out string? problem))
        {
            return Guards.BadRequest($"\"duration\" \"{request.Duration}\" {problem}");
        }
        string reason = request.Reason is { Length: > 0 and <= 200 } r ? r : request.Reason is null ? "dashboard" : "";
        if (reason.Length == 0 || reason.Any(char.IsControl))
        {
            return Guards.BadRequest("\"reason\" must be 1 to 200 characters without control characters.");
        }
        var (ban, refusal) = await dashboard.Sensor.Block(network.Value, length, reason, http.Actor()).ConfigureAwait(false);
        if (ban is null)
        {
            return Guards.Error(StatusCodes.Status409Conflict, $"{refusal}");
        }
        string lengthText = length is { } l ? $"for {(long)l.TotalSeconds}s" : "permanently";
        dashboard.Store.Audit(dashboard.Time.GetUtcNow(), http.Actor(), "ban.add", ban.Network.ToString(), $"{lengthText}: {reason}", http.Remote());
        return Results.Created($"/api/v1/bans/{ban.Network}", BanBody.From(ban, dashboard.Time.GetUtcNow()));
    }

    private static async Task<IResult> Delete(string network, HttpContext http, DashboardContext dashboard)
    {
        if (!NetPrefix.TryParse(Uri.UnescapeDataString(network), out NetPrefix? prefix))
        {
            return Guards.BadRequest($"\"{network}\" is not an address or network; give e.g. 203.0.113.7 or 198.51.100.0/24.");
        }
        var (lifted, failures) = await dashboard.Sensor.Unblock([prefix.Value], http.Actor()).ConfigureAwait(false);
        if (failures.Count > 0)
        {
            return Guards.Error(StatusCodes.Status502BadGateway, $"{dashboard.Sensor.FirewallName} refused to lift {prefix}: {failures[0].ReasonLine}");
        }
        dashboard.Store.Audit(dashboard.Time.GetUtcNow(), http.Actor(), "ban.remove", prefix.Value.ToString(), $"{lifted} lifted", http.Remote());
        return lifted > 0 ? Results.NoContent() : Guards.NotFound($"{prefix} has no ban in force (it was lifted from the firewall all the same).");
    }
}
