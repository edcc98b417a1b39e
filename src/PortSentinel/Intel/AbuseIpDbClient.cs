using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using PortSentinel.Decode;

namespace PortSentinel.Intel;

/// <summary>What a check came to: the reputation, or why not, and when to ask again.</summary>
public sealed record CheckResult(Reputation? Reputation, string? Problem, TimeSpan? RetryAfter, int? Remaining);

/// <summary>
/// AbuseIPDB's check endpoint (<c>GET check?ipAddress=…&amp;maxAgeInDays=…</c>, header <c>Key</c>,
/// JSON <c>data.abuseConfidenceScore</c>, …). Never throws for what the network or the server
/// does: a failure is a <see cref="CheckResult.Problem"/> that names it, without the key.
/// </summary>
public sealed class AbuseIpDbClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly AbuseIpDbOptions _options;

    public AbuseIpDbClient(AbuseIpDbOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = new Uri(options.BaseUrl.EndsWith('/') ? options.BaseUrl : options.BaseUrl + "/"),
            Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
        };
        _http.DefaultRequestHeaders.Add("Key", options.ApiKey);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("PortSentinel", "1"));
    }

    public async Task<CheckResult> CheckAsync(NetAddress address, DateTimeOffset now, CancellationToken cancellation)
    {
        string query = $"check?ipAddress={Uri.EscapeDataString(address.ToString())}&maxAgeInDays={_options.MaxAgeInDays.ToString(CultureInfo.InvariantCulture)}";
        try
        {
            using HttpResponseMessage response = await _http.GetAsync(query, cancellation).ConfigureAwait(false);
            int? remaining = Header(response, "X-RateLimit-Remaining") is { } r && int.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out int left) ? left : null;
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                TimeSpan wait = response.Headers.RetryAfter?.Delta
                    ?? (response.Headers.RetryAfter?.Date is { } until ? until - now : (TimeSpan?)null)
                    ?? TimeSpan.FromHours(1);
                return new CheckResult(null, "AbuseIPDB answered 429: the rate limit or daily quota is used up", wait < TimeSpan.Zero ? TimeSpan.Zero : wait, 0);
            }
            if (!response.IsSuccessStatusCode)
            {
                string problem = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                    ? $"AbuseIPDB refused the key ({(int)response.StatusCode}): check {AbuseIpDbOptions.Section}:{nameof(AbuseIpDbOptions.ApiKey)}"
                    : $"AbuseIPDB answered {(int)response.StatusCode} {response.ReasonPhrase}";
                return new CheckResult(null, problem, null, remaining);
            }
            using JsonDocument body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false), cancellationToken: cancellation).ConfigureAwait(false);
            return new CheckResult(Parse(address, body.RootElement, now), null, null, remaining);
        }
        catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return new CheckResult(null, $"AbuseIPDB did not answer within {_options.TimeoutSeconds}s", null, null);
        }
        catch (HttpRequestException e)
        {
            return new CheckResult(null, $"AbuseIPDB cannot be reached: {e.Message}", null, null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return new CheckResult(null, $"AbuseIPDB's answer is not the check endpoint's JSON: {e.Message}", null, null);
        }
    }

    /// <summary>Reports <paramref name="address"/> as a port scanner (<c>POST report</c>, category 14); the problem, or null when it was taken.</summary>
    public async Task<(string? Problem, TimeSpan? RetryAfter)> ReportAsync(NetAddress address, string comment, CancellationToken cancellation)
    {
        using var form = new FormUrlEncodedContent([new("ip", address.ToString()), new("categories", PortScanCategory), new("comment", comment)]);
        try
        {
            using HttpResponseMessage response = await _http.PostAsync("report", form, cancellation).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return ("AbuseIPDB answered 429 to a report (the address was reported in the last 15 minutes, or the quota is used up)", response.Headers.RetryAfter?.Delta);
            }
            return (response.IsSuccessStatusCode ? null : $"AbuseIPDB answered {(int)response.StatusCode} {response.ReasonPhrase} to a report", null);
        }
        catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return ($"AbuseIPDB did not take the report within {_options.TimeoutSeconds}s", null);
        }
        catch (HttpRequestException e)
        {
            return ($"AbuseIPDB cannot be reached: {e.Message}", null);
        }
    }

    /// <summary>
    /// The blacklist (<c>GET blacklist?confidenceMinimum=…&amp;limit=…</c>): the most reported
    /// addresses, or the problem. Addresses that do not parse are left out.
    /// </summary>
    public async Task<(IReadOnlyList<NetPrefix> Networks, string? Problem)> BlacklistAsync(int confidenceMinimum, int limit, CancellationToken cancellation)
    {
        string query = string.Create(CultureInfo.InvariantCulture, $"blacklist?confidenceMinimum={confidenceMinimum}&limit={limit}");
        try
        {
            using HttpResponseMessage response = await _http.GetAsync(query, cancellation).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return ([], $"AbuseIPDB answered {(int)response.StatusCode} {response.ReasonPhrase} to the blacklist request");
            }
            using JsonDocument body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false), cancellationToken: cancellation).ConfigureAwait(false);
            var networks = new List<NetPrefix>();
            foreach (JsonElement item in body.RootElement.GetProperty("data").EnumerateArray())
            {
                if (item.TryGetProperty("ipAddress", out JsonElement ip) && ip.GetString() is { } text && NetPrefix.TryParse(text, out NetPrefix? network))
                {
                    networks.Add(network.Value);
                }
            }
            return (networks, null);
        }
        catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return ([], $"AbuseIPDB did not send the blacklist within {_options.TimeoutSeconds}s");
        }
        catch (HttpRequestException e)
        {
            return ([], $"AbuseIPDB cannot be reached: {e.Message}");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return ([], $"AbuseIPDB's blacklist is not the documented JSON: {e.Message}");
        }
    }

    /// <summary>AbuseIPDB's category 14, "Port Scan".</summary>
    public const string PortScanCategory = "14";

    private static Reputation Parse(NetAddress address, JsonElement root, DateTimeOffset now)
    {
        JsonElement data = root.GetProperty("data");
        string? Text(string name) => data.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        int score = data.GetProperty("abuseConfidenceScore").GetInt32();
        int reports = data.TryGetProperty("totalReports", out JsonElement t) && t.ValueKind == JsonValueKind.Number ? t.GetInt32() : 0;
        DateTimeOffset? last = Text("lastReportedAt") is { } when ? DateTimeOffset.Parse(when, CultureInfo.InvariantCulture) : null;
        return new Reputation(address.ToString(), Math.Clamp(score, 0, 100), Text("countryCode"), Text("isp"), Text("domain"), reports, last, now);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? values.FirstOrDefault() : null;

    public void Dispose() => _http.Dispose();
}
