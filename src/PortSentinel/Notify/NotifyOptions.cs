using PortSentinel.Decide;

namespace PortSentinel.Notify;

/// <summary>
/// Where alerts are sent, bound from the <c>Notify</c> section: webhooks, syslog and email, each
/// with its own least severity. Alerts are grouped into one message per channel every
/// <see cref="DigestSeconds"/>, so that a scan storm does not become a message storm.
/// </summary>
public sealed class NotifyOptions
{
    public const string Section = "Notify";

    /// <summary>Alerts are sent at most this often per channel, grouped (the first of a quiet spell waits at most this long too).</summary>
    public int DigestSeconds { get; set; } = 60;

    /// <summary>A message that cannot be delivered is tried this many times in all (1 s, 2 s, 4 s, … apart), then given up and reported.</summary>
    public int Attempts { get; set; } = 5;

    public IList<WebhookOptions> Webhooks { get; set; } = [];

    public SyslogOptions Syslog { get; set; } = new();

    public EmailOptions Email { get; set; } = new();

    public bool Enabled => Webhooks.Count > 0 || Syslog.Enabled || Email.Enabled;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (DigestSeconds is < 1 or > 86_400)
        {
            errors.Add($"{Section}:{nameof(DigestSeconds)} is {DigestSeconds}; give 1–86400 seconds.");
        }
        if (Attempts is < 1 or > 20)
        {
            errors.Add($"{Section}:{nameof(Attempts)} is {Attempts}; give 1–20.");
        }
        for (int i = 0; i < Webhooks.Count; i++)
        {
            WebhookOptions w = Webhooks[i];
            string key = $"{Section}:{nameof(Webhooks)}:{i}";
            if (!Uri.TryCreate(w.Url, UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            {
                errors.Add($"{key}:{nameof(WebhookOptions.Url)} is \"{w.Url}\"; give the http(s) address to post to.");
            }
            if (w.Format is not ("generic" or "slack" or "discord" or "teams"))
            {
                errors.Add($"{key}:{nameof(WebhookOptions.Format)} is \"{w.Format}\"; use generic, slack, discord or teams.");
            }
        }
        if (Syslog.Enabled && !SyslogOptions.TryParse(Syslog.Address, out _, out _, out _))
        {
            errors.Add($"{Section}:{nameof(Syslog)}:{nameof(SyslogOptions.Address)} is \"{Syslog.Address}\"; give udp://HOST:PORT, tcp://HOST:PORT or unix:///dev/log.");
        }
        if (Email.Enabled && (Email.To.Count == 0 || Email.From.Length == 0 || Email.Port is < 1 or > 65535))
        {
            errors.Add($"{Section}:{nameof(Email)} needs {nameof(EmailOptions.From)}, at least one {nameof(EmailOptions.To)} and a {nameof(EmailOptions.Port)} 1–65535 when {nameof(EmailOptions.Host)} is set.");
        }
        return errors;
    }
}

public sealed class WebhookOptions
{
    public string Url { get; set; } = "";

    /// <summary>generic (PortSentinel's JSON), slack, discord or teams.</summary>
    public string Format { get; set; } = "generic";

    public Severity MinSeverity { get; set; } = Severity.High;
}

public sealed class SyslogOptions
{
    /// <summary>udp://HOST:PORT, tcp://HOST:PORT (RFC 6587 octet counting) or unix:///dev/log; empty: off.</summary>
    public string Address { get; set; } = "";

    public string AppName { get; set; } = "portsentinel";

    public Severity MinSeverity { get; set; } = Severity.Medium;

    public bool Enabled => Address.Length > 0;

    public static bool TryParse(string address, out string scheme, out string host, out int port)
    {
        scheme = host = "";
        port = 0;
        if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? uri))
        {
            return false;
        }
        scheme = uri.Scheme;
        host = scheme == "unix" ? uri.AbsolutePath : uri.Host;
        port = uri.Port;
        return scheme switch
        {
            "udp" or "tcp" => host.Length > 0 && port is > 0 and <= 65535,
            "unix" => host.Length > 1,
            _ => false,
        };
    }
}

public sealed class EmailOptions
{
    /// <summary>The SMTP server; empty: no email.</summary>
    public string Host { get; set; } = "";

    public int Port { get; set; } = 587;

    /// <summary>Upgrade the connection with STARTTLS before logging in (keep it on unless the server is local).</summary>
    public bool StartTls { get; set; } = true;

    public string User { get; set; } = "";

    /// <summary>Best from the environment: PORTSENTINEL__Notify__Email__Password.</summary>
    public string Password { get; set; } = "";

    public string From { get; set; } = "";

    public IList<string> To { get; set; } = [];

    public Severity MinSeverity { get; set; } = Severity.High;

    public bool Enabled => Host.Length > 0;
}
