using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using PortSentinel.Web;

namespace PortSentinel.Tests.Web;

/// <summary>How the dashboard is served: metrics in Prometheus's format, HTTPS with a PEM certificate, options checked at start.</summary>
public sealed partial class ServingTests
{
    [GeneratedRegex(@"^[a-z_]+(\{[a-z_]+=""[^""]*""(,[a-z_]+=""[^""]*"")*\})? -?[0-9.eE+-]+$")]
    private static partial Regex SampleLine();

    [Fact]
    public async Task Metrics_are_valid_prometheus_text_with_every_family()
    {
        await using DashboardHost host = DashboardHost.Start();
        using var admin = await host.LogIn("admin");
        await admin.Post("/api/v1/bans", new { address = "203.0.113.5" }).Expect(HttpStatusCode.Created);
        using HttpResponseMessage response = await admin.Get("/metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        var families = new List<string>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                string family = line.Split(' ')[2];
                Assert.DoesNotContain(family, families); // each family once, its samples together
                families.Add(family);
            }
            else if (!line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                Assert.Matches(SampleLine(), line);
                Assert.StartsWith(families[^1], line);
            }
        }
        Assert.Contains("portsentinel_packets_total", families);
        Assert.Contains("portsentinel_packets_dropped_total", families);
        Assert.Contains("portsentinel_detections_total", families);
        Assert.Contains("portsentinel_firewall_errors_total", families);
        Assert.Contains("portsentinel_reaction_seconds", families);
        Assert.Contains("portsentinel_bans_active 1\n", text);
        Assert.Contains("portsentinel_bans_added_total 1\n", text);
        Assert.Contains("portsentinel_reaction_seconds_bucket{le=\"+Inf\"}", text);
    }

    [Fact]
    public async Task Https_serves_with_the_configured_certificate_and_marks_the_cookie_secure()
    {
        string directory = Directory.CreateTempSubdirectory("ps-tls-").FullName;
        try
        {
            using var key = RSA.Create(2048);
            using X509Certificate2 certificate = SelfSignedForLoopback(key);
            string cert = Path.Combine(directory, "cert.pem");
            string pem = Path.Combine(directory, "key.pem");
            File.WriteAllText(cert, certificate.ExportCertificatePem());
            File.WriteAllText(pem, key.ExportPkcs8PrivateKeyPem());

            await using DashboardHost host = DashboardHost.Start(o =>
            {
                o.Urls = "https://127.0.0.1:0";
                o.CertificateFile = cert;
                o.CertificateKeyFile = pem;
            });
            Assert.Equal("https", host.Address.Scheme);
            using var handler = new HttpClientHandler
            {
                CookieContainer = new CookieContainer(),
                ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint,
            };
            using var client = new HttpClient(handler) { BaseAddress = host.Address };
            string csrf = (await client.GetFromJsonAsync<JsonElement>("/api/v1/session")).GetProperty("csrf").GetString()!;
            using var login = new HttpRequestMessage(HttpMethod.Post, "/api/v1/session") { Content = JsonContent.Create(new { name = "admin", password = DashboardHost.AdminPassword }) };
            login.Headers.Add("X-CSRF-TOKEN", csrf);
            using HttpResponseMessage response = await client.SendAsync(login);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            string cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("portsentinel=", StringComparison.Ordinal));
            Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Https_responses_carry_hsts_and_http_ones_do_not()
    {
        string directory = Directory.CreateTempSubdirectory("ps-hsts-").FullName;
        try
        {
            using var key = RSA.Create(2048);
            using X509Certificate2 certificate = SelfSignedForLoopback(key);
            string cert = Path.Combine(directory, "cert.pem");
            File.WriteAllText(cert, certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem()); // the key in the same file

            await using (DashboardHost host = DashboardHost.Start(o =>
            {
                o.Urls = "https://127.0.0.1:0";
                o.CertificateFile = cert;
            }))
            {
                using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint };
                using var client = new HttpClient(handler) { BaseAddress = host.Address };
                foreach (string path in new[] { "/", "/api/v1/session", "/api/v1/alerts", "/no-such-page" })
                {
                    using HttpResponseMessage response = await client.GetAsync(path);
                    Assert.True(response.Headers.TryGetValues("Strict-Transport-Security", out var values), $"no HSTS on {path} ({(int)response.StatusCode})");
                    Assert.Equal("max-age=31536000", Assert.Single(values));
                }
            }

            await using DashboardHost plain = DashboardHost.Start();
            using var http = new HttpClient { BaseAddress = plain.Address };
            using HttpResponseMessage clear = await http.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, clear.StatusCode);
            Assert.False(clear.Headers.Contains("Strict-Transport-Security"), "HSTS over plain http, where browsers ignore it (RFC 6797 §8.1)");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("key-only")]
    public void A_certificate_file_that_holds_no_usable_certificate_stops_run_with_the_key_the_file_and_the_fix(string content)
    {
        string directory = Directory.CreateTempSubdirectory("ps-tls-bad-").FullName;
        try
        {
            string cert = Path.Combine(directory, "cert.pem");
            if (content == "garbage")
            {
                File.WriteAllBytes(cert, [.. Enumerable.Range(0, 512).Select(i => (byte)(i * 37))]);
            }
            else
            {
                using var key = RSA.Create(2048);
                File.WriteAllText(cert, key.ExportPkcs8PrivateKeyPem()); // a key, and no certificate
            }
            string cli = Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll");
            var (exit, _, stderr) = ProcessRunner.RunApart("dotnet",
                [cli, "run", "--interface", "lo", "--data-dir", Path.Combine(directory, "data"), "--firewall", "dry-run", "--urls", "https://127.0.0.1:0",
                 "--set", $"Dashboard:CertificateFile={cert}"],
                TimeSpan.FromSeconds(60));
            Assert.Equal(2, exit); // ExitCodes.BadConfiguration
            Assert.Contains($"Dashboard:CertificateFile is \"{cert}\", which holds no usable certificate", stderr);
            Assert.Contains("give a PEM certificate", stderr);
            Assert.DoesNotContain("Unhandled", stderr);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("Urls", "ftp://127.0.0.1:21", "Dashboard:Urls has \"ftp://127.0.0.1:21\"")]
    [InlineData("Urls", "https://127.0.0.1:8443", "Dashboard:CertificateFile is needed for https://127.0.0.1:8443")]
    [InlineData("CertificateFile", "/nonexistent/cert.pem", "Dashboard:CertificateFile is \"/nonexistent/cert.pem\", which does not exist")]
    [InlineData("LockoutFailures", "0", "Dashboard:LockoutFailures is 0")]
    [InlineData("LiveQueue", "10", "Dashboard:LiveQueue is 10")]
    public void Bad_options_name_the_key_and_the_fix(string key, string value, string message)
    {
        var options = new DashboardOptions();
        typeof(DashboardOptions).GetProperty(key)!.SetValue(options, key is "Urls" or "CertificateFile" ? value : int.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(options.Validate(), e => e.StartsWith(message, StringComparison.Ordinal));
        Assert.Empty(new DashboardOptions().Validate());
    }

    /// <summary>A certificate for 127.0.0.1 signed by <paramref name="key"/>, valid for a day.</summary>
    private static X509Certificate2 SelfSignedForLoopback(RSA key)
    {
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
