using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PortSentinel.Tests.Capture;

/// <summary>
/// A fact that needs root, iproute2 and nmap to build namespaces and scan between them; without
/// them it is skipped and says why (CI has them all).
/// </summary>
public sealed class NamespaceFactAttribute : FactAttribute
{
    public NamespaceFactAttribute()
    {
        Skip = NamespacePair.Unavailable();
    }
}

/// <summary>A theory with the needs of <see cref="NamespaceFactAttribute"/>.</summary>
public sealed class NamespaceTheoryAttribute : TheoryAttribute
{
    public NamespaceTheoryAttribute()
    {
        Skip = NamespacePair.Unavailable();
    }
}

/// <summary>
/// Two network namespaces of the test's own joined by a veth pair, addressed from 198.51.100.0/24
/// (RFC 5737): the only place a test's traffic goes. Deleted on dispose, whatever the test did.
/// </summary>
public sealed partial class NamespacePair : IDisposable
{
    public const string ScannerAddress = "198.51.100.1";
    public const string TargetAddress = "198.51.100.2";
    public const string ScannerAddress6 = "2001:db8::1";
    public const string TargetAddress6 = "2001:db8::2";
    public const string ScannerDevice = "ps-scan";
    public const string TargetDevice = "ps-target";

    private static readonly string[] _toolDirectories = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"];
    private static int _counter;

    /// <summary>The two namespaces, joined at once or, when <paramref name="linked"/> is false, only by <see cref="Link"/>.</summary>
    public NamespacePair(bool linked = true)
    {
        int id = Interlocked.Increment(ref _counter);
        Scanner = $"ps-test-{Environment.ProcessId}-{id}-s";
        Target = $"ps-test-{Environment.ProcessId}-{id}-t";
        try
        {
            Ip($"netns add {Scanner}");
            Ip($"netns add {Target}");
            foreach (string ns in new[] { Scanner, Target })
            {
                // No duplicate address detection on this private link: without it the link-local
                // address stays tentative for a second and the first IPv6 exchange can stall.
                Ip($"netns exec {ns} sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0");
                Ip($"-n {ns} link set lo up");
            }
            if (linked)
            {
                Link();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Joins the namespaces with the veth pair, addressed and up (again, after <see cref="Unlink"/>).</summary>
    public void Link()
    {
        Ip($"link add name {ScannerDevice} netns {Scanner} type veth peer name {TargetDevice} netns {Target}");
        Ip($"-n {Scanner} addr add {ScannerAddress}/24 dev {ScannerDevice}");
        Ip($"-n {Target} addr add {TargetAddress}/24 dev {TargetDevice}");
        Ip($"-n {Scanner} addr add {ScannerAddress6}/64 dev {ScannerDevice} nodad");
        Ip($"-n {Target} addr add {TargetAddress6}/64 dev {TargetDevice} nodad");
        Ip($"-n {Scanner} link set {ScannerDevice} up");
        Ip($"-n {Target} link set {TargetDevice} up");
    }

    /// <summary>Deletes the veth pair: both ends go, as a hot-unplugged NIC does.</summary>
    public void Unlink() => Ip($"-n {Scanner} link del {ScannerDevice}");

    /// <summary>Takes the target's end down (<paramref name="up"/> false) or up again.</summary>
    public void SetTargetLink(bool up) => Ip($"-n {Target} link set {TargetDevice} {(up ? "up" : "down")}");

    public string Scanner { get; }

    public string Target { get; }

    /// <summary>Why namespace tests cannot run here, or null when they can.</summary>
    public static string? Unavailable()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return "needs root to create network namespaces and capture";
        }
        foreach (string tool in new[] { "ip", "nmap" })
        {
            if (!_toolDirectories.Any(dir => File.Exists(Path.Combine(dir, tool))))
            {
                return $"needs {tool} (deploy/install-deps.sh --test installs it)";
            }
        }
        return null;
    }

    /// <summary>Runs a command inside a namespace, bounded in time; returns its exit code and output.</summary>
    public static (int Exit, string Output) Exec(string ns, TimeSpan limit, params string[] command) =>
        ProcessRunner.Run("ip", new[] { "netns", "exec", ns }.Concat(command), limit);

    /// <summary>Moves the calling thread into namespace <paramref name="ns"/> (network namespaces are per thread).</summary>
    public static void Enter(string ns)
    {
        using SafeFileHandle handle = File.OpenHandle($"/run/netns/{ns}");
        const int CloneNewNet = 0x4000_0000;
        if (setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
        {
            throw new InvalidOperationException($"setns({ns}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Runs <paramref name="action"/> on a fresh thread inside namespace <paramref name="ns"/> and returns its result.</summary>
    public static T In<T>(string ns, Func<T> action)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(ns);
                result = action();
            }
#pragma warning disable CA1031 // rethrown on the caller's thread
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = e;
            }
        });
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(60)))
        {
            throw new TimeoutException($"work in {ns} ran past a minute");
        }
        if (failure is not null)
        {
            throw new InvalidOperationException($"in {ns}: {failure.Message}", failure);
        }
        return result;
    }

    /// <summary>A TCP server on <paramref name="port"/> of every address in namespace <paramref name="ns"/> that accepts and closes each connection, until disposed.</summary>
    public static IDisposable Serve(string ns, int port) => new Server(ns, port);

    private sealed class Server : IDisposable
    {
        private readonly System.Net.Sockets.TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();

        public Server(string ns, int port)
        {
            _listener = In(ns, () =>
            {
                var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, port);
                listener.Start();
                return listener;
            });
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    using System.Net.Sockets.TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
            });
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }

    /// <summary>Whether a TCP connection from namespace <paramref name="ns"/> to <paramref name="address"/>:<paramref name="port"/> completes.</summary>
    public static bool Connects(string ns, string address, int port) => In(ns, () =>
    {
        var ip = System.Net.IPAddress.Parse(address);
        using var socket = new System.Net.Sockets.Socket(ip.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            // Three seconds cover TCP's first retransmission (initial RTO 1 s, RFC 6298), which the
            // first IPv6 SYN on a fresh link needs while neighbour discovery completes. Callers
            // connect once before blocking, so a refusal afterwards is the firewall's doing.
            return socket.ConnectAsync(ip, port).Wait(TimeSpan.FromSeconds(3)) && socket.Connected;
        }
        catch (AggregateException)
        {
            return false;
        }
    });

    public void Dispose()
    {
        foreach (string ns in new[] { Scanner, Target })
        {
            RunIp($"netns del {ns}");
        }
    }

    private static void Ip(string arguments)
    {
        var (exit, output) = RunIp(arguments);
        if (exit != 0)
        {
            throw new InvalidOperationException($"ip {arguments}: {output}");
        }
    }

    private static (int Exit, string Output) RunIp(string arguments) =>
        ProcessRunner.Run("ip", arguments.Split(' '), TimeSpan.FromSeconds(30));

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);
}
