using System.Globalization;
using System.Net.Sockets;
using System.Text;
using PortSentinel.Decide;
using PortSentinel.Record;

namespace PortSentinel.Notify;

/// <summary>
/// Sends each alert of a digest as an RFC 5424 message (facility auth), over UDP, TCP (RFC 6587
/// octet counting) or the local socket (/dev/log), and a summary message when more were grouped
/// than listed. Severity: critical → crit, high → err, medium → warning, low → notice.
/// </summary>
public sealed class SyslogChannel(SyslogOptions options) : INotifyChannel
{
    private const int Facility = 4; // security/authorization

    public string Name { get; } = $"syslog {options.Address}";

    public Severity MinSeverity => options.MinSeverity;

    public async Task SendAsync(Digest digest, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(digest);
        if (!SyslogOptions.TryParse(options.Address, out string scheme, out string host, out int port))
        {
            throw new InvalidOperationException($"{NotifyOptions.Section}:Syslog:Address \"{options.Address}\" is not udp://HOST:PORT, tcp://HOST:PORT or unix:///PATH");
        }
        var messages = digest.Listed.Select(a => Format(Code(a.Severity), "ALERT", digest.Line(a), a.Raised ?? a.Last)).ToList();
        if (digest.Count > digest.Listed.Count)
        {
            messages.Add(Format(4, "DIGEST", $"{digest.Count} alerts ({digest.Severities}) from {digest.From:HH:mm:ss} to {digest.To:HH:mm:ss} UTC, {digest.Count - digest.Listed.Count} not listed", digest.To));
        }
        switch (scheme)
        {
            case "udp":
                {
                    using var udp = new UdpClient();
                    foreach (byte[] message in messages)
                    {
                        await udp.SendAsync(message, host, port, cancellation).ConfigureAwait(false);
                    }
                    break;
                }
            case "tcp":
                {
                    using var tcp = new TcpClient();
                    await tcp.ConnectAsync(host, port, cancellation).ConfigureAwait(false);
                    NetworkStream stream = tcp.GetStream();
                    foreach (byte[] message in messages)
                    {
                        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{message.Length} "), cancellation).ConfigureAwait(false);
                        await stream.WriteAsync(message, cancellation).ConfigureAwait(false);
                    }
                    break;
                }
            default:
                {
                    using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(host), cancellation).ConfigureAwait(false);
                    foreach (byte[] message in messages)
                    {
                        await socket.SendAsync(message, cancellation).ConfigureAwait(false);
                    }
                    break;
                }
        }
    }

    private static int Code(string? severity) => severity switch
    {
        "critical" => 2,
        "high" => 3,
        "medium" => 4,
        _ => 5,
    };

    /// <summary>&lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG</summary>
    private byte[] Format(int severity, string id, string text, DateTimeOffset at) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"<{Facility * 8 + severity}>1 {at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {Environment.MachineName} {options.AppName} {Environment.ProcessId} {id} - {text}"));

    public void Dispose()
    {
    }
}
