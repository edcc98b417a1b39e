using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PortSentinel.Record;
using PortSentinel.Web.Accounts;

namespace PortSentinel.Web.Api;

/// <summary>Admins only: accounts, API tokens and the audit log.</summary>
public static class UsersApi
{
    public sealed record UserBody(string Name, string Role, DateTimeOffset Created, DateTimeOffset? LockedUntil);

    public sealed record NewUser(string? Name, string? Role, string? Password);

    public sealed record UserChange(string? Role, string? Password);

    public sealed record NewToken(string? Name, string? Role);

    /// <summary>The token itself appears here once and nowhere else.</summary>
    public sealed record CreatedToken(long Id, string Name, string Role, string Token);

    public sealed record AuditPage(IReadOnlyList<AuditRecord> Items, long Total, int Page, int PageSize);

    public static void MapUsers(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder users = app.MapGroup("/api/v1/users").RequireAuthorization(Authentication.Admin).RequireCsrf();
        users.MapGet("/", (DashboardContext d) => Results.Ok(d.Store.Users().Select(u => new UserBody(u.Name, u.Role, u.Created, u.LockedUntil)).ToList()));
        users.MapPost("/", AddUser);
        users.MapPatch("/{name}", ChangeUser);
        users.MapDelete("/{name}", RemoveUser);

        RouteGroupBuilder tokens = app.MapGroup("/api/v1/tokens").RequireAuthorization(Authentication.Admin).RequireCsrf();
        tokens.MapGet("/", (DashboardContext d) => Results.Ok(d.Store.Tokens()));
        tokens.MapPost("/", AddToken);
        tokens.MapDelete("/{id:long}", RevokeToken);

        app.MapGet("/api/v1/audit", Audit).RequireAuthorization(Authentication.Admin);
    }

    private static IResult AddUser(NewUser user, HttpContext http, DashboardContext dashboard)
    {
        DateTimeOffset now = dashboard.Time.GetUtcNow();
        if (Passwords.AddUser(dashboard.Store, user.Name ?? "", user.Role ?? "", user.Password ?? "", now) is { } problem)
        {
            return problem.Contains("exists already", StringComparison.Ordinal) ? Guards.Error(StatusCodes.Status409Conflict, problem) : Guards.BadRequest(problem);
        }
        dashboard.Store.Audit(now, http.Actor(), "user.add", user.Name!, $"role {user.Role}", http.Remote());
        return Results.Created($"/api/v1/users/{user.Name}", new UserBody(user.Name!, user.Role!, now, null));
    }

    /// <summary>A new role, a new password (which also unlocks the account), or both.</summary>
    private static IResult ChangeUser(string name, UserChange change, HttpContext http, DashboardContext dashboard)
    {
        if (dashboard.Store.User(name) is not { } user)
        {
            return Guards.NotFound($"there is no user called {name}.");
        }
        if (change.Role is null && change.Password is null)
        {
            return Guards.BadRequest("give \"role\", \"password\" or both.");
        }
        if (change.Role is not null && !Roles.IsKnown(change.Role))
        {
            return Guards.BadRequest($"the role \"{change.Role}\" is unknown; give {Roles.Admin} or {Roles.Viewer}.");
        }
        if (change.Role == Roles.Viewer && user.Role == Roles.Admin && dashboard.Store.Users().Count(u => u.Role == Roles.Admin) == 1)
        {
            return Guards.Error(StatusCodes.Status409Conflict, $"{user.Name} is the last admin; make another admin first.");
        }
        if (change.Password is not null && Passwords.CheckPassword(user.Name, change.Password) is { } problem)
        {
            return Guards.BadRequest(problem);
        }
        if (change.Password is not null)
        {
            Passwords.SetPassword(dashboard.Store, user.Name, change.Password);
        }
        if (change.Role is not null)
        {
            dashboard.Store.SetRole(user.Name, change.Role);
        }
        string what = string.Join(", ", new[] { change.Role is null ? null : $"role {change.Role}", change.Password is null ? null : "new password" }.OfType<string>());
        dashboard.Store.Audit(dashboard.Time.GetUtcNow(), http.Actor(), "user.change", user.Name, what, http.Remote());
        return Results.NoContent();
    }

    private static IResult RemoveUser(string name, HttpContext http, DashboardContext dashboard)
    {
        if (Passwords.RemoveUser(dashboard.Store, name) is { } problem)
        {
            return problem.StartsWith("there is no", StringComparison.Ordinal) ? Guards.NotFound(problem) : Guards.Error(StatusCodes.Status409Conflict, problem);
        }
        dashboard.Store.Audit(dashboard.Time.GetUtcNow(), http.Actor(), "user.remove", name, "", http.Remote());
        return Results.NoContent();
    }

    private static IResult AddToken(NewToken request, HttpContext http, DashboardContext dashboard)
    {
        if (request.Name is not { Length: > 0 and <= 64 } name || name.Any(char.IsControl))
        {
            return Guards.BadRequest("\"name\" must be 1 to 64 characters without control characters: say what the token is for.");
        }
        string role = request.Role ?? Roles.Viewer;
        if (!Roles.IsKnown(role))
        {
            return Guards.BadRequest($"the role \"{role}\" is unknown; give {Roles.Admin} or {Roles.Viewer}.");
        }
        string token = Passwords.NewToken();
        DateTimeOffset now = dashboard.Time.GetUtcNow();
        long id = dashboard.Store.AddToken(name, role, Passwords.TokenHash(token), http.Actor(), now);
        dashboard.Store.Audit(now, http.Actor(), "token.add", name, $"id {id}, role {role}", http.Remote());
        return Results.Created($"/api/v1/tokens/{id}", new CreatedToken(id, name, role, token));
    }

    private static IResult RevokeToken(long id, HttpContext http, DashboardContext dashboard)
    {
        DateTimeOffset now = dashboard.Time.GetUtcNow();
        if (!dashboard.Store.RevokeToken(id, now))
        {
            return Guards.NotFound($"there is no token {id} in use.");
        }
        dashboard.Store.Audit(now, http.Actor(), "token.revoke", id.ToString(CultureInfo.InvariantCulture), "", http.Remote());
        return Results.NoContent();
    }

    private static IResult Audit(HttpRequest request, DashboardContext dashboard)
    {
        if (!Guards.TryPage(request.Query, out int page, out int size, out string? error))
        {
            return Guards.BadRequest(error);
        }
        var (items, total) = dashboard.Store.AuditLog((page - 1) * size, size);
        return Results.Ok(new AuditPage(items, total, page, size));
    }
}
