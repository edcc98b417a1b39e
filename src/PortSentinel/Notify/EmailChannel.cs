using System.Net;
using System.Net.Mail;
using PortSentinel.Decide;

namespace PortSentinel.Notify;

/// <summary>Mails each digest over SMTP: STARTTLS when asked, a login when a user is set (the password never logged).</summary>
public sealed class EmailChannel(EmailOptions options, TimeSpan timeout) : INotifyChannel
{
    public string Name { get; } = $"email {options.Host}:{options.Port} to {string.Join(", ", options.To)}";

    public Severity MinSeverity => options.MinSeverity;

    public Task SendAsync(Digest digest, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(digest);
        return MailAsync(options, timeout, digest.Subject, digest.Text.ReplaceLineEndings("\r\n"), html: false, cancellation);
    }

    /// <summary>Mails <paramref name="body"/> to every recipient of <paramref name="options"/>: alert digests, and the daily report.</summary>
    public static async Task MailAsync(EmailOptions options, TimeSpan timeout, string subject, string body, bool html, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        using SmtpClient client = Client(options, timeout);
        using var message = new MailMessage { From = new MailAddress(options.From), Subject = subject, Body = body, IsBodyHtml = html };
        foreach (string to in options.To)
        {
            message.To.Add(to);
        }
        await client.SendMailAsync(message, cancellation).ConfigureAwait(false);
    }

    /// <summary>An SMTP client for the configured server: STARTTLS when asked, the login when a user is set.</summary>
    private static SmtpClient Client(EmailOptions options, TimeSpan timeout)
    {
        var client = new SmtpClient(options.Host, options.Port)
        {
            EnableSsl = options.StartTls,
            DeliveryMethod = SmtpDeliveryMethod.Network,
            Timeout = (int)timeout.TotalMilliseconds,
        };
        if (options.User.Length > 0)
        {
            client.Credentials = new NetworkCredential(options.User, options.Password);
        }
        return client;
    }

    public void Dispose()
    {
    }
}
