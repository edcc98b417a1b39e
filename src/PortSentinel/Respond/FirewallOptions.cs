using PortSentinel.Decode;
using PortSentinel.Respond.Command;

namespace PortSentinel.Respond;

/// <summary>The <c>Firewall</c> section: which backend blocks, and what the backends that need it are told.</summary>
public sealed class FirewallOptions
{
    public const string Section = "Firewall";

    /// <summary>The backends by their configuration names.</summary>
    public static readonly IReadOnlyList<string> Backends = ["nftables", "ipset", "iptables", "route", "hosts-deny", "command", "dry-run"];

    /// <summary>Which backend blocks (one of <see cref="Backends"/>); <c>--firewall</c> overrides it.</summary>
    public string Backend { get; set; } = "nftables";

    /// <summary>The hosts-deny backend's file (hosts_access(5)).</summary>
    public string HostsDenyPath { get; set; } = "/etc/hosts.deny";

    /// <summary>The daemon list of the hosts-deny backend's lines, e.g. ALL or sshd.</summary>
    public string HostsDenyDaemons { get; set; } = "ALL";

    /// <summary>The command backend's block command, with $TARGET$, $PORT$, $MODE$ and $TIMEOUT$.</summary>
    public string BlockCommand { get; set; } = "";

    /// <summary>The command backend's unblock command, with $TARGET$; empty: bans are never lifted by command.</summary>
    public string UnblockCommand { get; set; } = "";

    /// <summary>
    /// The kernel guard (nftables only): a source the host refuses on more than this many distinct
    /// closed ports or protocols (TCP, UDP, SCTP, IP protocols) within <see cref="GuardSeconds"/> is held in the kernel at once, before the
    /// sensor has decided; 0 turns the guard off.
    /// </summary>
    public int GuardPorts { get; set; } = 6;

    /// <summary>The guard's window, seconds.</summary>
    public int GuardSeconds { get; set; } = 60;

    /// <summary>How long the guard holds a source, seconds, unless the sensor's decision replaces the hold first.</summary>
    public int HoldSeconds { get; set; } = 60;

    /// <summary>The guard's rules, with the allowlist and the ban cap the decisions use; null when the guard is off.</summary>
    public GuardRules? Guard(IEnumerable<NetPrefix> allowed, int holdsPerMinute) =>
        GuardPorts == 0 ? null : new GuardRules(GuardPorts, TimeSpan.FromSeconds(GuardSeconds), TimeSpan.FromSeconds(HoldSeconds), holdsPerMinute, [.. allowed]);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (GuardPorts is < 0 or > 1000)
        {
            errors.Add($"{Section}:{nameof(GuardPorts)} is {GuardPorts}; give 1 to 1000 distinct closed ports, or 0 to turn the kernel guard off.");
        }
        foreach (var (key, seconds) in new[] { (nameof(GuardSeconds), GuardSeconds), (nameof(HoldSeconds), HoldSeconds) })
        {
            if (seconds is < 1 or > 86_400)
            {
                errors.Add($"{Section}:{key} is {seconds}; give 1 to 86400 seconds.");
            }
        }
        if (!Backends.Contains(Backend))
        {
            errors.Add($"{Section}:{nameof(Backend)} is \"{Backend}\"; choose one of {string.Join(", ", Backends)}.");
        }
        if (Backend == "command" && !BlockCommand.Contains("$TARGET$", StringComparison.Ordinal))
        {
            errors.Add($"{Section}:{nameof(BlockCommand)} must be set for the command backend and contain $TARGET$, e.g. \"/usr/local/sbin/block $TARGET$ $PORT$ $MODE$\".");
        }
        foreach (var (key, template) in new[] { (nameof(BlockCommand), BlockCommand), (nameof(UnblockCommand), UnblockCommand) })
        {
            if (CommandTemplate.Split(template) is null)
            {
                errors.Add($"{Section}:{key} has an unclosed quote: \"{template}\".");
            }
        }
        if (HostsDenyDaemons.Length == 0 || HostsDenyDaemons.Contains(':', StringComparison.Ordinal) || HostsDenyDaemons.Contains('\n', StringComparison.Ordinal))
        {
            errors.Add($"{Section}:{nameof(HostsDenyDaemons)} is \"{HostsDenyDaemons}\"; give a daemon list such as ALL or \"sshd, in.ftpd\".");
        }
        if (Backend == "hosts-deny" && !Path.IsPathFullyQualified(HostsDenyPath))
        {
            errors.Add($"{Section}:{nameof(HostsDenyPath)} is \"{HostsDenyPath}\"; give an absolute path such as /etc/hosts.deny.");
        }
        return errors;
    }
}
