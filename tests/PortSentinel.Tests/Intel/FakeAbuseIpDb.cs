using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PortSentinel.Tests.Intel;

/// <summary>
/// A local HTTP server on loopback that answers like AbuseIPDB's documented check endpoint
/// (<c>GET /api/v2/check?ipAddress=…&amp;maxAgeInDays=…</c>, header <c>Key</c>): scores from
/// <see cref="Scores"/>, and, while <see cref="Next"/> holds answers, those first (429 with
/// Retry-After, 5xx, a slow answer).
/// </summary>
public sealed class FakeAbuseIpDb : IAsyncDisposable
{
    public const string Key = "test-key-0123456789abcdef";

    private readonly WebApplication _app;

    public ConcurrentDictionary<string, int> Scores { get; } = new();

    /// <summary>Answers to give before the normal one: a status (429 with Retry-After: 1, or 5xx), or 0 for an answer 3 s late.</summary>
    public ConcurrentQueue<int> Next { get; } = new();

    /// <summary>Every check asked for: ipAddress, maxAgeInDays, the Key header.</summary>
    public ConcurrentQueue<(string Address, string MaxAge, string Key)> Checks { get; } = new();

    /// <summary>Every report taken: ip, categories, comment.</summary>
    public ConcurrentQueue<(string Address, string Categories, string Comment)> Reports { get; } = new();

    /// <summary>The addresses the blacklist endpoint gives, and the query strings it was asked with.</summary>
    public ConcurrentQueue<string> Blacklist { get; } = new();

    public ConcurrentQueue<string> BlacklistQueries { get; } = new();

    public string BaseUrl { get; }

    public FakeAbuseIpDb()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/api/v2/check", (Delegate)Check);
        _app.MapPost("/api/v2/report", (Delegate)Report);
        _app.MapGet("/api/v2/blacklist", (HttpContext http) =>
        {
            if (http.Request.Headers["Key"].ToString() != Key)
            {
                return Results.StatusCode(401);
            }
            BlacklistQueries.Enqueue(http.Request.QueryString.Value ?? "");
            return Results.Json(new
            {
                meta = new { generatedAt = "2026-11-21T00:00:00+00:00" },
                data = Blacklist.Select(a => new { ipAddress = a, countryCode = "NL", abuseConfidenceScore = 100, lastReportedAt = "2026-11-21T00:00:00+00:00" }),
            });
        });
        _app.StartAsync().GetAwaiter().GetResult();
        BaseUrl = _app.Urls.First() + "/api/v2/";
    }

    private async Task<IResult> Check(HttpContext http)
    {
        string address = http.Request.Query["ipAddress"].ToString();
        string key = http.Request.Headers["Key"].ToString();
        Checks.Enqueue((address, http.Request.Query["maxAgeInDays"].ToString(), key));
        if (key != Key)
        {
            return Results.Json(new { errors = new[] { new { detail = "Authentication failed.", status = 401 } } }, statusCode: 401);
        }
        if (Next.TryDequeue(out int answer))
        {
            if (answer == 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(3));
            }
            else if (answer == 429)
            {
                http.Response.Headers.RetryAfter = "1";
                http.Response.Headers["X-RateLimit-Remaining"] = "0";
                return Results.Json(new { errors = new[] { new { detail = "Daily rate limit of 1000 requests exceeded for this endpoint.", status = 429 } } }, statusCode: 429);
            }
            else
            {
                return Results.StatusCode(answer);
            }
        }
        http.Response.Headers["X-RateLimit-Limit"] = "1000";
        http.Response.Headers["X-RateLimit-Remaining"] = "990";
        int score = Scores.GetValueOrDefault(address);
        return Results.Json(new
        {
            data = new
            {
                ipAddress = address,
                isPublic = true,
                ipVersion = address.Contains(':', StringComparison.Ordinal) ? 6 : 4,
                isWhitelisted = false,
                abuseConfidenceScore = score,
                countryCode = "NL",
                usageType = "Data Center/Web Hosting/Transit",
                isp = "Example Hosting B.V.",
                domain = "example.net",
                hostnames = Array.Empty<string>(),
                isTor = false,
                totalReports = score * 3,
                numDistinctUsers = score,
                lastReportedAt = score > 0 ? "2026-11-20T08:15:00+00:00" : null,
            },
        });
    }

    private async Task<IResult> Report(HttpContext http)
    {
        if (http.Request.Headers["Key"].ToString() != Key)
        {
            return Results.Json(new { errors = new[] { new { detail = "Authentication failed.", status = 401 } } }, statusCode: 401);
        }
        IFormCollection form = await http.Request.ReadFormAsync();
        Reports.Enqueue((form["ip"].ToString(), form["categories"].ToString(), form["comment"].ToString()));
        return Results.Json(new { data = new { ipAddress = form["ip"].ToString(), abuseConfidenceScore = 52 } });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
