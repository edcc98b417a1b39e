using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PortSentinel.Decide;
using PortSentinel.Intel;
using PortSentinel.Record;

namespace PortSentinel.Notify;

/// <summary>
/// Posts each digest as JSON: PortSentinel's own (<c>generic</c>), or the message formats of
/// Slack (<c>{"text"}</c>), Discord (<c>{"content"}</c>, 2,000 characters at most) and Microsoft
/// Teams (a MessageCard). An answer other than 2xx is a failure.
/// </summary>
public sealed class WebhookChannel(WebhookOptions options, TimeSpan timeout) : INotifyChannel
{
    private readonly HttpClient _http = new() { Timeout = timeout };

    // The path of a webhook address is its secret (Slack, Discord, Teams): only the host is shown.
    public string Name { get; } = $"webhook {options.Format} {new Uri(options.Url).Host}";

    public Severity MinSeverity => options.MinSeverity;

    public async Task SendAsync(Digest digest, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(digest);
        using HttpResponseMessage response = await _http.PostAsJsonAsync(options.Url, Body(options.Format, digest), cancellation).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{Name} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }

    public static JsonObject Body(string format, Digest digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        string text = $"{digest.Subject}\n{digest.Text}";
        return format switch
        {
            "slack" => new JsonObject { ["text"] = text },
            "discord" => new JsonObject { ["content"] = text.Length <= 2000 ? text : text[..1997] + "..." },
            "teams" => new JsonObject
            {
                ["@type"] = "MessageCard",
                ["@context"] = "https://schema.org/extensions",
                ["summary"] = digest.Subject,
                ["themeColor"] = digest.BySeverity.ContainsKey("critical") ? "B00020" : "E07000",
                ["title"] = digest.Subject,
                ["text"] = digest.Text.Replace("\n", "<br>", StringComparison.Ordinal),
            },
            _ => new JsonObject
            {
                ["subject"] = digest.Subject,
                ["count"] = digest.Count,
                ["bySeverity"] = new JsonObject([.. digest.BySeverity.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]),
                ["from"] = digest.From,
                ["to"] = digest.To,
                ["alerts"] = new JsonArray([.. digest.Listed.Select(a => (JsonNode?)Alert(a, digest.ReputationOf(a)))]),
            },
        };
    }

    /// <summary>An alert as the generic format gives it: the dashboard's fields, and <c>reputation</c> (null when not known).</summary>
    private static JsonObject Alert(AlertRecord alert, Reputation? reputation)
    {
        JsonObject node = System.Text.Json.JsonSerializer.SerializeToNode(alert, _json)!.AsObject();
        node["reputation"] = System.Text.Json.JsonSerializer.SerializeToNode(reputation, _json);
        return node;
    }

    private static readonly System.Text.Json.JsonSerializerOptions _json = new(System.Text.Json.JsonSerializerDefaults.Web);

    public void Dispose() => _http.Dispose();
}
