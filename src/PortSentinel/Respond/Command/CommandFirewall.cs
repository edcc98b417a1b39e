using System.Globalization;
using PortSentinel.Decode;

namespace PortSentinel.Respond.Command;

/// <summary>
/// Blocks by running a command of the administrator's, as Portsentry's KILL_RUN_CMD: one run per
/// entry, with <c>$TARGET$</c> (the address or network), <c>$PORT$</c> (the port that set it off,
/// 0 if none), <c>$MODE$</c> (its protocol, e.g. tcp, or manual) and <c>$TIMEOUT$</c> (seconds, 0:
/// permanent). Exit status 0 is success; anything else is a failure, with the command's output as
/// the reason. The command cannot say what it holds, so <see cref="List"/> is empty and expired
/// bans are lifted by the sensor through the unblock command.
/// </summary>
public sealed class CommandFirewall : IFirewall
{
    private readonly IReadOnlyList<string> _block;
    private readonly IReadOnlyList<string> _unblock;

    public CommandFirewall(FirewallOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _block = CommandTemplate.Split(options.BlockCommand) ?? [];
        _unblock = CommandTemplate.Split(options.UnblockCommand) ?? [];
    }

    public string Name => "command";

    public bool ExpiresByItself => false;

    public void Initialize()
    {
        if (_block.Count == 0)
        {
            throw new FirewallException("command backend: Firewall:BlockCommand is empty; set it, e.g. \"/usr/local/sbin/block $TARGET$ $PORT$ $MODE$\".");
        }
        foreach (IReadOnlyList<string> command in new[] { _block, _unblock }.Where(c => c.Count > 0))
        {
            string file = command[0];
            if (Path.IsPathFullyQualified(file) ? !File.Exists(file) : !OnPath(file))
            {
                throw new FirewallException($"command backend: {file} does not exist{(Path.IsPathFullyQualified(file) ? "" : " on PATH")}; fix Firewall:BlockCommand or Firewall:UnblockCommand.");
            }
        }
    }

    public IReadOnlyList<FirewallFailure> Block(IReadOnlyList<FirewallEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var failures = new List<FirewallFailure>();
        foreach (FirewallEntry entry in entries)
        {
            string timeout = entry.Timeout is { } t ? Math.Max(1, (long)Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture) : "0";
            if (Run(_block, entry.Network, entry.Port.ToString(CultureInfo.InvariantCulture), entry.Mode ?? "manual", timeout) is { } reason)
            {
                failures.Add(new FirewallFailure(entry.Network, reason));
            }
        }
        return failures;
    }

    public IReadOnlyList<FirewallFailure> Unblock(IReadOnlyList<NetPrefix> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        if (_unblock.Count == 0)
        {
            return []; // no unblock command: what the block command did is the administrator's to undo
        }
        var failures = new List<FirewallFailure>();
        foreach (NetPrefix network in networks.Distinct())
        {
            if (Run(_unblock, network, "0", "unblock", "0") is { } reason)
            {
                failures.Add(new FirewallFailure(network, reason));
            }
        }
        return failures;
    }

    public IReadOnlyList<BlockedEntry> List() => [];

    public void Dispose()
    {
    }

    /// <summary>Runs the command for one entry; null on success, else why it failed.</summary>
    private static string? Run(IReadOnlyList<string> template, NetPrefix network, string port, string mode, string timeout)
    {
        var values = new Dictionary<string, string>
        {
            ["$TARGET$"] = network.ToString(),
            ["$PORT$"] = port,
            ["$MODE$"] = mode,
            ["$TIMEOUT$"] = timeout,
        };
        IReadOnlyList<string> command = CommandTemplate.Fill(template, values);
        var (exit, output) = ExternalTool.Run(command[0], command.Skip(1));
        return exit == 0 ? null : $"{string.Join(' ', command)} exited with {exit}{(output.Length > 0 ? $": {output}" : "")}";
    }

    private static bool OnPath(string file) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(dir => File.Exists(Path.Combine(dir, file)));
}
