using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using PortSentinel.Web.Accounts;

namespace PortSentinel.Web.Api;

/// <summary>What guards the API besides roles: CSRF tokens on every change a browser session makes, and a rate limit on logins.</summary>
public static class Guards
{
    public const string CsrfHeader = "X-CSRF-TOKEN";
    public const string LoginLimit = "login";

    public static IServiceCollection AddDashboardGuards(this IServiceCollection services, DashboardOptions options)
    {
        services.AddAntiforgery(o =>
        {
            o.HeaderName = CsrfHeader;
            o.Cookie.Name = "portsentinel-csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddRateLimiter(o =>
        {
            o.AddPolicy(LoginLimit, context => RateLimitPartition.GetFixedWindowLimiter(context.Remote(), _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = options.LoginsPerMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            }));
            o.OnRejected = (context, cancel) =>
            {
                context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.HttpContext.Response.Headers.RetryAfter = "60";
                return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(
                    new ErrorBody($"too many login attempts from {context.HttpContext.Remote()}; wait a minute ({DashboardOptions.Section}:{nameof(DashboardOptions.LoginsPerMinute)} is {options.LoginsPerMinute})."), cancel));
            };
        });
        return services;
    }

    /// <summary>
    /// Refuses a state-changing request from a browser session without a valid CSRF token (sent
    /// as the <see cref="CsrfHeader"/> header, as GET /api/v1/session gives it). Requests with an
    /// API token need none: a browser never adds that header by itself.
    /// </summary>
    public static TBuilder RequireCsrf<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (invocation, next) =>
        {
            HttpContext http = invocation.HttpContext;
            if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method) && !http.ByToken())
            {
                try
                {
                    await http.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(http).ConfigureAwait(false);
                }
                catch (AntiforgeryValidationException)
                {
                    return Error(StatusCodes.Status400BadRequest, $"the CSRF token is missing or invalid: send the one GET /api/v1/session gives, in the {CsrfHeader} header.");
                }
            }
            return await next(invocation).ConfigureAwait(false);
        });

    public const int MaxPageSize = 500;

    /// <summary>Reads page (from 1) and pageSize (1 to <see cref="MaxPageSize"/>, default 50) from the query string.</summary>
    public static bool TryPage(IQueryCollection query, out int page, out int size, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(query);
        static bool Read(string? text, int fallback, int max, out int value) =>
            string.IsNullOrEmpty(text) ? (value = fallback) > 0 : int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value) && value >= 1 && value <= max;
        bool ok = Read(query["page"], 1, 1_000_000, out page) & Read(query["pageSize"], 50, MaxPageSize, out size);
        error = ok ? null : $"page must be 1 to 1000000 and pageSize 1 to {MaxPageSize} (given: page \"{query["page"]}\", pageSize \"{query["pageSize"]}\").";
        return ok;
    }

    public static IResult Error(int status, string message) => Results.Json(new ErrorBody(message), statusCode: status);

    public static IResult BadRequest(string message) => Error(StatusCodes.Status400BadRequest, message);

    public static IResult NotFound(string message) => Error(StatusCodes.Status404NotFound, message);
}
