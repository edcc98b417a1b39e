using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using PortSentinel.Cli.Commands;
using PortSentinel.Decide;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Notify;
using PortSentinel.Record;

namespace PortSentinel.Tests.Notify;

/// <summary>
/// Notifications against real servers on loopback (an HTTP receiver, a syslog listener, an SMTP
/// server): digests instead of storms, each format, retries, and a dead channel that delays no other.
/// </summary>
public sealed class NotifierTests : IAsyncLifetime, IDisposable
{
    private WebhookReceiver _web = null!;
    private readonly SyslogListener _syslog = new();
    private readonly SmtpSink _smtp = new();
    private readonly ConcurrentQueue<string> _log = new();

    public Task InitializeAsync()
    {
        _web = new WebhookReceiver();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _web.DisposeAsync();

    public void Dispose()
    {
        _syslog.Dispose();
        _smtp.Dispose();
    }

    private static AlertRecord Alert(int i, string severity) => new(i, $"198.51.100.{i % 250}", ["tcp-syn", "vertical"], DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow,
        DateTimeOffset.UtcNow, null, 1, ["192.0.2.2"], 100, "tcp 1-100", 0, 100, "trw", 0.99, severity, "block", $"scan {i}", new DetectionOutcomes(0, 100, 0, 0, 0));

    private static void Eventually(Func<bool> condition, string what, int seconds = 10) =>
        Assert.True(SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(seconds)), what);

    private EmailOptions Mail() => new() { Host = "127.0.0.1", Port = _smtp.Port, StartTls = false, From = "sensor@example.net", To = ["ops@example.net", "sec@example.net"], MinSeverity = Severity.High };

    [Fact]
    public void A_storm_of_alerts_becomes_one_digest_per_channel_with_the_counts_and_low_ones_stay_out()
    {
        var feed = new SensorFeed();
        var options = new NotifyOptions
        {
            DigestSeconds = 1,
            Webhooks = [new WebhookOptions { Url = _web.Address + "/hook", Format = "generic", MinSeverity = Severity.High }],
            Email = Mail(),
        };
        Assert.Empty(options.Validate());
        using (var notifier = new Notifier(options, Notifier.Channels(options), feed, _log.Enqueue))
        {
            for (int i = 0; i < 50; i++)
            {
                feed.Publish(new AlertEvent(DateTimeOffset.UtcNow, Alert(i, i % 10 == 0 ? "critical" : "high"), Ended: false));
                feed.Publish(new AlertEvent(DateTimeOffset.UtcNow, Alert(i, "low"), Ended: false));
            }
            Eventually(() => !_web.Posts.IsEmpty && !_smtp.Mails.IsEmpty, "no digest arrived");
            Thread.Sleep(1500); // a second interval: nothing more to send
            Assert.All(notifier.Status(), s => Assert.Equal((1L, 0L), (s.Sent, s.Failed)));
        }

        JsonNode body = Assert.Single(_web.Posts).Body;
        Assert.Equal(50, body["count"]!.GetValue<int>());
        Assert.Equal((5, 45), (body["bySeverity"]!["critical"]!.GetValue<int>(), body["bySeverity"]!["high"]!.GetValue<int>()));
        Assert.Equal(Digest.ListedMost, body["alerts"]!.AsArray().Count);
        Assert.Equal("198.51.100.0", body["alerts"]![0]!["source"]!.GetValue<string>());

        var (from, to, raw) = Assert.Single(_smtp.Mails);
        string data = SmtpSink.Readable(raw);
        Assert.Equal("<sensor@example.net>", from);
        Assert.Equal(["<ops@example.net>", "<sec@example.net>"], to);
        Assert.Contains("Subject: PortSentinel: 50 alerts (5 critical, 45 high)", data, StringComparison.Ordinal);
        Assert.Contains("UTC critical 198.51.100.0 tcp-syn,vertical ports=100 (tcp 1-100) targets=1 probes=100 block: scan 0", data, StringComparison.Ordinal);
        Assert.Contains("and 30 more", data, StringComparison.Ordinal);
    }

    private static Reputation Known(string address, int score) => new(address, score, "NL", "Example Hosting", "example.net", score * 3, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow);

    [Fact]
    public void A_reputation_known_or_learned_before_the_digest_goes_is_sent_with_it_and_a_redecided_alert_replaces_its_first_decision()
    {
        var feed = new SensorFeed();
        var options = new NotifyOptions
        {
            DigestSeconds = 3, // everything below is published within the first interval
            Webhooks = [new WebhookOptions { Url = _web.Address + "/hook", Format = "generic", MinSeverity = Severity.Medium }],
            Syslog = new SyslogOptions { Address = _syslog.Udp, MinSeverity = Severity.Medium },
        };
        using (var notifier = new Notifier(options, Notifier.Channels(options), feed, _log.Enqueue))
        {
            feed.Publish(new AlertEvent(DateTimeOffset.UtcNow, Alert(1, "medium"), Ended: false, Known("198.51.100.1", 40)));
            feed.Publish(new AlertEvent(DateTimeOffset.UtcNow, Alert(2, "medium"), Ended: false));
            feed.Publish(new ReputationEvent(DateTimeOffset.UtcNow, Known("198.51.100.2", 95)));
            feed.Publish(new AlertEvent(DateTimeOffset.UtcNow, Alert(2, "critical"), Ended: false, Known("198.51.100.2", 95))); // decided again with it
            feed.Publish(new ReputationEvent(DateTimeOffset.UtcNow, Known("203.0.113.9", 100))); // no alert of it waits
            Eventually(() => !_web.Posts.IsEmpty && _syslog.Messages.Count >= 2, "no digest arrived");
        }

        JsonNode body = Assert.Single(_web.Posts).Body;
        Assert.Equal(2, body["count"]!.GetValue<int>());
        Assert.Equal((1, 1), (body["bySeverity"]!["medium"]!.GetValue<int>(), body["bySeverity"]!["critical"]!.GetValue<int>()));
        JsonArray alerts = body["alerts"]!.AsArray();
        Assert.Equal([1L, 2L], alerts.Select(a => a!["id"]!.GetValue<long>()));
        Assert.Equal(40, alerts[0]!["reputation"]!["score"]!.GetValue<int>());
        Assert.Equal(("critical", 95, "Example Hosting"), (alerts[1]!["severity"]!.GetValue<string>(), alerts[1]!["reputation"]!["score"]!.GetValue<int>(), alerts[1]!["reputation"]!["isp"]!.GetValue<string>()));
        Assert.DoesNotContain("203.0.113.9", body.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains(_syslog.Messages, m => m.Contains("critical 198.51.100.2 tcp-syn,vertical ports=100 (tcp 1-100) targets=1 probes=100 abuseipdb=95 reports=285 country=NL block", StringComparison.Ordinal));
        Assert.DoesNotContain(_syslog.Messages, m => m.Contains("medium 198.51.100.2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Slack_discord_and_teams_get_their_own_message_formats()
    {
        var digest = new Digest([Alert(7, "critical")], 1, new Dictionary<string, int> { ["critical"] = 1 }, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
        foreach (string format in new[] { "slack", "discord", "teams" })
        {
            using var channel = new WebhookChannel(new WebhookOptions { Url = $"{_web.Address}/{format}/T000/B000/secret", Format = format }, TimeSpan.FromSeconds(5));
            Assert.DoesNotContain("secret", channel.Name, StringComparison.Ordinal);
            await channel.SendAsync(digest, CancellationToken.None);
        }
        Dictionary<string, JsonNode> bodies = _web.Posts.ToDictionary(p => p.Path.Split('/')[1], p => p.Body);
        Assert.StartsWith("PortSentinel: critical tcp-syn,vertical scan from 198.51.100.7 (block)", bodies["slack"]["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("198.51.100.7", bodies["discord"]["content"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("MessageCard", bodies["teams"]["@type"]!.GetValue<string>());
        Assert.Equal("https://schema.org/extensions", bodies["teams"]["@context"]!.GetValue<string>());
        Assert.Contains("198.51.100.7", bodies["teams"]["title"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Syslog_gets_rfc_5424_messages_over_udp_and_tcp_with_a_summary_of_what_was_not_listed()
    {
        var listed = Enumerable.Range(0, Digest.ListedMost).Select(i => Alert(i, i == 0 ? "critical" : "medium")).ToList();
        var digest = new Digest(listed, 25, new Dictionary<string, int> { ["critical"] = 1, ["medium"] = 24 }, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
        using (var udp = new SyslogChannel(new SyslogOptions { Address = _syslog.Udp }))
        {
            await udp.SendAsync(digest, CancellationToken.None);
        }
        using (var tcp = new SyslogChannel(new SyslogOptions { Address = _syslog.Tcp, AppName = "ps-test" }))
        {
            await tcp.SendAsync(digest, CancellationToken.None);
        }
        Eventually(() => _syslog.Messages.Count == 2 * (Digest.ListedMost + 1), "not every syslog message arrived");
        string[] messages = [.. _syslog.Messages];
        Assert.Contains(messages, m => m.StartsWith("<34>1 ", StringComparison.Ordinal) && m.Contains(" portsentinel ", StringComparison.Ordinal) && m.Contains(" ALERT - ", StringComparison.Ordinal) && m.Contains("critical 198.51.100.0 tcp-syn,vertical", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("<36>1 ", StringComparison.Ordinal) && m.Contains(" ps-test ", StringComparison.Ordinal));
        Assert.Equal(2, messages.Count(m => m.Contains(" DIGEST - 25 alerts (1 critical, 24 medium)", StringComparison.Ordinal) && m.Contains("5 not listed", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_failing_channel_is_retried_with_backoff_and_a_dead_one_delays_no_other()
    {
        _web.Failures.Enqueue(500);
        _web.Failures.Enqueue(503);
        var feed = new SensorFeed();
        var options = new NotifyOptions
        {
            DigestSeconds = 1,
            Attempts = 5,
            Webhooks =
            [
                new WebhookOptions { Url = _web.Address + "/flaky", MinSeverity = Severity.Low },
                new WebhookOptions { Url = "http://127.0.0.1:9/dead", MinSeverity = Severity.Low }, // discard port: nothing listens
            ],
            Syslog = new SyslogOptions { Address = _syslog.Udp, MinSeverity = Severity.Low },
        };
        using var notifier = new Notifier(options, Notifier.Channels(options), feed, _log.Enqueue);
        feed.Publish(new AlertEvent(DateTimeOffset.UtcNow, Alert(1, "high"), Ended: false));

        Eventually(() => !_syslog.Messages.IsEmpty, "syslog waited for the dead webhook", seconds: 4);
        Eventually(() => notifier.Status()[0].Sent == 1, "the flaky webhook was not retried until it took the digest");
        Assert.Single(_web.Posts);
        ChannelStatus flaky = notifier.Status()[0];
        Assert.Equal((1L, 2L), (flaky.Sent, flaky.Failed));
        Assert.Contains(_log, l => l.StartsWith("WARNING notify webhook generic 127.0.0.1: ", StringComparison.Ordinal) && l.Contains("500", StringComparison.Ordinal) && l.Contains("trying again in 1s", StringComparison.Ordinal));
        Assert.Contains(_log, l => l.Contains("503", StringComparison.Ordinal) && l.Contains("trying again in 2s", StringComparison.Ordinal));
        Eventually(() => notifier.Status()[1].Failed >= 2, "the dead webhook's failures were not counted");
        Assert.Equal(0, notifier.Status()[1].Sent);
        Assert.NotNull(notifier.Status()[1].LastError);
    }

    [Fact]
    public void A_mail_server_that_refuses_the_recipient_is_told_in_the_log_and_health_and_tried_again()
    {
        _smtp.Refusals.Enqueue("550 5.1.1 <ops@example.net>: no such mailbox");
        var feed = new SensorFeed();
        var email = Mail();
        email.To = ["ops@example.net"];
        var options = new NotifyOptions { DigestSeconds = 1, Attempts = 3, Email = email };
        using var notifier = new Notifier(options, Notifier.Channels(options), feed, _log.Enqueue);
        feed.Publish(new AlertEvent(DateTimeOffset.UtcNow, Alert(4, "critical"), Ended: false));

        Eventually(() => notifier.Status()[0].Sent == 1, "the mail was not sent again after the refusal");
        Assert.Equal(1L, notifier.Status()[0].Failed);
        Assert.Contains(_log, l => l.StartsWith("WARNING notify email 127.0.0.1:", StringComparison.Ordinal) && l.Contains("trying again in 1s", StringComparison.Ordinal));
        var (_, to, data) = Assert.Single(_smtp.Mails);
        Assert.Equal(["<ops@example.net>"], to);
        Assert.Contains("critical 198.51.100.4", SmtpSink.Readable(data), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Email_upgrades_with_starttls_before_it_logs_in_and_refuses_a_server_it_cannot_trust()
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var tls = new SmtpSink(System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx), null));
        var options = new EmailOptions { Host = "127.0.0.1", Port = tls.Port, StartTls = true, User = "sensor", Password = "s3cret-pass", From = "sensor@example.net", To = ["ops@example.net"] };
        var digest = new Digest([Alert(9, "critical")], 1, new Dictionary<string, int> { ["critical"] = 1 }, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);

        // A self-signed certificate nobody trusts: the mail is not sent, and the password never leaves.
        using (var channel = new EmailChannel(options, TimeSpan.FromSeconds(10)))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => channel.SendAsync(digest, CancellationToken.None));
        }
        Assert.Empty(tls.Logins);
        Assert.Empty(tls.Mails);

        // Trusted (as a real server's certificate would be): STARTTLS, then the login, then the mail.
#pragma warning disable SYSLIB0014 // System.Net.Mail validates server certificates through ServicePointManager
        System.Net.ServicePointManager.ServerCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString();
        try
        {
            using var channel = new EmailChannel(options, TimeSpan.FromSeconds(10));
            await channel.SendAsync(digest, CancellationToken.None);
        }
        finally
        {
            System.Net.ServicePointManager.ServerCertificateValidationCallback = null;
        }
#pragma warning restore SYSLIB0014
        Assert.Equal(("sensor", "s3cret-pass", true), Assert.Single(tls.Logins));
        Assert.Contains("Subject: PortSentinel: critical tcp-syn,vertical scan from 198.51.100.9", SmtpSink.Readable(Assert.Single(tls.Mails).Data), StringComparison.Ordinal);
    }

    [Fact]
    public void The_real_program_takes_notify_test_with_its_options_after_the_subcommand()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll");
        var (exit, output, errors) = ProcessRunner.RunApart("dotnet", [cli, "notify", "test", "--data-dir", "/nonexistent", "--set", $"Notify:Syslog:Address={_syslog.Udp}"], TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, output + errors);
        Assert.Contains($"ok    syslog {_syslog.Udp}", output, StringComparison.Ordinal);
        (exit, _, errors) = ProcessRunner.RunApart("dotnet", [cli, "notify", "test", "--data-dir", "/nonexistent"], TimeSpan.FromSeconds(60));
        Assert.Equal(1, exit);
        Assert.Contains("no channel is configured", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void A_slow_channel_holds_up_no_other()
    {
        _web.Failures.Enqueue(0);
        var feed = new SensorFeed();
        var options = new NotifyOptions
        {
            DigestSeconds = 1,
            Webhooks = [new WebhookOptions { Url = _web.Address + "/slow", MinSeverity = Severity.Low }],
            Syslog = new SyslogOptions { Address = _syslog.Tcp, MinSeverity = Severity.Low },
        };
        using var notifier = new Notifier(options, Notifier.Channels(options), feed, _log.Enqueue);
        var published = DateTimeOffset.UtcNow;
        feed.Publish(new AlertEvent(published, Alert(2, "critical"), Ended: false));
        Eventually(() => !_syslog.Messages.IsEmpty, "syslog waited for the slow webhook", seconds: 3);
        Assert.Empty(_web.Posts);
        Eventually(() => !_web.Posts.IsEmpty, "the slow webhook never took the digest");
        Assert.True(DateTimeOffset.UtcNow - published >= TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task Syslog_reaches_the_local_socket()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ps-log-{Guid.NewGuid():N}.sock");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        try
        {
            using var channel = new SyslogChannel(new SyslogOptions { Address = $"unix://{path}" });
            await channel.SendAsync(new Digest([Alert(3, "high")], 1, new Dictionary<string, int> { ["high"] = 1 }, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow), CancellationToken.None);
            byte[] buffer = new byte[4096];
            int length = socket.Receive(buffer);
            string message = System.Text.Encoding.UTF8.GetString(buffer, 0, length);
            Assert.StartsWith("<35>1 ", message, StringComparison.Ordinal); // auth.err
            Assert.Contains("high 198.51.100.3 tcp-syn,vertical", message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Notify_test_sends_a_sample_to_every_channel_and_says_which_failed()
    {
        var output = new StringWriter();
        int exit = NotifyCommand.Test(null,
        [
            $"Notify:Webhooks:0:Url={_web.Address}/test", "Notify:Webhooks:0:Format=slack",
            "Notify:Webhooks:1:Url=http://127.0.0.1:9/dead",
            $"Notify:Syslog:Address={_syslog.Tcp}",
            "Notify:Email:Host=127.0.0.1", $"Notify:Email:Port={_smtp.Port}", "Notify:Email:StartTls=false", "Notify:Email:From=sensor@example.net", "Notify:Email:To:0=ops@example.net",
        ], "/nonexistent", output);
        string text = output.ToString();
        Assert.Equal(1, exit);
        Assert.Contains("ok    webhook slack 127.0.0.1", text, StringComparison.Ordinal);
        Assert.Contains("FAIL  webhook generic 127.0.0.1", text, StringComparison.Ordinal);
        Assert.Contains($"ok    syslog {_syslog.Tcp}", text, StringComparison.Ordinal);
        Assert.Contains("ok    email 127.0.0.1", text, StringComparison.Ordinal);
        Assert.Contains("test alert", _web.Posts.Single().Body["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("Subject: PortSentinel: critical tcp-syn,vertical scan from 203.0.113.7", SmtpSink.Readable(Assert.Single(_smtp.Mails).Data), StringComparison.Ordinal);
        Eventually(() => !_syslog.Messages.IsEmpty, "no syslog message");
    }
}
