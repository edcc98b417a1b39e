using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using PortSentinel.Cli.Commands;

namespace PortSentinel.Tests.Web;

/// <summary>
/// The Settings API against the real app and a real sensor: the configuration in force for
/// everyone, changes for admins that are validated, kept in the data directory, and applied to
/// the running sensor at once.
/// </summary>
public sealed class SettingsApiTests
{
    private static JsonElement Field(JsonElement view, string path) =>
        view.GetProperty("sections").EnumerateArray().SelectMany(s => s.GetProperty("fields").EnumerateArray()).Single(f => f.GetProperty("path").GetString() == path);

    private static Task<HttpResponseMessage> Put(DashboardHost.Client client, object changes, bool csrf = true) => client.Send("/api/v1/settings", changes, csrf);

    [Fact]
    public async Task Everyone_logged_in_sees_every_section_with_its_values_types_and_who_sets_them()
    {
        await using DashboardHost host = DashboardHost.Start();
        using DashboardHost.Client anonymous = await host.Anonymous();
        await anonymous.Get("/api/v1/settings").Expect(HttpStatusCode.Unauthorized);

        using DashboardHost.Client viewer = await host.LogIn("viewer");
        JsonElement view = await viewer.Get("/api/v1/settings").Expect(HttpStatusCode.OK);
        Assert.Equal(["Detection", "Decide", "Allowlist", "Trap", "Capture", "Firewall", "Dashboard", "AbuseIpDb", "Blocklist", "EventLog", "Notify", "Reports", "Store", "Sensor"], view.GetProperty("sections").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal([true, true, true, false, false, false, false, false, false, false, false, false, false, false], view.GetProperty("sections").EnumerateArray().Select(s => s.GetProperty("editable").GetBoolean()));

        JsonElement vertical = Field(view, "Detection:VerticalPorts");
        Assert.Equal("integer", vertical.GetProperty("type").GetString());
        Assert.Equal(10, vertical.GetProperty("value").GetInt32());
        Assert.False(vertical.GetProperty("changed").GetBoolean());
        JsonElement blockAt = Field(view, "Decide:BlockAt");
        Assert.Equal(("choice", "Medium"), (blockAt.GetProperty("type").GetString(), blockAt.GetProperty("value").GetString()));
        Assert.Equal(["Low", "Medium", "High", "Critical"], blockAt.GetProperty("choices").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("networks", Field(view, "Allowlist").GetProperty("type").GetString());
        Assert.Equal("integers", Field(view, "Detection:TripwireTcpPorts").GetProperty("type").GetString());
        Assert.Contains("--firewall", Field(view, "Firewall:Backend").GetProperty("pinnedBy").GetString(), StringComparison.Ordinal);
        Assert.Equal(host.Sources.OverlayFile, view.GetProperty("overlayFile").GetString());
    }

    [Fact]
    public async Task Secrets_never_leave_the_server_however_deep_they_sit()
    {
        await using DashboardHost host = DashboardHost.Start(set:
        [
            "AbuseIpDb:ApiKey=abc-key-123", "Notify:Email:Host=127.0.0.1", "Notify:Email:From=sensor@example.net", "Notify:Email:To:0=ops@example.net",
            "Notify:Email:Password=hunter2-secret", "Notify:Webhooks:0:Url=https://hooks.slack.com/services/T0/B0/XYZSECRET",
        ]);
        using DashboardHost.Client admin = await host.LogIn("admin");
        using HttpResponseMessage response = await admin.Get("/api/v1/settings");
        string text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("abc-key-123", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-secret", text, StringComparison.Ordinal);
        Assert.DoesNotContain("XYZSECRET", text, StringComparison.Ordinal);
        JsonElement view = JsonDocument.Parse(text).RootElement;
        Assert.Equal("********", Field(view, "AbuseIpDb:ApiKey").GetProperty("value").GetString());
        Assert.True(Field(view, "AbuseIpDb:ApiKey").GetProperty("secret").GetBoolean());
        Assert.Equal("********", Field(view, "Notify:Email").GetProperty("value").GetProperty("Password").GetString());
        Assert.Equal("https://hooks.slack.com/********", Field(view, "Notify:Webhooks").GetProperty("value")[0].GetProperty("Url").GetString());
        Assert.Equal("127.0.0.1", Field(view, "Notify:Email").GetProperty("value").GetProperty("Host").GetString());
    }

    [Theory]
    [InlineData("Dashboard:AdminPassword", true)]
    [InlineData("AbuseIpDb:ApiKey", true)]
    [InlineData("Webhook:Secret", true)]
    [InlineData("Api:Token", true)]
    [InlineData("Dashboard:CertificateKeyFile", false)]
    [InlineData("Decide:BanSeconds", false)]
    public void Secrets_are_known_by_their_key(string path, bool secret) => Assert.Equal(secret, RunningSettings.IsSecret(path));

    [Fact]
    public async Task An_admin_change_is_applied_at_once_kept_on_disk_audited_and_read_again_at_the_next_start()
    {
        await using DashboardHost host = DashboardHost.Start();
        using DashboardHost.Client admin = await host.LogIn("admin");
        await admin.Post("/api/v1/bans", new { address = "203.0.113.50", duration = "1m" }).Expect(HttpStatusCode.Created);

        JsonElement view = await Put(admin, new Dictionary<string, object?>
        {
            ["Decide:BanSeconds"] = 7200,
            ["decide:blockat"] = "High",
            ["Allowlist"] = new List<string> { "203.0.113.60", "198.51.100.0/24" },
            ["Detection:TripwireTcpPorts"] = new List<int> { 2323 },
        }).Expect(HttpStatusCode.OK);
        Assert.Equal(7200, Field(view, "Decide:BanSeconds").GetProperty("value").GetInt32());
        Assert.True(Field(view, "Decide:BanSeconds").GetProperty("changed").GetBoolean());
        Assert.Equal("High", Field(view, "Decide:BlockAt").GetProperty("value").GetString());
        Assert.Equal(["203.0.113.60", "198.51.100.0/24"], Field(view, "Allowlist").GetProperty("value").EnumerateArray().Select(a => a.GetString()));

        // Applied to the running sensor: its decisions use the new policy and allowlist.
        Assert.True(SpinWait.SpinUntil(() => host.Sensor.Decider.Options.BanSeconds == 7200, TimeSpan.FromSeconds(5)), "the sensor still bans for the old length");
        Assert.Equal(PortSentinel.Decide.Severity.High, host.Sensor.Decider.Options.BlockAt);
        Assert.Contains("never blocked", await admin.Post("/api/v1/bans", new { address = "198.51.100.7" }).Error(HttpStatusCode.Conflict), StringComparison.Ordinal);
        Assert.Contains(host.Log, l => l.Contains("SETTINGS changed by user:admin (Decide:BanSeconds=7200", StringComparison.Ordinal) && l.Contains("detection changed", StringComparison.Ordinal));

        // Kept where the next start reads it, for the owner's eyes only.
        string file = host.Sources.OverlayFile!;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, OperatingSystem.IsWindows() ? UnixFileMode.None : File.GetUnixFileMode(file));
        JsonNode saved = JsonNode.Parse(File.ReadAllText(file))!;
        Assert.Equal(7200, saved["Decide"]!["BanSeconds"]!.GetValue<int>());
        SensorSettings next = SensorSettings.Load(host.Sources);
        Assert.Equal((7200, PortSentinel.Decide.Severity.High, 2), (next.Decide.BanSeconds, next.Decide.BlockAt, next.Allowed.Count));
        Assert.Equal([2323], next.Detection.TripwireTcpPorts);

        PortSentinel.Record.AuditRecord audit = Assert.Single(host.Store.AuditLog(0, 10).Page, a => a.Action == "settings.change");
        Assert.Equal("user:admin", audit.Actor);
        Assert.Contains("Decide:BanSeconds", audit.Target, StringComparison.Ordinal);
        Assert.Contains("7200", audit.Detail, StringComparison.Ordinal);

        // Null puts a key back to the file's value (here the default); the file keeps the rest.
        view = await Put(admin, new Dictionary<string, object?> { ["Decide:BanSeconds"] = null, ["Decide:BlockAt"] = null }).Expect(HttpStatusCode.OK);
        Assert.Equal(3600, Field(view, "Decide:BanSeconds").GetProperty("value").GetInt32());
        Assert.False(Field(view, "Decide:BanSeconds").GetProperty("changed").GetBoolean());
        saved = JsonNode.Parse(File.ReadAllText(file))!;
        Assert.Null(saved["Decide"]);
        Assert.NotNull(saved["Allowlist"]);
        Assert.True(SpinWait.SpinUntil(() => host.Sensor.Decider.Options.BanSeconds == 3600, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Bad_changes_are_refused_whole_with_the_key_and_the_fix()
    {
        await using DashboardHost host = DashboardHost.Start();
        using DashboardHost.Client admin = await host.LogIn("admin");

        Assert.Contains("Decide:BanSeconds", await Put(admin, new Dictionary<string, object?> { ["Decide:BanSeconds"] = -5 }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("Decide:BanSeconds", await Put(admin, new Dictionary<string, object?> { ["Decide:BanSeconds"] = "an hour" }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("Decide:BlockAt", await Put(admin, new Dictionary<string, object?> { ["Decide:BlockAt"] = "urgent" }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("next start", await Put(admin, new Dictionary<string, object?> { ["Capture:SnapLength"] = 64 }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("did you mean Detection:VerticalPorts?", await Put(admin, new Dictionary<string, object?> { ["Detection:VerticalPort"] = 5 }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("Detecton:VerticalPorts is not a setting; did you mean Detection:VerticalPorts?", await Put(admin, new Dictionary<string, object?> { ["Detecton:VerticalPorts"] = 5 }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("Foo:Bar is not a setting", await Put(admin, new Dictionary<string, object?> { ["Foo:Bar"] = 1 }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("did you mean Capture:SnapLength?", await Put(admin, new Dictionary<string, object?> { ["Capture:SnapLenght"] = 64 }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("not a setting", await Put(admin, new Dictionary<string, object?> { ["Nonsense"] = 5 }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("takes a list", await Put(admin, new Dictionary<string, object?> { ["Allowlist"] = "203.0.113.7" }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("takes a single value", await Put(admin, new Dictionary<string, object?> { ["Decide:BanSeconds"] = new List<int> { 1 } }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("Allowlist:1", await Put(admin, new Dictionary<string, object?> { ["Allowlist"] = new List<string> { "203.0.113.7", "203.0.113" } }).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("give the settings", await Put(admin, new Dictionary<string, object?>()).Error(HttpStatusCode.BadRequest), StringComparison.Ordinal);

        // All or none: a good key beside a bad one is not applied either.
        string error = await Put(admin, new Dictionary<string, object?> { ["Decide:BanSeconds"] = 600, ["Decide:MaxBanSeconds"] = 60 }).Error(HttpStatusCode.BadRequest);
        Assert.Contains("Decide:MaxBanSeconds", error, StringComparison.Ordinal);
        JsonElement view = await admin.Get("/api/v1/settings").Expect(HttpStatusCode.OK);
        Assert.Equal(3600, Field(view, "Decide:BanSeconds").GetProperty("value").GetInt32());
        Assert.False(File.Exists(host.Sources.OverlayFile));
        Assert.DoesNotContain(host.Store.AuditLog(0, 10).Page, a => a.Action == "settings.change");
    }

    [Fact]
    public async Task A_very_wide_allowlist_entry_is_refused_unless_the_widest_prefix_is_changed_with_it()
    {
        await using DashboardHost host = DashboardHost.Start();
        using DashboardHost.Client admin = await host.LogIn("admin");
        string error = await Put(admin, new Dictionary<string, object?> { ["Allowlist"] = new List<string> { "203.0.113.7", "::/0" } }).Error(HttpStatusCode.BadRequest);
        Assert.Contains("Allowlist:1 is \"::/0\"", error, StringComparison.Ordinal);
        Assert.Contains("Decide:AllowlistWidestV6=0", error, StringComparison.Ordinal);
        Assert.False(File.Exists(host.Sources.OverlayFile));

        JsonElement view = await Put(admin, new Dictionary<string, object?> { ["Allowlist"] = new List<string> { "0.0.0.0/0" }, ["Decide:AllowlistWidestV4"] = 0 }).Expect(HttpStatusCode.OK);
        Assert.Equal(["0.0.0.0/0"], Field(view, "Allowlist").GetProperty("value").EnumerateArray().Select(a => a.GetString()));
    }

    [Fact]
    public async Task A_capacity_whose_tables_do_not_fit_in_memory_is_refused_and_neither_applied_nor_kept()
    {
        await using DashboardHost host = DashboardHost.Start();
        using DashboardHost.Client admin = await host.LogIn("admin");
        string error = await Put(admin, new Dictionary<string, object?> { ["Detection:SourceCapacity"] = 1073741824, ["Decide:BanSeconds"] = 600 }).Error(HttpStatusCode.BadRequest);
        Assert.Contains("Detection:SourceCapacity is 1073741824: the detector's tables would take ", error, StringComparison.Ordinal);
        Assert.Matches(@"the most Detection:SourceCapacity can be is \d+", error);
        Assert.False(File.Exists(host.Sources.OverlayFile));
        Assert.Equal(3600, host.Sensor.Decider.Options.BanSeconds);
        JsonElement view = await admin.Get("/api/v1/settings").Expect(HttpStatusCode.OK);
        Assert.Equal(32768, Field(view, "Detection:SourceCapacity").GetProperty("value").GetInt32());
    }

    [Fact]
    public async Task A_change_that_cannot_be_saved_is_taken_back_from_the_running_sensor()
    {
        await using DashboardHost host = DashboardHost.Start();
        using DashboardHost.Client admin = await host.LogIn("admin");
        Directory.CreateDirectory(host.Sources.OverlayFile + ".new"); // where the file is written first, then moved
        string error = await Put(admin, new Dictionary<string, object?> { ["Decide:BanSeconds"] = 600 }).Error(HttpStatusCode.InternalServerError);
        Assert.Contains("nothing changed", error, StringComparison.Ordinal);
        Assert.Equal(3600, host.Sensor.Decider.Options.BanSeconds);
        JsonElement view = await admin.Get("/api/v1/settings").Expect(HttpStatusCode.OK);
        Assert.Equal(3600, Field(view, "Decide:BanSeconds").GetProperty("value").GetInt32());
        Assert.False(File.Exists(host.Sources.OverlayFile));
    }

    [Fact]
    public async Task Viewers_and_requests_without_the_csrf_token_change_nothing()
    {
        await using DashboardHost host = DashboardHost.Start();
        using DashboardHost.Client viewer = await host.LogIn("viewer");
        await Put(viewer, new Dictionary<string, object?> { ["Decide:BanSeconds"] = 60 }).Expect(HttpStatusCode.Forbidden);
        using DashboardHost.Client admin = await host.LogIn("admin");
        await Put(admin, new Dictionary<string, object?> { ["Decide:BanSeconds"] = 60 }, csrf: false).Expect(HttpStatusCode.BadRequest);
        Assert.Equal(3600, host.Sensor.Decider.Options.BanSeconds);
        Assert.False(File.Exists(host.Sources.OverlayFile));
    }

    [Fact]
    public async Task A_key_the_command_line_sets_is_shown_as_pinned_and_not_changed_from_the_dashboard()
    {
        await using DashboardHost host = DashboardHost.Start(set: ["Decide:BanSeconds=600"]);
        using DashboardHost.Client admin = await host.LogIn("admin");
        JsonElement view = await admin.Get("/api/v1/settings").Expect(HttpStatusCode.OK);
        Assert.Equal(600, Field(view, "Decide:BanSeconds").GetProperty("value").GetInt32());
        Assert.Contains("--set Decide:BanSeconds", Field(view, "Decide:BanSeconds").GetProperty("pinnedBy").GetString(), StringComparison.Ordinal);
        Assert.Contains("--set", await Put(admin, new Dictionary<string, object?> { ["decide:banseconds"] = 60 }).Error(HttpStatusCode.Conflict), StringComparison.Ordinal);
        Assert.Equal(600, host.Sensor.Decider.Options.BanSeconds);
    }

    [Fact]
    public async Task Sighup_reads_the_dashboard_changes_again_and_refuses_a_broken_file()
    {
        await using DashboardHost host = DashboardHost.Start();
        var running = (RunningSettings)host.Context.Settings!;
        File.WriteAllText(host.Sources.OverlayFile!, """{ "Decide": { "BanSeconds": 900 } }""");
        running.Reload();
        Assert.Equal(900, running.Current.Decide.BanSeconds);
        Assert.True(SpinWait.SpinUntil(() => host.Sensor.Decider.Options.BanSeconds == 900, TimeSpan.FromSeconds(5)));

        File.WriteAllText(host.Sources.OverlayFile!, """{ "Decide": { "BanSeconds": """);
        running.Reload();
        Assert.Equal(900, running.Current.Decide.BanSeconds);
        Assert.Contains(host.Log, l => l.StartsWith("ERROR reload refused", StringComparison.Ordinal) && l.Contains("delete it", StringComparison.Ordinal));
    }
}
