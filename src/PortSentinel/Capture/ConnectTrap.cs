using System.Net;
using System.Net.Sockets;
using System.Text;
using PortSentinel.Decode;

namespace PortSentinel.Capture;

/// <summary>The connect-mode trap's ports (section <c>Trap</c>); none by default.</summary>
public sealed class TrapOptions
{
    public const string Section = "Trap";

    /// <summary>TCP ports to listen on; a completed connection is a tripwire hit.</summary>
    public IList<int> TcpPorts { get; set; } = [];

    /// <summary>UDP ports to listen on; any datagram is a tripwire hit.</summary>
    public IList<int> UdpPorts { get; set; } = [];

    /// <summary>Sent to a TCP caller before closing (e.g. a fake service greeting); empty sends nothing.</summary>
    public string Banner { get; set; } = "";

    public IReadOnlyList<string> Validate() =>
        [.. TcpPorts.Where(p => p is < 1 or > 65535).Select(p => $"{Section}:{nameof(TcpPorts)} contains {p}; ports are 1–65535."),
         .. UdpPorts.Where(p => p is < 1 or > 65535).Select(p => $"{Section}:{nameof(UdpPorts)} contains {p}; ports are 1–65535.")];
}

/// <summary>Someone reached a trap port.</summary>
public delegate void TrapContact(NetAddress source, NetAddress target, ushort port, byte protocol);

/// <summary>
/// Portsentry's classic mode as a second source: listens on unused ports and reports every
/// contact. Unlike the packet path it sees only completed TCP connections and datagrams that
/// reach a socket, but needs no capture privilege. Ports a service already holds are left alone.
/// </summary>
public sealed class ConnectTrap : IDisposable
{
    private readonly TrapOptions _options;
    private readonly TrapContact _contact;
    private readonly Action<string> _log;
    private const int Backlog = 4096; // the kernel caps it at net.core.somaxconn (4096 by default)

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];

    public ConnectTrap(TrapOptions options, TrapContact contact, Action<string> log)
    {
        _options = options;
        _contact = contact;
        _log = log;
    }

    public IReadOnlyList<string> Listening { get; private set; } = [];

    /// <summary>Binds the ports (IPv4 and IPv6) and starts answering.</summary>
    public void Start()
    {
        var listening = new List<string>();
        foreach (int port in _options.TcpPorts)
        {
            if (Bind(SocketType.Stream, ProtocolType.Tcp, port) is { } socket)
            {
                // A deep queue: with 64, a burst of contacts filled it in milliseconds and the kernel
                // dropped the next SYNs, which their callers sent again a second later (measured:
                // 330 contacts/s at most, against 10,000 and more with this).
                socket.Listen(Backlog);
                _ = AcceptAsync(socket, (ushort)port);
                listening.Add($"tcp/{port}");
            }
        }
        foreach (int port in _options.UdpPorts)
        {
            if (Bind(SocketType.Dgram, ProtocolType.Udp, port) is { } socket)
            {
                _ = ReceiveAsync(socket, (ushort)port);
                listening.Add($"udp/{port}");
            }
        }
        Listening = listening;
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (Socket socket in _sockets)
        {
            socket.Dispose();
        }
        _stop.Dispose();
    }

    private Socket? Bind(SocketType type, ProtocolType protocol, int port)
    {
        var socket = new Socket(AddressFamily.InterNetworkV6, type, protocol) { DualMode = true };
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            _sockets.Add(socket);
            return socket;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            _log($"TRAP {protocol.ToString().ToLowerInvariant()}/{port} left alone: a service already listens there");
            return null;
        }
    }

    private async Task AcceptAsync(Socket listener, ushort port)
    {
        byte[] banner = Encoding.UTF8.GetBytes(_options.Banner);
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            using (client)
            {
                Report(client.RemoteEndPoint, client.LocalEndPoint, port, IpProtocol.Tcp);
                if (banner.Length > 0)
                {
                    try
                    {
                        await client.SendAsync(banner, _stop.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is SocketException or OperationCanceledException)
                    {
                        // The caller is gone already: the contact is reported all the same.
                    }
                }
            }
        }
    }

    private async Task ReceiveAsync(Socket socket, ushort port)
    {
        byte[] buffer = new byte[2048];
        var any = new IPEndPoint(IPAddress.IPv6Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveMessageFromResult received;
            try
            {
                received = await socket.ReceiveMessageFromAsync(buffer, any, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            Report(received.RemoteEndPoint, new IPEndPoint(received.PacketInformation.Address, port), port, IpProtocol.Udp);
        }
    }

    private void Report(EndPoint? remote, EndPoint? local, ushort port, byte protocol)
    {
        if (remote is IPEndPoint from)
        {
            NetAddress target = local is IPEndPoint to ? NetAddress.FromIPAddress(to.Address) : default;
            _contact(NetAddress.FromIPAddress(from.Address), target, port, protocol);
        }
    }
}
