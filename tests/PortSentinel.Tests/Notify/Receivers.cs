using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PortSentinel.Tests.Notify;

/// <summary>An HTTP server on loopback that keeps what is posted to it; <see cref="Failures"/> answers to give first (a status code, or 0: answer 4 s late).</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    public ConcurrentQueue<(string Path, JsonNode Body)> Posts { get; } = new();

    public ConcurrentQueue<int> Failures { get; } = new();

    public string Address { get; }

    public WebhookReceiver()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapPost("/{**path}", async (HttpContext http) =>
        {
            if (Failures.TryDequeue(out int status))
            {
                if (status != 0)
                {
                    return Results.StatusCode(status);
                }
                await Task.Delay(TimeSpan.FromSeconds(4)); // 0: a slow answer, then as usual
            }
            JsonNode body = (await JsonNode.ParseAsync(http.Request.Body))!;
            Posts.Enqueue((http.Request.Path.Value!, body));
            return Results.Ok();
        });
        _app.StartAsync().GetAwaiter().GetResult();
        Address = _app.Urls.First();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A syslog listener on loopback: UDP datagrams, or TCP with RFC 6587 octet counting, each message kept whole.</summary>
public sealed class SyslogListener : IDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly TcpListener _tcp = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();

    public ConcurrentQueue<string> Messages { get; } = new();

    public SyslogListener()
    {
        _tcp.Start();
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                UdpReceiveResult datagram = await _udp.ReceiveAsync(_stop.Token);
                Messages.Enqueue(Encoding.UTF8.GetString(datagram.Buffer));
            }
        });
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                using TcpClient client = await _tcp.AcceptTcpClientAsync(_stop.Token);
                using var reader = new StreamReader(client.GetStream(), Encoding.UTF8);
                var length = new StringBuilder();
                int c;
                while ((c = reader.Read()) >= 0)
                {
                    if (c != ' ')
                    {
                        length.Append((char)c);
                        continue;
                    }
                    char[] message = new char[int.Parse(length.ToString(), System.Globalization.CultureInfo.InvariantCulture)];
                    reader.ReadBlock(message, 0, message.Length);
                    Messages.Enqueue(new string(message));
                    length.Clear();
                }
            }
        });
    }

    public string Udp => $"udp://127.0.0.1:{((IPEndPoint)_udp.Client.LocalEndPoint!).Port}";

    public string Tcp => $"tcp://127.0.0.1:{((IPEndPoint)_tcp.LocalEndpoint).Port}";

    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
        _tcp.Stop();
        _stop.Dispose();
    }
}

/// <summary>
/// A small SMTP server on loopback (RFC 5321: EHLO, MAIL, RCPT, DATA, QUIT) that keeps each mail
/// whole, with its envelope, as a client like System.Net.Mail sends it. Given a certificate, it
/// offers STARTTLS (RFC 3207) and, only once the connection is encrypted, AUTH PLAIN and LOGIN.
/// </summary>
public sealed class SmtpSink : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2? _certificate;

    public ConcurrentQueue<(string From, IReadOnlyList<string> To, string Data)> Mails { get; } = new();

    /// <summary>Each login: the user and password, and whether the connection was encrypted then.</summary>
    public ConcurrentQueue<(string User, string Password, bool Encrypted)> Logins { get; } = new();

    /// <summary>Replies that refuse the next recipients (e.g. "550 5.1.1 no such mailbox"), one each.</summary>
    public ConcurrentQueue<string> Refusals { get; } = new();

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>A mail as its reader sees it: headers unfolded, a quoted-printable body decoded.</summary>
    public static string Readable(string data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int split = data.IndexOf("\n\n", StringComparison.Ordinal);
        string headers = data[..split].Replace("\n ", " ", StringComparison.Ordinal);
        string body = data[(split + 2)..];
        if (headers.Contains("Content-Transfer-Encoding: quoted-printable", StringComparison.OrdinalIgnoreCase))
        {
            body = System.Text.RegularExpressions.Regex.Replace(body.Replace("=\n", "", StringComparison.Ordinal), "=([0-9A-F]{2})",
                m => ((char)Convert.ToInt32(m.Groups[1].Value, 16)).ToString());
        }
        return headers + "\n\n" + body;
    }

    public SmtpSink(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        _certificate = certificate;
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = Task.Run(() => Serve(client));
            }
        });
    }

    private void Serve(TcpClient client)
    {
        using (client)
        {
            Stream stream = client.GetStream();
            bool encrypted = false;
            var reader = new StreamReader(stream, Encoding.UTF8);
            var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\r\n", AutoFlush = true };
            writer.WriteLine("220 sink.test ESMTP");
            string from = "";
            var to = new List<string>();
            while (reader.ReadLine() is { } line)
            {
                string verb = line.Split(' ', 2)[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                    case "HELO":
                        if (_certificate is not null && !encrypted)
                        {
                            writer.WriteLine("250-sink.test");
                            writer.WriteLine("250 STARTTLS");
                        }
                        else if (encrypted)
                        {
                            writer.WriteLine("250-sink.test");
                            writer.WriteLine("250 AUTH PLAIN LOGIN");
                        }
                        else
                        {
                            writer.WriteLine("250 sink.test");
                        }
                        break;
                    case "STARTTLS":
                        writer.WriteLine("220 go ahead");
                        var tls = new System.Net.Security.SslStream(stream);
                        tls.AuthenticateAsServer(_certificate!);
                        stream = tls;
                        encrypted = true;
                        reader = new StreamReader(stream, Encoding.UTF8);
                        writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\r\n", AutoFlush = true };
                        break;
                    case "AUTH":
                        string[] parts = line.Split(' ');
                        if (parts[1].Equals("LOGIN", StringComparison.OrdinalIgnoreCase))
                        {
                            // The user name comes with the command (an initial response), or when asked for.
                            if (parts.Length < 3)
                            {
                                writer.WriteLine("334 VXNlcm5hbWU6");
                            }
                            string user = Encoding.UTF8.GetString(Convert.FromBase64String(parts.Length > 2 ? parts[2] : reader.ReadLine()!));
                            writer.WriteLine("334 UGFzc3dvcmQ6");
                            string password = Encoding.UTF8.GetString(Convert.FromBase64String(reader.ReadLine()!));
                            Logins.Enqueue((user, password, encrypted));
                        }
                        else
                        {
                            string[] plain = Encoding.UTF8.GetString(Convert.FromBase64String(parts.Length > 2 ? parts[2] : reader.ReadLine()!)).Split('\0');
                            Logins.Enqueue((plain[1], plain[2], encrypted));
                        }
                        writer.WriteLine("235 authenticated");
                        break;
                    case "MAIL":
                        from = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                        writer.WriteLine("250 OK");
                        break;
                    case "RCPT" when Refusals.TryDequeue(out string? refusal):
                        writer.WriteLine(refusal);
                        break;
                    case "RCPT":
                        to.Add(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
                        writer.WriteLine("250 OK");
                        break;
                    case "DATA":
                        writer.WriteLine("354 go ahead");
                        var data = new StringBuilder();
                        while (reader.ReadLine() is { } body && body != ".")
                        {
                            data.Append(body.StartsWith("..", StringComparison.Ordinal) ? body[1..] : body).Append('\n');
                        }
                        Mails.Enqueue((from, [.. to], data.ToString()));
                        to.Clear();
                        writer.WriteLine("250 queued");
                        break;
                    case "QUIT":
                        writer.WriteLine("221 bye");
                        return;
                    default:
                        writer.WriteLine("250 OK");
                        break;
                }
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
