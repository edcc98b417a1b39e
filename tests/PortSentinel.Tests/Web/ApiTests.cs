using System.Net;
using System.Text.Json;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Tests.Web;

/// <summary>The REST API's endpoints against the real app on loopback: what they answer, and the clear 4xx that bad input gets.</summary>
public sealed class ApiTests : IAsyncLifetime
{
    private DashboardHost _host = null!;

    public Task InitializeAsync()
    {
        _host = DashboardHost.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static readonly DateTimeOffset _t0 = DateTimeOffset.UtcNow.AddHours(-2);

    private static Detection Scan(string source, ScanKinds kinds, int ports) => Scans.Vertical(source, ports) with
    {
        Kinds = kinds,
        First = _t0,
        Last = _t0.AddSeconds(2),
        Confidence = 0.99,
        Outcomes = new DetectionOutcomes(1, ports - 1, 0, 0, 0),
        Final = false,
    };

    /// <summary>12 alerts a minute apart: from 203.0.113.0–3, tcp-syn (even) or udp (odd), critical every third, blocked every fourth.</summary>
    private List<long> Seed()
    {
        var ids = new List<long>();
        for (int i = 0; i < 12; i++)
        {
            Detection d = Scan($"203.0.113.{i % 4}", i % 2 == 0 ? ScanKinds.TcpSyn | ScanKinds.Vertical : ScanKinds.Udp, 10 + i);
            var decision = new Decision(d, i % 3 == 0 ? Severity.Critical : Severity.Low, i % 4 == 0 ? DecisionAction.Block : DecisionAction.Log, null, 1, $"seeded \"{i}\", with a comma");
            ids.Add(_host.SensorStore.RaiseAlert(d, decision, _t0.AddMinutes(i)));
        }
        return ids;
    }

    [Fact]
    public async Task Alerts_are_listed_newest_first_filtered_and_paged()
    {
        Seed();
        using var viewer = await _host.LogIn("viewer");
        JsonElement page = await viewer.Get("/api/v1/alerts?pageSize=5&page=2").Expect(HttpStatusCode.OK);
        Assert.Equal(12, page.GetProperty("total").GetInt64());
        Assert.Equal(2, page.GetProperty("page").GetInt32());
        Assert.Equal([16, 15, 14, 13, 12], page.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("ports").GetInt32()));

        async Task<long> Total(string query) => (await viewer.Get("/api/v1/alerts?" + query).Expect(HttpStatusCode.OK)).GetProperty("total").GetInt64();
        Assert.Equal(6, await Total("kind=udp"));
        Assert.Equal(4, await Total("severity=critical"));
        Assert.Equal(4, await Total("severity=CRITICAL"));
        Assert.Equal(3, await Total("blocked=true"));
        Assert.Equal(3, await Total("source=203.0.113.1"));
        Assert.Equal(1, await Total("q=seeded%20%2211%22"));
        string from = Uri.EscapeDataString(_t0.AddMinutes(3).ToString("O"));
        string to = Uri.EscapeDataString(_t0.AddMinutes(6).ToString("O"));
        Assert.Equal(3, await Total($"from={from}&to={to}"));
        Assert.Equal(3, await Total("kind=tcp-syn&source=203.0.113.0&blocked=true")); // i = 0, 4, 8
    }

    [Theory]
    [InlineData("kind=tcp", "kind \"tcp\" is unknown")]
    [InlineData("severity=huge", "severity \"huge\" is unknown")]
    [InlineData("from=yesterday", "from \"yesterday\" is not a time")]
    [InlineData("blocked=maybe", "blocked \"maybe\" is neither true nor false")]
    [InlineData("source=203.0.113", "source \"203.0.113\" is not an address")]
    [InlineData("pageSize=5000", "pageSize 1 to 500")]
    [InlineData("page=0", "page must be")]
    public async Task Bad_alert_filters_get_400_naming_the_parameter(string query, string message)
    {
        using var viewer = await _host.LogIn("viewer");
        Assert.Contains(message, await viewer.Get("/api/v1/alerts?" + query).Error(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task One_alert_comes_with_its_evidence_and_the_bans_of_its_source()
    {
        List<long> ids = Seed();
        using var admin = await _host.LogIn("admin");
        await admin.Post("/api/v1/bans", new { address = "203.0.113.1", duration = "1h", reason = "seen scanning" }).Expect(HttpStatusCode.Created);
        JsonElement detail = await admin.Get($"/api/v1/alerts/{ids[1]}").Expect(HttpStatusCode.OK);
        JsonElement alert = detail.GetProperty("alert");
        Assert.Equal("203.0.113.1", alert.GetProperty("source").GetString());
        Assert.Equal(["udp"], alert.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(["192.0.2.2"], alert.GetProperty("targetList").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(10, alert.GetProperty("outcomes").GetProperty("closed").GetInt32());
        JsonElement ban = Assert.Single(detail.GetProperty("bans").EnumerateArray());
        Assert.Equal("manual: seen scanning", ban.GetProperty("reason").GetString());
        Assert.Contains("there is no alert 999999", await admin.Get("/api/v1/alerts/999999").Error(HttpStatusCode.NotFound));
        Assert.Equal(JsonValueKind.Null, detail.GetProperty("reputation").ValueKind);
    }

    [Fact]
    public async Task Alerts_come_with_the_reputation_looked_up_for_their_source()
    {
        List<long> ids = Seed();
        _host.SensorStore.SaveReputation(new PortSentinel.Intel.Reputation("203.0.113.1", 88, "NL", "Example Hosting", "example.net", 40, _t0, _t0.AddHours(1)));
        using var viewer = await _host.LogIn("viewer");
        JsonElement page = await viewer.Get("/api/v1/alerts").Expect(HttpStatusCode.OK);
        JsonElement reputations = page.GetProperty("reputations");
        Assert.Equal(["203.0.113.1"], reputations.EnumerateObject().Select(p => p.Name));
        Assert.Equal(88, reputations.GetProperty("203.0.113.1").GetProperty("score").GetInt32());
        JsonElement detail = await viewer.Get($"/api/v1/alerts/{ids[1]}").Expect(HttpStatusCode.OK);
        Assert.Equal(("NL", 40), (detail.GetProperty("reputation").GetProperty("countryCode").GetString(), detail.GetProperty("reputation").GetProperty("totalReports").GetInt32()));
        JsonElement health = await viewer.Get("/api/v1/health").Expect(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, health.GetProperty("reputation").ValueKind); // no AbuseIPDB key in this sensor
    }

    [Fact]
    public async Task The_current_filter_exports_as_csv_and_json()
    {
        Seed();
        using var viewer = await _host.LogIn("viewer");
        using HttpResponseMessage csv = await viewer.Get("/api/v1/alerts/export?format=csv&kind=udp");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("attachment", csv.Content.Headers.ContentDisposition!.ToString());
        string[] lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(7, lines.Length); // the header and six udp alerts
        Assert.StartsWith("id,raised,ended,source,kinds,severity,action", lines[0]);
        Assert.EndsWith(",verified", lines[0]);
        Assert.EndsWith("\"seeded \"\"11\"\", with a comma\",true", lines[1]); // Scans.Vertical is verified

        JsonElement json = await viewer.Get("/api/v1/alerts/export?format=json&severity=critical").Expect(HttpStatusCode.OK);
        Assert.Equal(4, json.GetArrayLength());
        Assert.Contains("format \"xml\" is unknown", await viewer.Get("/api/v1/alerts/export?format=xml").Error(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Bans_are_made_listed_and_lifted_by_admins_with_an_audit_trail()
    {
        using var admin = await _host.LogIn("admin");
        JsonElement made = await admin.Post("/api/v1/bans", new { address = "198.51.100.0/28", duration = "30m", reason = "noisy" }).Expect(HttpStatusCode.Created);
        Assert.Equal("198.51.100.0/28", made.GetProperty("network").GetString());
        Assert.InRange(made.GetProperty("remainingSeconds").GetInt64(), 1790, 1800);
        await admin.Post("/api/v1/bans", new { address = "2001:db8::66", duration = "permanent" }).Expect(HttpStatusCode.Created);
        JsonElement defaulted = await admin.Post("/api/v1/bans", new { address = "203.0.113.50" }).Expect(HttpStatusCode.Created);
        Assert.Equal(new DecideOptions().BanSeconds, defaulted.GetProperty("remainingSeconds").GetInt64());

        JsonElement active = await admin.Get("/api/v1/bans").Expect(HttpStatusCode.OK);
        Assert.Equal(3, active.GetArrayLength());
        Assert.Contains(active.EnumerateArray(), b => b.GetProperty("network").GetString() == "2001:db8::66" && b.GetProperty("expires").ValueKind == JsonValueKind.Null);

        await admin.Delete("/api/v1/bans/198.51.100.0/28").Expect(HttpStatusCode.NoContent);
        Assert.Contains("has no ban in force", await admin.Delete("/api/v1/bans/198.51.100.0/28").Error(HttpStatusCode.NotFound));
        Assert.Equal(2, (await admin.Get("/api/v1/bans").Expect(HttpStatusCode.OK)).GetArrayLength());
        JsonElement history = await admin.Get("/api/v1/bans/history?pageSize=10").Expect(HttpStatusCode.OK);
        Assert.Equal(3, history.GetProperty("total").GetInt64());
        Assert.Contains(history.GetProperty("items").EnumerateArray(), b => b.GetProperty("liftedBy").GetString() == "user:admin" && !b.GetProperty("active").GetBoolean());

        var audit = _host.Store.AuditLog(0, 50).Page;
        Assert.Contains(audit, a => a.Action == "ban.add" && a.Target == "198.51.100.0/28" && a.Actor == "user:admin" && a.Detail == "for 1800s: noisy" && a.Remote == "127.0.0.1");
        Assert.Contains(audit, a => a.Action == "ban.remove" && a.Target == "198.51.100.0/28");
        Assert.Contains(_host.Log, l => l.StartsWith("BANNED 198.51.100.0/28 for 1800s offence=1 firewall=dry-run by user:admin", StringComparison.Ordinal));
        Assert.Contains(_host.Log, l => l == "UNBANNED 198.51.100.0/28 by user:admin");
    }

    [Theory]
    [InlineData("{\"address\":\"not-an-address\"}", HttpStatusCode.BadRequest, "is not an address or network")]
    [InlineData("{\"address\":\"203.0.113.9\",\"duration\":\"soon\"}", HttpStatusCode.BadRequest, "is not a duration")]
    [InlineData("{\"address\":\"203.0.113.9\",\"duration\":\"99999999999d\"}", HttpStatusCode.BadRequest, "\"duration\" \"99999999999d\" is longer than the maximum, 3650d")]
    [InlineData("{\"address\":\"203.0.113.9\",\"duration\":\"3651d\"}", HttpStatusCode.BadRequest, "is longer than the maximum, 3650d")]
    [InlineData("{\"address\":\"203.0.113.9\",\"reason\":\"\"}", HttpStatusCode.BadRequest, "\"reason\" must be")]
    [InlineData("{\"address\":\"127.0.0.1\"}", HttpStatusCode.Conflict, "never blocked")]
    [InlineData("{\"address\":\"198.0.0.0/8\"}", HttpStatusCode.Conflict, "wider")]
    [InlineData("{}", HttpStatusCode.BadRequest, "is not an address or network")]
    public async Task A_bad_or_refused_ban_is_answered_with_the_reason_and_changes_nothing(string body, HttpStatusCode status, string message)
    {
        using var admin = await _host.LogIn("admin");
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/bans") { Content = content };
        request.Headers.Add("X-CSRF-TOKEN", admin.Csrf);
        Assert.Contains(message, await admin.Http.SendAsync(request).Error(status));
        Assert.Empty(_host.Store.ActiveBans(DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Malformed_json_gets_a_400()
    {
        using var admin = await _host.LogIn("admin");
        using var content = new StringContent("{\"address\": ", System.Text.Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/bans") { Content = content };
        request.Headers.Add("X-CSRF-TOKEN", admin.Csrf);
        using HttpResponseMessage response = await admin.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Admins_manage_accounts_but_never_remove_or_demote_the_last_admin()
    {
        using var admin = await _host.LogIn("admin");
        await admin.Post("/api/v1/users", new { name = "carol", role = "viewer", password = "a long secret 42" }).Expect(HttpStatusCode.Created);
        Assert.Contains("exists already", await admin.Post("/api/v1/users", new { name = "Carol", role = "viewer", password = "a long secret 42" }).Error(HttpStatusCode.Conflict));
        Assert.Contains("too short", await admin.Post("/api/v1/users", new { name = "dave", role = "viewer", password = "short" }).Error(HttpStatusCode.BadRequest));
        Assert.Contains("not allowed", await admin.Post("/api/v1/users", new { name = "a b", role = "viewer", password = "a long secret 42" }).Error(HttpStatusCode.BadRequest));
        Assert.Contains("role \"root\" is unknown", await admin.Post("/api/v1/users", new { name = "dave", role = "root", password = "a long secret 42" }).Error(HttpStatusCode.BadRequest));
        JsonElement users = await admin.Get("/api/v1/users").Expect(HttpStatusCode.OK);
        Assert.Equal(["admin", "carol", "viewer"], users.EnumerateArray().Select(u => u.GetProperty("name").GetString()));
        Assert.DoesNotContain("hash", users.GetRawText(), StringComparison.OrdinalIgnoreCase);

        Assert.Contains("last admin", await admin.Patch("/api/v1/users/admin", new { role = "viewer" }).Error(HttpStatusCode.Conflict));
        Assert.Contains("last admin", await admin.Delete("/api/v1/users/admin").Error(HttpStatusCode.Conflict));
        await admin.Patch("/api/v1/users/carol", new { role = "admin" }).Expect(HttpStatusCode.NoContent);
        using var carol = await _host.LogIn("carol", "a long secret 42");
        await carol.Delete("/api/v1/users/admin").Expect(HttpStatusCode.NoContent);
        Assert.Contains("there is no user called admin", await carol.Delete("/api/v1/users/admin").Error(HttpStatusCode.NotFound));
        Assert.Contains(_host.Store.AuditLog(0, 50).Page, a => a.Action == "user.remove" && a.Target == "admin" && a.Actor == "user:carol");
        JsonElement audit = await carol.Get("/api/v1/audit?pageSize=2").Expect(HttpStatusCode.OK);
        Assert.Equal(2, audit.GetProperty("items").GetArrayLength());
        Assert.True(audit.GetProperty("total").GetInt64() >= 4);
    }

    [Fact]
    public async Task Stats_give_the_overview_figures()
    {
        Seed();
        using var admin = await _host.LogIn("admin");
        await admin.Post("/api/v1/bans", new { address = "203.0.113.60" }).Expect(HttpStatusCode.Created);
        JsonElement stats = await admin.Get("/api/v1/stats").Expect(HttpStatusCode.OK);
        Assert.Equal(1, stats.GetProperty("activeBans").GetInt64());
        Assert.Equal(1, stats.GetProperty("bansAdded").GetInt64());
        JsonElement top = stats.GetProperty("topSources");
        Assert.Equal(4, top.GetArrayLength());
        Assert.Equal(3, top[0].GetProperty("alerts").GetInt64());
        Assert.Equal("ok", stats.GetProperty("health").GetProperty("status").GetString());
    }
}
