using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PortSentinel.Decode;
using PortSentinel.Respond;
using PortSentinel.Respond.HostsDeny;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests.Respond;

/// <summary>
/// The hosts.deny backend, against a real TCP-wrapped service: socat with libwrap (tcpwrap) in the
/// target namespace, reading the test's own deny file, greets those it lets in and hangs up on
/// the others. The system's /etc/hosts.deny is never touched.
/// </summary>
public sealed class HostsDenyFirewallTests : FirewallBackendTests
{
    private const int WrappedPort = 8081;

    // Field initialisers run before the base constructor, which creates the firewall.
    private readonly string _directory = Directory.CreateTempSubdirectory("portsentinel-hostsdeny-").FullName;
    private readonly List<Process> _services = [];

    public HostsDenyFirewallTests()
    {
        File.WriteAllText(Allow, "");
        foreach (string listen in new[] { $"TCP4-LISTEN:{WrappedPort},reuseaddr,fork", $"TCP6-LISTEN:{WrappedPort},ipv6only=1,reuseaddr,fork" })
        {
            var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in new[] { "netns", "exec", Pair.Target, "socat", $"{listen},tcpwrap=portsentinel-test,allow-table={Allow},deny-table={Deny}", "EXEC:/bin/echo hello" })
            {
                start.ArgumentList.Add(argument);
            }
            _services.Add(Process.Start(start)!);
        }
        var clock = Stopwatch.StartNew();
        while (!Connects(NamespacePair.TargetAddress) || !Connects(NamespacePair.TargetAddress6))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the wrapped service never answered");
            Thread.Sleep(100);
        }
    }

    private string Deny => Path.Combine(_directory, "hosts.deny");

    private string Allow => Path.Combine(_directory, "hosts.allow");

    protected override IFirewall CreateFirewall() => new HostsDenyFirewall(new FirewallOptions { HostsDenyPath = Deny, HostsDenyDaemons = "ALL" });

    /// <summary>Whether the wrapped service lets the scanner in: it greets, or hangs up at once.</summary>
    protected override bool Connects(string address) => NamespacePair.In(Pair.Scanner, () =>
    {
        var ip = IPAddress.Parse(address);
        using var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 3000 };
        try
        {
            socket.Connect(ip, WrappedPort);
            var buffer = new byte[64];
            int read = socket.Receive(buffer);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("hello", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    });

    [NamespaceFact]
    public void The_file_keeps_what_others_wrote_and_says_each_ban_in_hosts_access_form()
    {
        File.WriteAllText(Deny, "# the administrator's own\nsshd: 192.0.2.66\n");
        Assert.Empty(Firewall.Block([Ban("203.0.113.7", TimeSpan.FromMinutes(10)), Ban("198.51.100.0/30"), Ban("2001:db8::1"), Ban("2001:db8:f::/48")]));
        string[] lines = File.ReadAllLines(Deny);
        Assert.Equal("# the administrator's own", lines[0]);
        Assert.Equal("sshd: 192.0.2.66", lines[1]);
        Assert.Contains("ALL: 203.0.113.7", lines);
        Assert.Contains("ALL: 198.51.100.0/255.255.255.252", lines);
        Assert.Contains("# portsentinel 198.51.100.0/30 until=never", lines);
        Assert.Contains("ALL: [2001:db8::1]", lines);
        Assert.Contains("ALL: [2001:db8:f::]/48", lines);
        Assert.Equal(4, Firewall.List().Count);

        Assert.Empty(Firewall.Unblock([NetPrefix.Parse("203.0.113.7"), NetPrefix.Parse("198.51.100.0/30"), NetPrefix.Parse("2001:db8::1"), NetPrefix.Parse("2001:db8:f::/48")]));
        Assert.Equal(["# the administrator's own", "sshd: 192.0.2.66"], File.ReadAllLines(Deny));
    }

    protected override void Dispose(bool disposing)
    {
        foreach (Process service in _services)
        {
            service.Kill(entireProcessTree: true);
            service.WaitForExit();
            service.Dispose();
        }
        base.Dispose(disposing);
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>The hosts.deny backend when its file cannot be written.</summary>
public sealed class HostsDenyFileTests
{
    [Fact]
    public void A_file_that_cannot_be_written_is_a_failure_that_names_it()
    {
        var firewall = new HostsDenyFirewall(new FirewallOptions { HostsDenyPath = "/proc/portsentinel/hosts.deny" });
        FirewallException e = Assert.Throws<FirewallException>(firewall.Initialize);
        Assert.Contains("/proc/portsentinel/hosts.deny", e.Message, StringComparison.Ordinal);
        Assert.Contains("Firewall:HostsDenyPath", e.Message, StringComparison.Ordinal);
        FirewallFailure failure = Assert.Single(firewall.Block([new FirewallEntry(NetPrefix.Parse("203.0.113.7"), null)]));
        Assert.Contains("/proc/portsentinel/hosts.deny", failure.Reason, StringComparison.Ordinal);
    }
}
