using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PortSentinel.Web.Accounts;

namespace PortSentinel.Web.Api;

/// <summary>Logging in and out, the first admin through the setup token, and one's own password.</summary>
public static class SessionApi
{
    public sealed record Login(string? Name, string? Password);

    public sealed record Setup(string? Token, string? Name, string? Password);

    public sealed record PasswordChange(string? Current, string? Password);

    /// <summary>Who is logged in (null: nobody), the CSRF token for the next change, and whether the first admin is still to be made.</summary>
    public sealed record SessionBody(string? User, string? Role, string Csrf, bool Setup);

    public static void MapSession(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/api/v1/session").RequireCsrf();
        group.MapGet("/", Current);
        group.MapPost("/", LogIn).RequireRateLimiting(Guards.LoginLimit);
        group.MapPost("/logout", (Delegate)LogOut).RequireAuthorization(Authentication.Viewer);
        group.MapPut("/password", ChangePassword).RequireAuthorization(Authentication.Viewer);
        app.MapPost("/api/v1/setup", FirstAdmin).RequireCsrf().RequireRateLimiting(Guards.LoginLimit);
    }

    private static SessionBody Body(HttpContext http, DashboardContext dashboard, IAntiforgery antiforgery)
    {
        string? name = http.User.Identity?.IsAuthenticated == true ? http.User.Identity.Name : null;
        string? role = name is null ? null : http.User.IsInRole(Roles.Admin) ? Roles.Admin : Roles.Viewer;
        return new SessionBody(name, role, antiforgery.GetAndStoreTokens(http).RequestToken!, dashboard.Store.UserCount() == 0);
    }

    private static IResult Current(HttpContext http, DashboardContext dashboard, IAntiforgery antiforgery) => Results.Ok(Body(http, dashboard, antiforgery));

    private static async Task<IResult> LogIn(Login login, HttpContext http, DashboardContext dashboard, IAntiforgery antiforgery)
    {
        if (string.IsNullOrEmpty(login.Name) || string.IsNullOrEmpty(login.Password))
        {
            return Guards.BadRequest("give \"name\" and \"password\".");
        }
        DateTimeOffset now = dashboard.Time.GetUtcNow();
        Record.UserRecord? user = dashboard.Store.User(login.Name);
        // Admitted and counted before the (slow) password check, atomically: parallel attempts
        // cannot all get past the lock before any of them is counted.
        Record.LoginAttempt attempt = user is null
            ? new Record.LoginAttempt(true, null)
            : dashboard.Store.BeginLogin(user.Name, dashboard.Options.LockoutFailures, TimeSpan.FromMinutes(dashboard.Options.LockoutMinutes), now);
        if (!attempt.Admitted)
        {
            if (attempt.LockedUntil is not { } lockedUntil)
            {
                user = null; // removed meanwhile: a wrong name, after the same work
            }
            else
            {
                return Guards.Error(StatusCodes.Status423Locked, $"the account {user!.Name} is locked until {lockedUntil:yyyy-MM-dd HH:mm} UTC after failed logins; wait, or have an admin set a new password.");
            }
        }
        if (!Passwords.Matches(user, login.Password))
        {
            if (user is not null && attempt.LockedUntil is { } until)
            {
                dashboard.Store.Audit(now, $"user:{user.Name}", "session.lockout", user.Name, $"{dashboard.Options.LockoutFailures} failed logins, locked until {until:u}", http.Remote());
                dashboard.Log($"WARNING dashboard account {user.Name} locked until {until:u} after {dashboard.Options.LockoutFailures} failed logins, the last from {http.Remote()}");
            }
            return Guards.Error(StatusCodes.Status401Unauthorized, "wrong name or password.");
        }
        dashboard.Store.LoginSucceeded(user!.Name);
        var principal = Authentication.Principal(user);
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal).ConfigureAwait(false);
        http.User = principal; // the new CSRF token belongs to the session, not to the anonymous caller
        dashboard.Store.Audit(now, $"user:{user.Name}", "session.login", user.Name, "", http.Remote());
        return Results.Ok(Body(http, dashboard, antiforgery));
    }

    private static async Task<IResult> LogOut(HttpContext http)
    {
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
        return Results.NoContent();
    }

    private static IResult ChangePassword(PasswordChange change, HttpContext http, DashboardContext dashboard)
    {
        if (http.ByToken())
        {
            return Guards.Error(StatusCodes.Status403Forbidden, "an API token has no password; log in as the user.");
        }
        string name = http.User.Identity!.Name!;
        if (change.Current is null || !Passwords.Matches(dashboard.Store.User(name), change.Current))
        {
            return Guards.BadRequest("\"current\" is not your current password.");
        }
        if (Passwords.SetPassword(dashboard.Store, name, change.Password ?? "") is { } problem)
        {
            return Guards.BadRequest(problem);
        }
        dashboard.Store.Audit(dashboard.Time.GetUtcNow(), http.Actor(), "user.password", name, "own password", http.Remote());
        return Results.NoContent(); // the session ends with the old password: log in again
    }

    private static IResult FirstAdmin(Setup setup, HttpContext http, DashboardContext dashboard)
    {
        if (string.IsNullOrEmpty(setup.Name) || string.IsNullOrEmpty(setup.Password))
        {
            return Guards.BadRequest("give \"token\", \"name\" and \"password\".");
        }
        if ((Passwords.CheckName(setup.Name) ?? Passwords.CheckPassword(setup.Name, setup.Password)) is { } problem)
        {
            return Guards.BadRequest(problem);
        }
        if (!dashboard.SpendSetupToken(setup.Token))
        {
            return Guards.Error(StatusCodes.Status403Forbidden, "the setup token is wrong or spent; it is printed in the log at start while no account exists, or use: portsentinel users add NAME --role admin.");
        }
        DateTimeOffset now = dashboard.Time.GetUtcNow();
        if (Passwords.AddUser(dashboard.Store, setup.Name, Roles.Admin, setup.Password, now) is { } refused)
        {
            return Guards.BadRequest(refused);
        }
        dashboard.Store.Audit(now, "setup-token", "user.add", setup.Name, "first admin", http.Remote());
        dashboard.Log($"SETUP first admin {setup.Name} created from {http.Remote()}; the setup token is spent");
        return Results.Created("/api/v1/users/" + setup.Name, new { name = setup.Name, role = Roles.Admin });
    }
}
