using System.Diagnostics;
using Microsoft.Playwright;
using PortSentinel.Detect;
using PortSentinel.Record;
using PortSentinel.Respond.Nftables;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Web;

/// <summary>A browser test: skipped, with the reason, where Debian's chromium is missing.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (!File.Exists(Chromium))
        {
            Skip = $"needs {Chromium} (deploy/install-deps.sh --test installs Debian's chromium)";
        }
    }
}

/// <summary>As <see cref="BrowserFactAttribute"/>, also needing root, ip and nmap for a namespace pair.</summary>
public sealed class BrowserNamespaceFactAttribute : FactAttribute
{
    public BrowserNamespaceFactAttribute()
    {
        Skip = !File.Exists(BrowserFactAttribute.Chromium) ? $"needs {BrowserFactAttribute.Chromium} (deploy/install-deps.sh --test installs it)" : NamespacePair.Unavailable();
    }
}

/// <summary>
/// The dashboard in a real browser: Debian's chromium, headless, driven by Playwright. With
/// PORTSENTINEL_SCREENSHOTS set to a directory (docs/screenshots/refresh.sh does it), the tests
/// also save the screenshots of the main pages kept in docs/.
/// </summary>
public sealed class BrowserTests : IAsyncLifetime
{
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(BrowserFactAttribute.Chromium))
        {
            return;
        }
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFactAttribute.Chromium,
            Headless = true,
            // No sandbox as root; nothing that reaches out to the internet (this machine has none).
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }

    private async Task<IPage> LogIn(DashboardHost host, string name, string password, string path = "/", bool dark = false)
    {
        IBrowserContext context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = host.Address.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 860 },
            ColorScheme = dark ? ColorScheme.Dark : ColorScheme.Light,
        });
        IPage page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        var events = new List<string>();
        page.Console += (_, message) => events.Add($"console {message.Type}: {message.Text}");
        page.RequestFailed += (_, request) => events.Add($"failed {request.Method} {request.Url}: {request.Failure}");
        page.Response += (_, response) => events.Add($"{response.Status} {response.Request.Method} {response.Url}");
        await page.GotoAsync(path);
        try
        {
            await page.WaitForSelectorAsync("form#login input[name=name]");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{path} did not lead to the login form; the page is at {page.Url}.\nerrors: {string.Join("\n", errors)}\nevents:\n{string.Join("\n", events)}", e);
        }
        Assert.Contains("/login.html", page.Url, StringComparison.Ordinal);
        await page.FillAsync("input[name=name]", name);
        await page.FillAsync("input[name=password]", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("#who");
        Assert.Empty(errors);
        return page;
    }

    private static async Task Keep(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("PORTSENTINEL_SCREENSHOTS") is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
            await page.EvaluateAsync("window.scrollTo(0, 0)"); // the sticky header at the top, not across the middle
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), FullPage = true });
        }
    }

    [BrowserFact]
    public async Task A_wrong_password_is_told_and_the_right_one_opens_the_overview_whose_chart_moves()
    {
        await using DashboardHost host = DashboardHost.Start();
        IBrowserContext context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = host.Address.ToString() });
        IPage login = await context.NewPageAsync();
        await login.GotoAsync("/login.html");
        await login.FillAsync("input[name=name]", "admin");
        await login.FillAsync("input[name=password]", "not the password");
        await login.ClickAsync("button[type=submit]");
        Assert.Equal("wrong name or password.", await login.InnerTextAsync("#error [role=alert]"));
        await Keep(login, "login");

        IPage page = await LogIn(host, "admin", DashboardHost.AdminPassword);
        Assert.Equal("admin (admin)", await page.InnerTextAsync("#who"));
        await page.WaitForSelectorAsync("#traffic canvas");
        await page.WaitForFunctionAsync("document.querySelector('#rates').textContent.includes('tcp')");
        byte[] before = await page.Locator("#traffic").ScreenshotAsync();
        await page.WaitForTimeoutAsync(2500); // two more samples, a second apart
        byte[] after = await page.Locator("#traffic").ScreenshotAsync();
        Assert.False(before.AsSpan().SequenceEqual(after), "the traffic chart did not move in 2.5 s");
        Assert.NotEqual("–", await page.InnerTextAsync("#ban-count"));
    }

    [BrowserNamespaceFact]
    public async Task A_real_scan_appears_live_on_the_alerts_page_and_the_bans_page_blocks_and_unblocks_in_nftables()
    {
        using var pair = new NamespacePair();
        await using DashboardHost host = DashboardHost.Start(sensing: new DashboardHost.Sensing([NamespacePair.TargetDevice], () => new NftablesFirewall(), pair.Target));
        IPage alerts = await LogIn(host, "admin", DashboardHost.AdminPassword, "/alerts.html");
        await alerts.WaitForSelectorAsync("#pager .muted"); // the (empty) list is drawn
        Assert.Equal(0, await alerts.Locator("#alerts tr").CountAsync());

        // A real SYN scan from the scanner's namespace, stopped once the sensor has banned it.
        using (Process nmap = Process.Start("ip", ["netns", "exec", pair.Scanner, "nmap", "-n", "-Pn", "-sS", "-p", "1-200", "--max-retries", "1", "--host-timeout", "30s", NamespacePair.TargetAddress])!)
        {
            try
            {
                // No reload: the row arrives through the live stream.
                await alerts.WaitForSelectorAsync($"#alerts tr:has-text('{NamespacePair.ScannerAddress}')", new PageWaitForSelectorOptions { Timeout = 20_000 });
            }
            finally
            {
                nmap.Kill();
            }
        }
        string row = await alerts.InnerTextAsync($"#alerts tr:has-text('{NamespacePair.ScannerAddress}')");
        Assert.Contains("tcp-syn", row);
        Assert.Contains("hold", row); // a SYN scan alone never shows the scanner is at its address
        await alerts.ClickAsync($"#alerts tr:has-text('{NamespacePair.ScannerAddress}')");
        await alerts.WaitForSelectorAsync("#detail:not(.hidden) dl");
        string detail = await alerts.InnerTextAsync("#detail");
        Assert.Contains("closed", detail);
        Assert.Contains("not verified: it never answered a SYN-ACK", detail);
        await Keep(alerts, "alerts");
        Assert.Contains(NamespacePair.ScannerAddress, HostsInSet(pair));

        IPage overview = await alerts.Context.NewPageAsync();
        await overview.GotoAsync("/");
        await overview.WaitForSelectorAsync($"#top-sources tr:has-text('{NamespacePair.ScannerAddress}')");
        Assert.Matches($"{NamespacePair.TargetDevice}\\s+capturing · [1-9][0-9]* received", await overview.InnerTextAsync("#health"));
        await overview.WaitForTimeoutAsync(3000); // a few samples on the chart
        await Keep(overview, "overview");
        await overview.SetViewportSizeAsync(390, 844);
        await overview.WaitForTimeoutAsync(500); // the chart follows the new width
        await Keep(overview, "overview-phone");

        IPage bans = await alerts.Context.NewPageAsync();
        await bans.GotoAsync("/bans.html");
        await bans.WaitForSelectorAsync($"#active tr:has-text('{NamespacePair.ScannerAddress}')");
        Assert.Contains("hold", await bans.InnerTextAsync($"#active tr:has-text('{NamespacePair.ScannerAddress}')"));
        await Keep(bans, "bans");
        bans.Dialog += (_, dialog) => dialog.AcceptAsync();
        await bans.ClickAsync($"#active tr:has-text('{NamespacePair.ScannerAddress}') button.unblock");
        await bans.WaitForSelectorAsync("#error .ok");
        Assert.DoesNotContain(NamespacePair.ScannerAddress, HostsInSet(pair));

        await bans.FillAsync("#block input[name=address]", "203.0.113.9");
        await bans.FillAsync("#block input[name=duration]", "10m");
        await bans.FillAsync("#block input[name=reason]", "from the browser");
        await bans.ClickAsync("#block button[type=submit]");
        await bans.WaitForSelectorAsync("#block-result .ok");
        Assert.Contains("203.0.113.9", HostsInSet(pair));
        await bans.FillAsync("#block input[name=address]", "127.0.0.1");
        await bans.ClickAsync("#block button[type=submit]");
        Assert.Contains("never blocked", await bans.InnerTextAsync("#block-result .error"));
        Assert.Contains(host.Store.AuditLog(0, 10).Page, a => a.Action == "ban.add" && a.Target == "203.0.113.9" && a.Detail == "for 600s: from the browser");
    }

    [BrowserFact]
    public async Task A_viewer_sees_the_bans_but_no_block_or_unblock_buttons_and_no_users_page()
    {
        await using DashboardHost host = DashboardHost.Start();
        using (var admin = await host.LogIn("admin"))
        {
            await admin.Post("/api/v1/bans", new { address = "203.0.113.44", reason = "for the viewer to see" }).Expect(System.Net.HttpStatusCode.Created);
        }
        IPage page = await LogIn(host, "viewer", DashboardHost.ViewerPassword, "/bans.html");
        await page.WaitForSelectorAsync("#active tr:has-text('203.0.113.44')");
        Assert.Equal(0, await page.Locator("button.unblock").CountAsync());
        Assert.False(await page.IsVisibleAsync("#block-panel"));
        Assert.Equal(0, await page.Locator("nav a[href='/users.html']").CountAsync());

        await page.ClickAsync("nav a[href='/settings.html']");
        await page.WaitForSelectorAsync("#section-Decide [data-path='Decide:BanSeconds'] .value:text-is('3600')");
        Assert.Equal(0, await page.Locator("#sections input, #sections select, #sections textarea, #sections button").CountAsync());
    }

    [BrowserFact]
    public async Task An_admin_changes_the_ban_policy_and_the_allowlist_on_the_settings_page_and_the_sensor_applies_them()
    {
        await using DashboardHost host = DashboardHost.Start();
        IPage page = await LogIn(host, "admin", DashboardHost.AdminPassword, "/settings.html");
        await page.FillAsync("input[name='Decide:BanSeconds']", "7200");
        await page.SelectOptionAsync("select[name='Decide:BlockAt']", "High");
        await page.ClickAsync("#section-Decide button[type=submit]");
        await page.WaitForSelectorAsync("#section-Decide .message.ok:has-text('Decide:BlockAt, Decide:BanSeconds')");
        await page.WaitForSelectorAsync("[data-path='Decide:BanSeconds'] .badge.changed");
        Assert.True(SpinWait.SpinUntil(() => host.Sensor.Decider.Options.BanSeconds == 7200, TimeSpan.FromSeconds(5)), "the sensor did not take the new ban length");
        Assert.Equal(PortSentinel.Decide.Severity.High, host.Sensor.Decider.Options.BlockAt);

        await page.FillAsync("textarea[name='Allowlist']", "203.0.113.0/24");
        await page.ClickAsync("#section-Allowlist button[type=submit]");
        await page.WaitForSelectorAsync("#section-Allowlist .message.ok");
        Assert.True(SpinWait.SpinUntil(() => host.Sensor.Decider.Allowlist.Contains(PortSentinel.Decode.NetAddress.Parse("203.0.113.9"), out _), TimeSpan.FromSeconds(5)), "the allowlist did not reach the sensor");

        // A bad value is refused with its key, and the page keeps what was typed.
        await page.FillAsync("input[name='Detection:VerticalPorts']", "-1");
        await page.ClickAsync("#section-Detection button[type=submit]");
        await page.WaitForSelectorAsync("#section-Detection .message.error:has-text('Detection:VerticalPorts')");
        Assert.Equal("-1", await page.InputValueAsync("input[name='Detection:VerticalPorts']"));
        await Keep(page, "settings");

        await page.ClickAsync("[data-path='Decide:BanSeconds'] button.reset");
        await page.WaitForSelectorAsync("#section-Decide .message.ok");
        Assert.Equal("3600", await page.InputValueAsync("input[name='Decide:BanSeconds']"));
        Assert.True(SpinWait.SpinUntil(() => host.Sensor.Decider.Options.BanSeconds == 3600, TimeSpan.FromSeconds(5)));
    }

    [BrowserFact]
    public async Task An_admin_creates_a_token_that_is_shown_once_and_sees_it_in_the_audit_log()
    {
        await using DashboardHost host = DashboardHost.Start();
        IPage page = await LogIn(host, "admin", DashboardHost.AdminPassword, "/users.html", dark: true);
        await page.WaitForSelectorAsync("#users tr:has-text('viewer')");
        await page.FillAsync("#add-token input[name=name]", "prometheus");
        await page.ClickAsync("#add-token button[type=submit]");
        string token = await page.InnerTextAsync("#token-value");
        Assert.StartsWith("pst_", token);
        await page.WaitForSelectorAsync("#audit tr:has-text('token.add')");
        await Keep(page, "users-dark");
        using var script = host.WithToken(token);
        await script.Get("/metrics").Expect(System.Net.HttpStatusCode.OK);
    }

    [BrowserFact]
    public async Task A_reputation_looked_up_after_the_alert_appears_on_the_open_overview_and_alerts_pages()
    {
        const string Source = "45.155.205.9"; // data only: no packet goes to it
        await using DashboardHost host = DashboardHost.Start();
        IPage overview = await LogIn(host, "viewer", DashboardHost.ViewerPassword);
        IPage alerts = await LogIn(host, "viewer", DashboardHost.ViewerPassword, "/alerts.html");
        await overview.WaitForFunctionAsync("document.body.dataset.live === 'connected'");
        await alerts.WaitForFunctionAsync("document.body.dataset.live === 'connected'");
        host.Sensor.Detected(Scans.Vertical(Source, ports: 40));
        await overview.WaitForSelectorAsync($"#feed li[data-source='{Source}']");
        await alerts.WaitForSelectorAsync($"#alerts tr[data-source='{Source}']");
        Assert.Equal(0, await overview.Locator("#feed .reputation").CountAsync());
        Assert.Equal(0, await alerts.Locator("#alerts .reputation").CountAsync());

        var looked = new PortSentinel.Intel.Reputation(Source, 95, "NL", "Example Hosting", "example.net", 285, null, DateTimeOffset.UtcNow);
        host.SensorStore.SaveReputation(looked);
        host.Sensor.Feed.Publish(new ReputationEvent(DateTimeOffset.UtcNow, looked));
        await overview.WaitForSelectorAsync($"#feed li[data-source='{Source}'] .reputation:text-is('AbuseIPDB 95')");
        await alerts.WaitForSelectorAsync($"#alerts tr[data-source='{Source}'] .reputation:text-is('AbuseIPDB 95')");
    }

    [BrowserFact]
    public async Task The_mailed_report_renders_with_its_charts_and_nothing_to_fetch()
    {
        string directory = Directory.CreateTempSubdirectory("ps-report-view-").FullName;
        try
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            string file = Path.Combine(directory, "report.html");
            using (var store = PortSentinel.Record.Sqlite.SqliteStore.Open(directory))
            {
                var random = new Random(3);
                for (int i = 0; i < 120; i++)
                {
                    DateTimeOffset at = now.AddMinutes(-random.Next(0, 24 * 60));
                    var kinds = (i % 3) switch { 0 => ScanKinds.TcpSyn | ScanKinds.Vertical, 1 => ScanKinds.Udp, _ => ScanKinds.TcpFin };
                    var d = new Detection
                    {
                        Source = PortSentinel.Decode.NetAddress.Parse($"198.51.100.{i % 17}"),
                        Kinds = kinds,
                        Targets = [PortSentinel.Decode.NetAddress.Parse("192.0.2.2")],
                        TargetCount = 1,
                        Ports = 100,
                        PortRanges = i % 3 == 1 ? "udp 53,123,161" : $"tcp {1 + (i % 5)}-{100 + (i % 7)}",
                        Protocols = 0,
                        Probes = 100 + i,
                        First = at,
                        Last = at.AddSeconds(3),
                        Trigger = "trw",
                        Confidence = 1,
                        Outcomes = new DetectionOutcomes(0, 100, 0, 0, 0),
                        Final = true,
                    };
                    var decision = new PortSentinel.Decide.Decision(d, PortSentinel.Decide.Severity.Medium, i % 2 == 0 ? PortSentinel.Decide.DecisionAction.Block : PortSentinel.Decide.DecisionAction.Log, null, 1, "seeded");
                    store.RaiseAlert(d, decision, at);
                    if (i % 2 == 0)
                    {
                        store.AddBans([new PortSentinel.Record.BanRecord(PortSentinel.Decode.NetPrefix.Parse($"198.51.100.{i % 17}"), "seeded", at, at.AddHours(1), 1)]);
                    }
                }
                store.SaveReputation(new PortSentinel.Intel.Reputation("198.51.100.0", 100, "NL", "Example", "example.net", 900, now, now));
                File.WriteAllText(file, PortSentinel.Report.ReportHtml.Render(PortSentinel.Report.ActivityReport.Build(store, now.AddDays(-1), now,
                    new PortSentinel.Report.ActivityReport.SensorHealth("nftables", 3 * 86_400, 48_213_907, 0, 0))));
            }
            IBrowserContext context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 900, Height = 1000 } });
            IPage page = await context.NewPageAsync();
            var requests = new List<string>();
            page.Request += (_, r) => requests.Add(r.Url);
            await page.GotoAsync(new Uri(file).AbsoluteUri);
            Assert.Equal("PortSentinel activity report", await page.InnerTextAsync("h1"));
            Assert.True(await page.Locator("svg rect").CountAsync() >= 48, "the hourly chart has no columns");
            Assert.Contains("100/100 NL", await page.InnerTextAsync("body"), StringComparison.Ordinal);
            Assert.Equal([new Uri(file).AbsoluteUri], requests); // the page itself, nothing else
            await Keep(page, "report");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string HostsInSet(NamespacePair pair)
    {
        var (exit, output) = NamespacePair.Exec(pair.Target, TimeSpan.FromSeconds(10), "nft", "list", "set", "inet", "portsentinel", "hosts4");
        Assert.True(exit == 0, output);
        return output;
    }
}
