using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using PortSentinel.Capture;
using PortSentinel.Cli.Commands;
using PortSentinel.Decide;
using PortSentinel.Detect;
using PortSentinel.Record.Sqlite;
using PortSentinel.Respond;
using PortSentinel.Tests.Capture;
using PortSentinel.Web;
using PortSentinel.Web.Accounts;

namespace PortSentinel.Tests.Web;

/// <summary>
/// The real dashboard on loopback (Kestrel, a free port) in front of a real sensor with a real
/// SQLite file: a sensor that captures on no interface and uses the dry-run firewall unless
/// given another, so that it needs no privilege. Accounts admin and viewer exist from the start.
/// </summary>
public sealed class DashboardHost : IAsyncDisposable
{
    public const string AdminPassword = "Correct-Horse-7741";
    public const string ViewerPassword = "Battery-Staple-0193";

    private readonly string _data = Path.Combine(Path.GetTempPath(), $"ps-web-{Guid.NewGuid():N}");
    private readonly WebApplication _app;

    public SqliteStore SensorStore { get; }

    public SqliteStore Store { get; }

    public Sensor Sensor { get; }

    public DashboardContext Context { get; }

    public ConcurrentQueue<string> Log { get; } = new();

    public Uri Address { get; }

    private IFirewall _firewall = null!;

    private DashboardHost(DashboardOptions options, TrapOptions? trap, Sensing? sensing, bool accounts, string[] set, bool reports)
    {
        SensorStore = SqliteStore.Open(_data);
        Sources = new SettingsSources(null, set, sensing is null ? "dry-run" : "nftables", _data);
        SensorSettings initial = SensorSettings.Load(Sources);
        var decider = new Decider(new Allowlist(HostFacts.Read(), initial.Allowed), initial.Decide);
        Sensor Make()
        {
            _firewall = sensing?.Firewall() ?? new DryRunFirewall();
            var sensor = new Sensor(new SensorOptions { Interfaces = sensing?.Interfaces ?? [], EveryInterface = sensing is { Interfaces.Length: 0 }, Trap = trap ?? new TrapOptions(), Detection = initial.Detection }, decider, _firewall, SensorStore, Log.Enqueue);
            sensor.Start();
            return sensor;
        }
        // The sensor's threads (capture, respond) start in its namespace and stay there; the web
        // server listens on the host's loopback, where the browser is.
        Sensor = sensing?.Namespace is { } ns ? NamespacePair.In(ns, Make) : Make();
        Store = SqliteStore.Open(_data);
        if (accounts)
        {
            Assert.Null(Passwords.AddUser(Store, "admin", Roles.Admin, AdminPassword, DateTimeOffset.UtcNow));
            Assert.Null(Passwords.AddUser(Store, "viewer", Roles.Viewer, ViewerPassword, DateTimeOffset.UtcNow));
        }
        Context = new DashboardContext(Sensor, Store, Path.GetDirectoryName(Store.Path)!, options, Log.Enqueue)
        {
            Settings = new RunningSettings(Sources, initial, Sensor, Log.Enqueue),
            ReportsDirectory = reports ? Path.Combine(_data, "reports") : null,
        };
        _app = Dashboard.Build(Context);
        _app.StartAsync().GetAwaiter().GetResult();
        Address = new Uri(_app.Urls.First());
    }

    /// <summary>Where the configuration comes from: the defaults, the --set flags given to <see cref="Start"/>, and the dashboard's changes in the data directory.</summary>
    internal SettingsSources Sources { get; }

    /// <summary>Where the sensor captures (none named: on every interface, as each comes up) and what firewall it drives: made inside <see cref="Namespace"/>, when given.</summary>
    public sealed record Sensing(string[] Interfaces, Func<IFirewall> Firewall, string? Namespace);

    public static DashboardHost Start(Action<DashboardOptions>? configure = null, TrapOptions? trap = null, Sensing? sensing = null, bool accounts = true, string[]? set = null, bool reports = false)
    {
        var options = new DashboardOptions { Urls = "http://127.0.0.1:0" };
        configure?.Invoke(options);
        Assert.Empty(options.Validate());
        return new DashboardHost(options, trap, sensing, accounts, set ?? [], reports);
    }

    /// <summary>A client of its own (its own cookies), not logged in; <see cref="Client.Csrf"/> holds its CSRF token.</summary>
    public async Task<Client> Anonymous()
    {
        var client = new Client(Address);
        await client.RefreshCsrf();
        return client;
    }

    /// <summary>A browser-like client logged in as <paramref name="name"/>.</summary>
    public async Task<Client> LogIn(string name, string? password = null)
    {
        Client client = await Anonymous();
        HttpResponseMessage response = await client.Post("/api/v1/session", new { name, password = password ?? (name == "admin" ? AdminPassword : ViewerPassword) });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        client.Csrf = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("csrf").GetString();
        return client;
    }

    /// <summary>A client that sends an API token and no cookie.</summary>
    public Client WithToken(string token)
    {
        var client = new Client(Address);
        client.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Sensor.Dispose();
        _firewall.Dispose();
        Store.Dispose();
        SensorStore.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    public sealed class Client : IDisposable
    {
        public Client(Uri address)
        {
            Handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
            Http = new HttpClient(Handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        }

        public HttpClientHandler Handler { get; }

        public HttpClient Http { get; }

        public string? Csrf { get; set; }

        public async Task RefreshCsrf() =>
            Csrf = (await Http.GetFromJsonAsync<JsonElement>("/api/v1/session")).GetProperty("csrf").GetString();

        public Task<HttpResponseMessage> Get(string path) => Http.GetAsync(path);

        public Task<HttpResponseMessage> Post(string path, object body, bool csrf = true) => Send(HttpMethod.Post, path, body, csrf);

        public Task<HttpResponseMessage> Patch(string path, object body, bool csrf = true) => Send(HttpMethod.Patch, path, body, csrf);

        public Task<HttpResponseMessage> Send(string path, object body, bool csrf = true) => Send(HttpMethod.Put, path, body, csrf);

        public Task<HttpResponseMessage> Delete(string path, bool csrf = true) => Send(HttpMethod.Delete, path, null, csrf);

        private Task<HttpResponseMessage> Send(HttpMethod method, string path, object? body, bool csrf)
        {
            var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            if (csrf && Csrf is not null)
            {
                request.Headers.Add("X-CSRF-TOKEN", Csrf);
            }
            return Http.SendAsync(request);
        }

        public void Dispose()
        {
            Http.Dispose();
            Handler.Dispose();
        }
    }
}

internal static class ResponseExtensions
{
    /// <summary>The JSON body; fails with the status and body when the status is not <paramref name="expected"/>.</summary>
    public static async Task<JsonElement> Expect(this Task<HttpResponseMessage> call, HttpStatusCode expected)
    {
        using HttpResponseMessage response = await call;
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return response.Content.Headers.ContentType?.MediaType == "application/json" ? JsonDocument.Parse(body).RootElement.Clone() : default;
    }

    /// <summary>The "error" message of a 4xx answer with status <paramref name="expected"/>.</summary>
    public static async Task<string> Error(this Task<HttpResponseMessage> call, HttpStatusCode expected) =>
        (await call.Expect(expected)).GetProperty("error").GetString()!;
}
