using System.Net;
using System.Net.Mail;
using PortSentinel.Decide;

namespace PortSentinel.Notify;

/// <summary>Mails each digest over SMTP: STARTTLS when asked, a login when a user is set (the password never logged).</summary>
public sealed class EmailChannel(EmailOptions options, TimeSpan timeout) : INotifyChannel
{
    public string Name { get; } = $"email {options.Host}:{options.Port} to {string.Join(", ", options.To)}";

    public Severity MinSeverity => options.MinSeverity;

    public async Task SendAsync(Digest digest, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(digest);
        using SmtpClient client = Client(options, timeout);
        using var message = new MailMessage { From = new MailAddress(options.From), Subject = digest.Subject, Body = digest.Text.ReplaceLineEndings("\r\n") };
        foreach (string to in options.To)
        {
            message.To.Add(to);
        }
        await client.SendMailAsync(message, cancellation).ConfigureAwait(false);
    }

    /// <summary>An SMTP client for the configured server: STARTTLS when asked, the login when a user is set.</summary>
    public static SmtpClient Client(EmailOptions options, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(options);
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
