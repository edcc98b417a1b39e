using PortSentinel.Decode;
using PortSentinel.Respond;
using PortSentinel.Respond.Command;

namespace PortSentinel.Tests.Respond;

/// <summary>
/// The command backend, blocking for real through an administrator's commands: here, blackhole
/// routes made by <c>ip</c> (which accepts IPv4 and IPv6 alike). The unblock command succeeds for
/// an address that is not blocked, as docs/prevention.md asks of it.
/// </summary>
public sealed class CommandFirewallTests : FirewallBackendTests
{
    protected override IFirewall CreateFirewall() => new CommandFirewall(new FirewallOptions
    {
        Backend = "command",
        BlockCommand = "ip route replace blackhole $TARGET$",
        UnblockCommand = "/bin/sh -c 'ip route del blackhole \"$1\" 2>/dev/null || true' sh $TARGET$",
    });

    protected override bool Lists => false;

    protected override bool KeepsTime => false;
}

/// <summary>What the command is given, and what becomes of its failures.</summary>
public sealed class CommandTemplateTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("portsentinel-command-").FullName;

    private string Output => Path.Combine(_directory, "calls");

    [Fact]
    public void Each_placeholder_is_filled_and_a_value_never_becomes_a_second_argument()
    {
        var firewall = new CommandFirewall(new FirewallOptions
        {
            Backend = "command",
            BlockCommand = $"/bin/sh -c 'echo \"block $#: $1 $2 $3 $4\" >> {Output}' sh $TARGET$ $PORT$ $MODE$ $TIMEOUT$",
            UnblockCommand = $"/bin/sh -c 'echo \"unblock $#: $1 $2\" >> {Output}' sh $TARGET$ $MODE$",
        });
        firewall.Initialize();
        Assert.Empty(firewall.Block([new FirewallEntry(NetPrefix.Parse("203.0.113.7"), TimeSpan.FromSeconds(90.5), 22, "tcp"), new FirewallEntry(NetPrefix.Parse("2001:db8::/64"), null)]));
        Assert.Empty(firewall.Unblock([NetPrefix.Parse("203.0.113.7")]));
        Assert.Equal(["block 4: 203.0.113.7 22 tcp 91", "block 4: 2001:db8::/64 0 manual 0", "unblock 2: 203.0.113.7 unblock"], File.ReadAllLines(Output));
        Assert.Empty(firewall.List());
        Assert.False(firewall.ExpiresByItself);
    }

    [Fact]
    public void A_failing_command_is_a_failure_with_its_exit_status_and_output()
    {
        var firewall = new CommandFirewall(new FirewallOptions { Backend = "command", BlockCommand = "/bin/sh -c 'echo no room >&2; exit 3' sh $TARGET$" });
        FirewallFailure failure = Assert.Single(firewall.Block([new FirewallEntry(NetPrefix.Parse("203.0.113.7"), null)]));
        Assert.Contains("exited with 3: no room", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_program_stops_set_up_naming_the_key()
    {
        var firewall = new CommandFirewall(new FirewallOptions { Backend = "command", BlockCommand = "/nonexistent/block $TARGET$" });
        FirewallException e = Assert.Throws<FirewallException>(firewall.Initialize);
        Assert.Contains("/nonexistent/block does not exist", e.Message, StringComparison.Ordinal);
        Assert.Contains("Firewall:BlockCommand", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a b  c", new[] { "a", "b", "c" })]
    [InlineData("sh -c 'x y' \"z w\"", new[] { "sh", "-c", "x y", "z w" })]
    [InlineData("a''b \"\"", new[] { "ab", "" })]
    public void Templates_split_into_words_as_a_shell_would(string template, string[] words) =>
        Assert.Equal(words, CommandTemplate.Split(template));

    [Fact]
    public void An_unclosed_quote_is_refused_in_configuration()
    {
        Assert.Null(CommandTemplate.Split("block 'x"));
        var errors = new FirewallOptions { Backend = "command", BlockCommand = "block 'x $TARGET$" }.Validate();
        Assert.Contains(errors, e => e.Contains("Firewall:BlockCommand has an unclosed quote", StringComparison.Ordinal));
        Assert.Contains(new FirewallOptions { Backend = "command" }.Validate(), e => e.Contains("Firewall:BlockCommand must be set", StringComparison.Ordinal));
        Assert.Contains(new FirewallOptions { Backend = "pf" }.Validate(), e => e.Contains("Firewall:Backend is \"pf\"", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
