using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Record;
using PortSentinel.Web.Accounts;

namespace PortSentinel.Web.Api;

/// <summary>
/// Alerts (detections), newest first: filtered and paged as on the Alerts page, one with its
/// evidence and the bans of its source, and the current filter exported as CSV or JSON.
/// </summary>
public static class AlertsApi
{
    /// <summary>At most this many rows in one export; narrow the filter for more.</summary>
    public const int MaxExport = 100_000;

    /// <summary>A page of alerts, with the AbuseIPDB reputation of their sources that were looked up (by source).</summary>
    public sealed record AlertPage(IReadOnlyList<AlertRecord> Items, long Total, int Page, int PageSize, IReadOnlyDictionary<string, Reputation> Reputations);

    public sealed record AlertDetail(AlertRecord Alert, IReadOnlyList<BansApi.BanBody> Bans, Reputation? Reputation);

    public static void MapAlerts(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/api/v1/alerts").RequireAuthorization(Authentication.Viewer);
        group.MapGet("/", List);
        group.MapGet("/export", Export);
        group.MapGet("/{id:long}", One);
    }

    private static IResult List(HttpRequest request, DashboardContext dashboard)
    {
        if (!TryFilter(request.Query, out AlertQuery query, out string? error))
        {
            return Guards.BadRequest(error);
        }
        var (items, total) = dashboard.Store.Alerts(query);
        IReadOnlyDictionary<string, Reputation> reputations = dashboard.Store.Reputations([.. items.Select(a => a.Source).Distinct()]);
        return Results.Ok(new AlertPage(items, total, query.Offset / query.Limit + 1, query.Limit, reputations));
    }

    private static IResult One(long id, DashboardContext dashboard)
    {
        if (dashboard.Store.Alert(id) is not { } alert)
        {
            return Guards.NotFound($"there is no alert {id}.");
        }
        IReadOnlyList<BanRecord> bans = NetPrefix.TryParse(alert.Source, out NetPrefix? source) ? dashboard.Store.BansOf(source.Value) : [];
        DateTimeOffset now = dashboard.Time.GetUtcNow();
        return Results.Ok(new AlertDetail(alert, [.. bans.Select(b => BansApi.BanBody.From(b, now))], dashboard.Store.Reputation(alert.Source)));
    }

    private static IResult Export(HttpRequest request, DashboardContext dashboard)
    {
        string format = request.Query["format"].ToString() is { Length: > 0 } f ? f : "csv";
        if (format is not ("csv" or "json"))
        {
            return Guards.BadRequest($"format \"{format}\" is unknown; give csv or json.");
        }
        if (!TryFilter(request.Query, out AlertQuery query, out string? error, paged: false))
        {
            return Guards.BadRequest(error);
        }
        IReadOnlyList<AlertRecord> alerts = dashboard.Store.Alerts(query with { Offset = 0, Limit = MaxExport }).Page;
        string stamp = dashboard.Time.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        return format == "json"
            ? Results.File(JsonSerializer.SerializeToUtf8Bytes(alerts, JsonSerializerOptions.Web), "application/json", $"portsentinel-alerts-{stamp}.json")
            : Results.File(Encoding.UTF8.GetBytes(Csv(alerts)), "text/csv; charset=utf-8", $"portsentinel-alerts-{stamp}.csv");
    }

    /// <summary>RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled. A field that a spreadsheet would run as a formula gets a leading quote mark.</summary>
    internal static string Csv(IReadOnlyList<AlertRecord> alerts)
    {
        var csv = new StringBuilder("id,raised,ended,source,kinds,severity,action,first_seen,last_seen,targets,ports,port_ranges,probes,trigger,confidence,open,closed,unreachable,unanswered,reason,verified\r\n");
        static string Field(string? value)
        {
            value ??= "";
            if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            {
                value = "'" + value;
            }
            return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
        }
        static string Time(DateTimeOffset? t) => t?.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture) ?? "";
        foreach (AlertRecord a in alerts)
        {
            string[] fields =
            [
                a.Id.ToString(CultureInfo.InvariantCulture), Time(a.Raised), Time(a.Ended), a.Source, string.Join(' ', a.Kinds), a.Severity ?? "", a.Action ?? "",
                Time(a.First), Time(a.Last), a.Targets.ToString(CultureInfo.InvariantCulture), a.Ports.ToString(CultureInfo.InvariantCulture), a.PortRanges,
                a.Probes.ToString(CultureInfo.InvariantCulture), a.Trigger, a.Confidence.ToString("0.####", CultureInfo.InvariantCulture),
                a.Outcomes.Open.ToString(CultureInfo.InvariantCulture), a.Outcomes.Closed.ToString(CultureInfo.InvariantCulture),
                a.Outcomes.Unreachable.ToString(CultureInfo.InvariantCulture), a.Outcomes.Unanswered.ToString(CultureInfo.InvariantCulture), a.Reason ?? "",
                a.Verified ? "true" : "false",
            ];
            csv.AppendJoin(',', fields.Select(Field)).Append("\r\n");
        }
        return csv.ToString();
    }

    /// <summary>Reads the filter from the query string: from, to (ISO 8601), source, kind, severity, blocked (true/false), q, page, pageSize.</summary>
    internal static bool TryFilter(IQueryCollection q, out AlertQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error, bool paged = true)
    {
        string? problem = null;
        string? Text(string key) => q[key].ToString() is { Length: > 0 } v ? v : null;
        DateTimeOffset? Time(string key)
        {
            if (Text(key) is not { } v)
            {
                return null;
            }
            if (DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset t))
            {
                return t;
            }
            problem ??= $"{key} \"{v}\" is not a time; give ISO 8601, e.g. 2026-11-21T09:00:00Z.";
            return null;
        }
        string? kind = Text("kind");
        if (kind is not null && !ScanKindNames.TryParse(kind, out _))
        {
            problem = $"kind \"{kind}\" is unknown; give one of {string.Join(", ", ScanKindNames.All)}.";
        }
        string? severity = Text("severity");
        if (severity is not null && !Enum.TryParse<Severity>(severity, ignoreCase: true, out _))
        {
            problem ??= $"severity \"{severity}\" is unknown; give low, medium, high or critical.";
        }
        bool? blocked = Text("blocked") switch
        {
            null => null,
            "true" => true,
            "false" => false,
            var other => Fail($"blocked \"{other}\" is neither true nor false."),
        };
        bool? Fail(string message)
        {
            problem ??= message;
            return null;
        }
        string? source = Text("source");
        if (source is not null)
        {
            // Written as the store writes it: "2001:DB8::1" finds 2001:db8::1.
            source = NetPrefix.TryParse(source, out NetPrefix? address) && address.Value.IsHost ? address.Value.Address.ToString() : Fail($"source \"{source}\" is not an address; give e.g. 203.0.113.7.")?.ToString();
        }
        if (!Guards.TryPage(q, out int page, out int pageSize, out string? pageError))
        {
            problem ??= pageError;
        }
        query = new AlertQuery
        {
            From = Time("from"),
            To = Time("to"),
            Source = source,
            Kind = kind,
            Severity = severity?.ToLowerInvariant(),
            Blocked = blocked,
            Text = Text("q"),
            Offset = paged ? (page - 1) * pageSize : 0,
            Limit = pageSize,
        };
        error = problem;
        return error is null;
    }
}
