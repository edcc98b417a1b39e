using System.Net;
using System.Text.Json;

namespace PortSentinel.Tests.Web;

/// <summary>Who may do what, against the real app on loopback: anonymous callers, viewers, admins, tokens, CSRF, lockout, rate limit, setup.</summary>
public sealed class AuthorizationTests : IAsyncLifetime
{
    private DashboardHost _host = null!;

    public Task InitializeAsync()
    {
        _host = DashboardHost.Start(o => o.LockoutFailures = 3);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string> Reads => ["/api/v1/alerts", "/api/v1/alerts/1", "/api/v1/alerts/export", "/api/v1/bans", "/api/v1/bans/history", "/api/v1/stats", "/metrics", "/api/v1/live"];

    public static TheoryData<string> AdminReads => ["/api/v1/users", "/api/v1/tokens", "/api/v1/audit"];

    [Theory]
    [MemberData(nameof(Reads))]
    [MemberData(nameof(AdminReads))]
    public async Task An_anonymous_caller_gets_401_with_a_message(string path)
    {
        using var client = await _host.Anonymous();
        Assert.Contains("log in first", await client.Get(path).Error(HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task Health_answers_anyone_bare_and_accounts_in_detail()
    {
        using var anonymous = await _host.Anonymous();
        JsonElement bare = await anonymous.Get("/api/v1/health").Expect(HttpStatusCode.OK);
        Assert.Equal("ok", bare.GetProperty("status").GetString());
        Assert.False(bare.TryGetProperty("firewall", out _));
        using var viewer = await _host.LogIn("viewer");
        JsonElement details = await viewer.Get("/api/v1/health").Expect(HttpStatusCode.OK);
        Assert.Equal("dry-run", details.GetProperty("firewall").GetString());
        Assert.True(details.GetProperty("databaseBytes").GetInt64() > 0);
    }

    [Theory]
    [MemberData(nameof(AdminReads))]
    public async Task A_viewer_reads_but_cannot_administer(string path)
    {
        using var viewer = await _host.LogIn("viewer");
        Assert.Contains("role does not allow", await viewer.Get(path).Error(HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task A_viewer_cannot_block_or_unblock()
    {
        using var viewer = await _host.LogIn("viewer");
        await viewer.Get("/api/v1/bans").Expect(HttpStatusCode.OK);
        await viewer.Post("/api/v1/bans", new { address = "203.0.113.7" }).Expect(HttpStatusCode.Forbidden);
        await viewer.Delete("/api/v1/bans/203.0.113.7").Expect(HttpStatusCode.Forbidden);
        await viewer.Post("/api/v1/users", new { name = "eve", role = "admin", password = "a secret of eve 12" }).Expect(HttpStatusCode.Forbidden);
        Assert.Empty(_host.Store.ActiveBans(DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task A_change_without_the_csrf_token_or_with_a_wrong_one_is_refused()
    {
        using var admin = await _host.LogIn("admin");
        Assert.Contains("CSRF token is missing or invalid", await admin.Post("/api/v1/bans", new { address = "203.0.113.7" }, csrf: false).Error(HttpStatusCode.BadRequest));
        string good = admin.Csrf!;
        admin.Csrf = good[..^4] + "AAAA";
        await admin.Post("/api/v1/bans", new { address = "203.0.113.7" }).Expect(HttpStatusCode.BadRequest);
        // A token of another session (another browser's) does not do either.
        using var other = await _host.LogIn("admin");
        admin.Csrf = other.Csrf;
        await admin.Post("/api/v1/bans", new { address = "203.0.113.7" }).Expect(HttpStatusCode.BadRequest);
        Assert.Empty(_host.Store.ActiveBans(DateTimeOffset.UtcNow));
        admin.Csrf = good;
        await admin.Post("/api/v1/bans", new { address = "203.0.113.7" }).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Login_itself_needs_the_csrf_token()
    {
        using var client = await _host.Anonymous();
        await client.Post("/api/v1/session", new { name = "admin", password = DashboardHost.AdminPassword }, csrf: false).Expect(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_session_cookie_is_httponly_and_samesite_strict_and_pages_send_security_headers()
    {
        using var client = await _host.Anonymous();
        using HttpResponseMessage login = await client.Post("/api/v1/session", new { name = "viewer", password = DashboardHost.ViewerPassword });
        string cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("portsentinel=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase); // plain http on loopback: Secure only under HTTPS
        Assert.Contains("frame-ancestors 'none'", login.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", login.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task Wrong_passwords_lock_the_account_and_the_lock_is_audited()
    {
        using var client = await _host.Anonymous();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("wrong name or password.", await client.Post("/api/v1/session", new { name = "viewer", password = "not the password" }).Error(HttpStatusCode.Unauthorized));
        }
        string locked = await client.Post("/api/v1/session", new { name = "viewer", password = DashboardHost.ViewerPassword }).Error(HttpStatusCode.Locked);
        Assert.Contains("locked until", locked);
        Assert.Contains(_host.Store.AuditLog(0, 10).Page, a => a.Action == "session.lockout" && a.Target == "viewer" && a.Remote == "127.0.0.1");
        Assert.Contains(_host.Log, line => line.Contains("WARNING dashboard account viewer locked", StringComparison.Ordinal));
        // An unknown name answers as a wrong password does, and locks nothing.
        Assert.Equal("wrong name or password.", await client.Post("/api/v1/session", new { name = "nobody", password = "whatever it is" }).Error(HttpStatusCode.Unauthorized));
        // An admin's new password unlocks.
        using var admin = await _host.LogIn("admin");
        await admin.Patch("/api/v1/users/viewer", new { password = "fresh secret 7781" }).Expect(HttpStatusCode.NoContent);
        await client.Post("/api/v1/session", new { name = "viewer", password = "fresh secret 7781" }).Expect(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(10_000)] // only the lockout limits
    [InlineData(10)] // the default: the rate limit lets 10 through, the lockout 5 of them
    public async Task Parallel_wrong_logins_get_exactly_the_lockout_limit_of_password_checks(int loginsPerMinute)
    {
        await using DashboardHost host = DashboardHost.Start(o =>
        {
            o.LockoutFailures = 5;
            o.LoginsPerMinute = loginsPerMinute;
        });
        using var client = await host.Anonymous();
        HttpResponseMessage[] answers = await Task.WhenAll(Enumerable.Range(0, 100)
            .Select(i => client.Post("/api/v1/session", new { name = "viewer", password = $"wrong password {i}" })));
        var counts = answers.GroupBy(a => a.StatusCode).ToDictionary(g => g.Key, g => g.Count());
        foreach (HttpResponseMessage answer in answers)
        {
            answer.Dispose();
        }
        int admitted = Math.Min(100, loginsPerMinute);
        string seen = string.Join(", ", counts.Select(c => $"{(int)c.Key}: {c.Value}"));
        // 401 is a password checked (and wrong); 423 the lock, checked first; 429 the rate limit.
        Assert.True(counts.GetValueOrDefault(HttpStatusCode.Unauthorized) == 5, $"password checks: {seen}");
        Assert.True(counts.GetValueOrDefault(HttpStatusCode.Locked) == admitted - 5, seen);
        Assert.True(counts.GetValueOrDefault(HttpStatusCode.TooManyRequests) == 100 - admitted, seen);
        Assert.Single(host.Store.AuditLog(0, 200).Page, a => a.Action == "session.lockout");
        // Locked for the right password too.
        await client.Post("/api/v1/session", new { name = "viewer", password = DashboardHost.ViewerPassword }).Expect(loginsPerMinute > 100 ? HttpStatusCode.Locked : HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task Logins_are_rate_limited_per_client_address()
    {
        await using DashboardHost host = DashboardHost.Start(o => o.LoginsPerMinute = 3);
        using var client = await host.Anonymous();
        for (int i = 0; i < 3; i++)
        {
            await client.Post("/api/v1/session", new { name = "admin", password = "wrong password" }).Expect(HttpStatusCode.Unauthorized);
        }
        using HttpResponseMessage limited = await client.Post("/api/v1/session", new { name = "admin", password = DashboardHost.AdminPassword });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("60", limited.Headers.GetValues("Retry-After").Single());
        Assert.Contains("too many login attempts", await limited.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Logout_is_a_post_and_ends_the_session()
    {
        using var viewer = await _host.LogIn("viewer");
        await viewer.Get("/api/v1/alerts").Expect(HttpStatusCode.OK);
        using (HttpResponseMessage get = await viewer.Get("/api/v1/session/logout"))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        }
        await viewer.Post("/api/v1/session/logout", new { }).Expect(HttpStatusCode.NoContent);
        await viewer.Get("/api/v1/alerts").Expect(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_password_change_ends_the_older_sessions()
    {
        using var before = await _host.LogIn("viewer");
        using var self = await _host.LogIn("viewer");
        Assert.Contains("not your current password", await self.Send("/api/v1/session/password", new { current = "wrong", password = "another secret 22" }).Error(HttpStatusCode.BadRequest));
        Assert.Contains("too short", await self.Send("/api/v1/session/password", new { current = DashboardHost.ViewerPassword, password = "short" }).Error(HttpStatusCode.BadRequest));
        await self.Send("/api/v1/session/password", new { current = DashboardHost.ViewerPassword, password = "another secret 22" }).Expect(HttpStatusCode.NoContent);
        await before.Get("/api/v1/alerts").Expect(HttpStatusCode.Unauthorized);
        await self.Get("/api/v1/alerts").Expect(HttpStatusCode.Unauthorized);
        using var again = await _host.LogIn("viewer", "another secret 22");
        await again.Get("/api/v1/alerts").Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_removed_account_loses_its_session_at_once()
    {
        using var admin = await _host.LogIn("admin");
        using var viewer = await _host.LogIn("viewer");
        await admin.Delete("/api/v1/users/viewer").Expect(HttpStatusCode.NoContent);
        await viewer.Get("/api/v1/alerts").Expect(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Tokens_work_as_bearer_need_no_csrf_and_stop_when_revoked()
    {
        using var admin = await _host.LogIn("admin");
        JsonElement created = await admin.Post("/api/v1/tokens", new { name = "blocklist sync", role = "admin" }).Expect(HttpStatusCode.Created);
        string token = created.GetProperty("token").GetString()!;
        long id = created.GetProperty("id").GetInt64();
        JsonElement listed = await admin.Get("/api/v1/tokens").Expect(HttpStatusCode.OK);
        Assert.DoesNotContain(token, listed.GetRawText()); // shown once, never again
        Assert.DoesNotContain("hash", listed.GetRawText(), StringComparison.OrdinalIgnoreCase);

        using var script = _host.WithToken(token);
        await script.Post("/api/v1/bans", new { address = "203.0.113.8", duration = "10m" }, csrf: false).Expect(HttpStatusCode.Created);
        Assert.Contains(_host.Store.AuditLog(0, 10).Page, a => a.Actor == "token:blocklist sync" && a.Action == "ban.add" && a.Target == "203.0.113.8");

        JsonElement viewerToken = await admin.Post("/api/v1/tokens", new { name = "grafana" }).Expect(HttpStatusCode.Created);
        Assert.Equal("viewer", viewerToken.GetProperty("role").GetString());
        using var reader = _host.WithToken(viewerToken.GetProperty("token").GetString()!);
        await reader.Get("/metrics").Expect(HttpStatusCode.OK);
        await reader.Delete("/api/v1/bans/203.0.113.8", csrf: false).Expect(HttpStatusCode.Forbidden);

        await admin.Delete($"/api/v1/tokens/{id}").Expect(HttpStatusCode.NoContent);
        Assert.Contains("unknown or revoked", await script.Get("/api/v1/bans").Error(HttpStatusCode.Unauthorized));
        using var forged = _host.WithToken("pst_" + new string('A', 43));
        await forged.Get("/api/v1/bans").Expect(HttpStatusCode.Unauthorized);
        Assert.Contains("role", await admin.Post("/api/v1/tokens", new { name = "x", role = "root" }).Error(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task The_setup_token_makes_the_first_admin_once()
    {
        await using DashboardHost host = DashboardHost.Start(accounts: false);
        string token = host.Context.OpenSetup()!;
        Assert.NotNull(token);
        using var client = await host.Anonymous();
        Assert.True((await client.Get("/api/v1/session").Expect(HttpStatusCode.OK)).GetProperty("setup").GetBoolean());
        Assert.Contains("setup token is wrong", await client.Post("/api/v1/setup", new { token = "0000", name = "root", password = "a long password" }).Error(HttpStatusCode.Forbidden));
        Assert.Contains("too short", await client.Post("/api/v1/setup", new { token, name = "root", password = "short" }).Error(HttpStatusCode.BadRequest));
        await client.Post("/api/v1/setup", new { token, name = "root", password = "a long password" }).Expect(HttpStatusCode.Created);
        await client.Post("/api/v1/setup", new { token, name = "root2", password = "a long password" }).Expect(HttpStatusCode.Forbidden);
        Assert.Null(host.Context.OpenSetup());
        using var root = await host.LogIn("root", "a long password");
        Assert.Equal("admin", (await root.Get("/api/v1/session").Expect(HttpStatusCode.OK)).GetProperty("role").GetString());
    }
}
