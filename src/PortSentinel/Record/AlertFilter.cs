using System.Text;

namespace PortSentinel.Record;

/// <summary>
/// The WHERE clause of an <see cref="AlertQuery"/>, in the SQL that SQLite and PostgreSQL both
/// read, with named parameters (<c>@from</c>, …) that each store binds in its own types.
/// </summary>
internal static class AlertFilter
{
    /// <summary>The time an alert is listed and filtered by: when it was raised, else (recorded at its end only) its last probe.</summary>
    public const string AlertTime = "coalesce(raised, last_seen)";

    /// <summary>" WHERE …" (empty when nothing is filtered); <paramref name="bind"/> is given each parameter, times as they are.</summary>
    public static string Where(AlertQuery q, Action<string, object> bind)
    {
        ArgumentNullException.ThrowIfNull(q);
        var where = new StringBuilder();
        void And(string condition, string? name = null, object? value = null)
        {
            where.Append(where.Length == 0 ? " WHERE " : " AND ").Append(condition);
            if (name is not null)
            {
                bind(name, value!);
            }
        }
        if (q.From is { } from)
        {
            And($"{AlertTime} >= @from", "@from", from);
        }
        if (q.To is { } to)
        {
            And($"{AlertTime} < @to", "@to", to);
        }
        if (q.Source is { } source)
        {
            And("source = @source", "@source", source);
        }
        if (q.Kind is { } kind)
        {
            And("(',' || kinds || ',') LIKE @kind", "@kind", $"%,{kind},%");
        }
        if (q.Severity is { } severity)
        {
            And("severity = @severity", "@severity", severity);
        }
        if (q.Blocked is { } blocked)
        {
            And(blocked ? "action IN ('block', 'hold')" : "(action IS NULL OR action NOT IN ('block', 'hold'))");
        }
        if (!string.IsNullOrWhiteSpace(q.Text))
        {
            string like = "%" + q.Text.Trim().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
            And("(source LIKE @text ESCAPE '\\' OR kinds LIKE @text ESCAPE '\\' OR port_ranges LIKE @text ESCAPE '\\' OR coalesce(reason, '') LIKE @text ESCAPE '\\')", "@text", like);
        }
        return where.ToString();
    }
}
