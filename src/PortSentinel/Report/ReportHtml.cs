using System.Globalization;
using System.Net;
using System.Text;

namespace PortSentinel.Report;

/// <summary>
/// The report as one self-contained HTML page: inline styles and SVG charts, no script and nothing
/// fetched, so that it reads the same in a browser and in a mail client.
/// </summary>
public static class ReportHtml
{
    private static string E(object? value) => WebUtility.HtmlEncode(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");

    public static string Render(ActivityReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>PortSentinel report {report.From:yyyy-MM-dd HH:mm} to {report.To:yyyy-MM-dd HH:mm} UTC</title></head>
            <body style="margin:0;padding:24px;background:#f4f6f8;color:#1d2430;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif">
            <div style="max-width:860px;margin:0 auto">
            <h1 style="font-size:20px;margin:0 0 4px">PortSentinel activity report</h1>
            <p style="margin:0 0 18px;color:#5b6575">{report.From:yyyy-MM-dd HH:mm} to {report.To:yyyy-MM-dd HH:mm} UTC</p>
            """);
        Panel(html, "In short", () =>
        {
            html.Append("<table style=\"border-collapse:collapse\"><tr>");
            foreach (var (label, value) in new[] { ("scans detected", report.Scans), ("blocked", report.Blocked), ("bans made", report.Bans) })
            {
                html.Append(CultureInfo.InvariantCulture, $"<td style=\"padding:0 28px 0 0\"><div style=\"font-size:26px;font-weight:700\">{value:N0}</div><div style=\"color:#5b6575\">{label}</div></td>");
            }
            html.Append("</tr></table>");
        });
        Panel(html, "Scans and bans by hour (UTC)", () => Hours(html, report.ByHour));
        Panel(html, "Scans by kind", () => Bars(html, [.. report.ScansByKind.OrderByDescending(k => k.Value).Select(k => (k.Key, k.Value))], "#2563eb"));
        Panel(html, "Top sources", () => Table(html, ["Source", "Alerts", "Probes", "Last seen", "AbuseIPDB"],
            report.TopSources.Select(s => new[] { s.Address, s.Alerts.ToString("N0", CultureInfo.InvariantCulture), s.Probes.ToString("N0", CultureInfo.InvariantCulture),
                s.Last.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), s.ReputationScore is { } score ? $"{score}/100 {s.Country}" : "not looked up" })));
        Panel(html, "Ports most probed", () => Bars(html, [.. report.TopPorts.Select(p => ($"{p.Protocol}/{p.Number}", p.Scans))], "#d97706"));
        Panel(html, "Health", () =>
        {
            var facts = new List<(string, string)>();
            if (report.Health is { } h)
            {
                facts.Add(("Firewall", h.Firewall));
                facts.Add(("Up for", TimeSpan.FromSeconds(h.UptimeSeconds).ToString(@"d\d\ hh\h\ mm\m", CultureInfo.InvariantCulture)));
                facts.Add(("Packets captured", h.Received.ToString("N0", CultureInfo.InvariantCulture)));
                facts.Add(("Dropped by the kernel", h.Dropped.ToString("N0", CultureInfo.InvariantCulture)));
                facts.Add(("Firewall errors", h.FirewallErrors.ToString("N0", CultureInfo.InvariantCulture)));
            }
            else
            {
                facts.Add(("Capture", "not known: this report was made from the database alone (the sensor's daily report has it)"));
            }
            facts.Add(("Database", $"{report.DatabaseBytes / 1024.0 / 1024.0:0.0} MiB"));
            Table(html, ["", ""], facts.Select(f => new[] { f.Item1, f.Item2 }));
        });
        html.Append("<p style=\"color:#5b6575;font-size:12px\">Made by PortSentinel. The dashboard's Alerts page has every detection with its evidence.</p></div></body></html>\n");
        return html.ToString();
    }

    private static void Panel(StringBuilder html, string title, Action body)
    {
        html.Append(CultureInfo.InvariantCulture, $"<div style=\"background:#fff;border:1px solid #d9dee5;border-radius:8px;padding:14px 16px;margin:0 0 14px\"><h2 style=\"font-size:15px;margin:0 0 10px\">{E(title)}</h2>");
        body();
        html.Append("</div>");
    }

    /// <summary>Scans (blue) and bans (red) per hour as an SVG column chart.</summary>
    private static void Hours(StringBuilder html, IReadOnlyList<ActivityReport.Hour> hours)
    {
        const int width = 820, height = 160, bottom = 20;
        long max = Math.Max(1, hours.Select(h => Math.Max(h.Scans, h.Bans)).DefaultIfEmpty(0).Max());
        double slot = (double)width / Math.Max(1, hours.Count);
        html.Append(CultureInfo.InvariantCulture, $"<svg width=\"100%\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"scans and bans by hour\" style=\"display:block\">");
        for (int i = 0; i < hours.Count; i++)
        {
            ActivityReport.Hour h = hours[i];
            double x = i * slot;
            double scans = (height - bottom) * h.Scans / (double)max, bans = (height - bottom) * h.Bans / (double)max;
            html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x + slot * 0.1:0.#}\" y=\"{height - bottom - scans:0.#}\" width=\"{slot * 0.4:0.#}\" height=\"{scans:0.#}\" fill=\"#2563eb\"><title>{h.Start:HH}:00 {h.Scans} scans</title></rect>");
            html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x + slot * 0.5:0.#}\" y=\"{height - bottom - bans:0.#}\" width=\"{slot * 0.4:0.#}\" height=\"{bans:0.#}\" fill=\"#dc2626\"><title>{h.Start:HH}:00 {h.Bans} bans</title></rect>");
            if (hours.Count <= 48 && i % Math.Max(1, hours.Count / 12) == 0)
            {
                html.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + slot / 2:0.#}\" y=\"{height - 5}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5b6575\">{h.Start:HH}h</text>");
            }
        }
        html.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"12\" font-size=\"10\" fill=\"#5b6575\">{max:N0}</text></svg>");
        html.Append("<div style=\"font-size:12px;color:#5b6575\"><span style=\"color:#2563eb\">■</span> scans <span style=\"color:#dc2626\">■</span> bans</div>");
    }

    /// <summary>Labelled horizontal bars, in an HTML table so that mail clients without SVG show them too.</summary>
    private static void Bars(StringBuilder html, IReadOnlyList<(string Label, long Value)> rows, string colour)
    {
        if (rows.Count == 0)
        {
            html.Append("<p style=\"color:#5b6575;margin:0\">None.</p>");
            return;
        }
        long max = Math.Max(1, rows.Max(r => r.Value));
        html.Append("<table style=\"width:100%;border-collapse:collapse\">");
        foreach (var (label, value) in rows)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td style=\"width:140px;padding:2px 8px 2px 0;white-space:nowrap\">{E(label)}</td><td style=\"padding:2px 0\"><div style=\"background:{colour};height:12px;width:{Math.Max(1, 100 * value / max)}%\"></div></td><td style=\"width:70px;text-align:right;padding-left:8px\">{value:N0}</td></tr>");
        }
        html.Append("</table>");
    }

    private static void Table(StringBuilder html, IReadOnlyList<string> head, IEnumerable<string[]> rows)
    {
        html.Append("<table style=\"width:100%;border-collapse:collapse\">");
        if (head.Any(h => h.Length > 0))
        {
            html.Append("<tr>").Append(string.Concat(head.Select(h => $"<th style=\"text-align:left;padding:4px 8px;border-bottom:1px solid #d9dee5;color:#5b6575;font-size:12px\">{E(h)}</th>"))).Append("</tr>");
        }
        foreach (string[] row in rows)
        {
            html.Append("<tr>").Append(string.Concat(row.Select(c => $"<td style=\"padding:4px 8px;border-bottom:1px solid #eef1f4\">{E(c)}</td>"))).Append("</tr>");
        }
        html.Append("</table>");
    }
}
