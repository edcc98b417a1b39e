using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PortSentinel.Record;

namespace PortSentinel.Web.Accounts;

/// <summary>
/// Who is calling: a browser session (cookie: HttpOnly, SameSite=Strict, Secure under HTTPS, ended
/// when the account's password changes or the account goes) or a script with an API token
/// (<c>Authorization: Bearer pst_…</c>). Two policies: <see cref="Viewer"/> (any account) and
/// <see cref="Admin"/>.
/// </summary>
public static class Authentication
{
    public const string Viewer = "viewer";
    public const string Admin = "admin";

    private const string Selector = "session-or-token";
    private const string Token = "token";
    private const string StampClaim = "portsentinel:stamp";
    public const string CookieName = "portsentinel";

    public static IServiceCollection AddDashboardAuthentication(this IServiceCollection services, DashboardOptions options)
    {
        services.AddAuthentication(Selector)
            .AddPolicyScheme(Selector, "session or API token", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? Token : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, TokenHandler>(Token, null)
            .AddCookie(o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(options.SessionHours);
                o.SlidingExpiration = true;
                o.LoginPath = "/login.html";
                // The API answers 401 and 403; only pages are sent to the login page.
                o.Events.OnRedirectToLogin = context => Answer(context, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => Answer(context, StatusCodes.Status403Forbidden);
                o.Events.OnValidatePrincipal = Revalidate;
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(Viewer, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin, Roles.Viewer))
            .AddPolicy(Admin, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin));
        return services;
    }

    private static Task Answer(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments("/api") || context.Request.Path.StartsWithSegments("/metrics"))
        {
            context.Response.StatusCode = status;
            return context.Response.WriteAsJsonAsync(new ErrorBody(status == 401 ? "log in first, or send an API token as Authorization: Bearer …" : "your role does not allow this; an admin can."));
        }
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    /// <summary>A session lasts only as long as its account, with the same password and role.</summary>
    private static async Task Revalidate(CookieValidatePrincipalContext context)
    {
        DashboardContext dashboard = context.HttpContext.RequestServices.GetRequiredService<DashboardContext>();
        ClaimsPrincipal? principal = context.Principal;
        UserRecord? user = principal?.Identity?.Name is { } name ? dashboard.Store.User(name) : null;
        if (principal is null || user is null || user.Stamp != principal.FindFirstValue(StampClaim) || !principal.IsInRole(user.Role))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
        }
    }

    /// <summary>The session's identity for <paramref name="user"/>.</summary>
    public static ClaimsPrincipal Principal(UserRecord user, string scheme = CookieAuthenticationDefaults.AuthenticationScheme)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, user.Name), new Claim(ClaimTypes.Role, user.Role), new Claim(StampClaim, user.Stamp)], scheme));
    }

    /// <summary>How the audit log names the caller: user:NAME or token:NAME.</summary>
    public static string Actor(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string name = context.User.Identity?.Name ?? "anonymous";
        return context.User.Identity?.AuthenticationType == Token ? $"token:{name}" : $"user:{name}";
    }

    /// <summary>True when the caller came with an API token, which needs no CSRF token: a browser never sends one by itself.</summary>
    public static bool ByToken(this HttpContext context) => context?.User.Identity?.AuthenticationType == Token;

    public static string Remote(this HttpContext context) => context?.Connection.RemoteIpAddress?.ToString() ?? "local";

    private sealed class TokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, DashboardContext dashboard)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            string header = Request.Headers.Authorization.ToString();
            string token = header["Bearer ".Length..].Trim();
            if (!token.StartsWith(Passwords.TokenPrefix, StringComparison.Ordinal)
                || dashboard.Store.UseToken(Passwords.TokenHash(token), dashboard.Time.GetUtcNow()) is not { } found)
            {
                return Task.FromResult(AuthenticateResult.Fail("unknown or revoked API token"));
            }
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, found.Name), new Claim(ClaimTypes.Role, found.Role)], Token);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Token)));
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers.WWWAuthenticate = "Bearer";
            return Response.WriteAsJsonAsync(new ErrorBody("the API token is unknown or revoked; an admin can create one on the Users page."));
        }

        protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
        {
            Response.StatusCode = StatusCodes.Status403Forbidden;
            return Response.WriteAsJsonAsync(new ErrorBody("this token's role does not allow this; an admin token can."));
        }
    }
}

/// <summary>Every error the API gives: one message that names the problem and the fix.</summary>
public sealed record ErrorBody(string Error);
