using System.Globalization;
using System.Text;
using PortSentinel.Decode;

namespace PortSentinel.Respond.Iptables;

/// <summary>
/// Blocks with plain iptables and ip6tables: one DROP rule per ban in a chain of its own,
/// <c>PORTSENTINEL_BANS</c>, in the raw table, jumped to first from PREROUTING, so a blocked source
/// is dropped before connection tracking. Rules have no timeout: each carries its end in a comment
/// (<c>portsentinel until=UNIXSECONDS</c> or <c>until=never</c>), and the sensor lifts expired ones.
/// Changes go in batches through <c>iptables-restore --noflush</c>; when a batch fails, each entry
/// is tried alone. Rules are matched one after another, so this suits hundreds of bans, not the
/// hundreds of thousands the set-based backends (nftables, ipset) hold.
/// </summary>
public sealed class IptablesFirewall : IFirewall
{
    public const string Chain = "PORTSENTINEL_BANS";

    private const string Marker = "portsentinel until=";

    private static readonly string[] _tables = ["iptables", "ip6tables"];

    private readonly TimeProvider _time;

    public IptablesFirewall(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    public string Name => "iptables";

    public bool ExpiresByItself => false;

    public void Initialize()
    {
        foreach (string tables in _tables)
        {
            ExternalTool.RequireRawChain("iptables", tables, Chain);
        }
    }

    public string? Missing()
    {
        string[] missing = [.. _tables.Where(tables => !ExternalTool.JumpsTo(tables, Chain)).Select(tables => $"the jump from {tables}' raw PREROUTING to {Chain}")];
        return missing.Length == 0 ? null : string.Join(", ", missing);
    }

    public IReadOnlyList<FirewallFailure> Block(IReadOnlyList<FirewallEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        DateTimeOffset now = _time.GetUtcNow();
        Dictionary<NetPrefix, Rule> held = Rules().ToDictionary(r => r.Network);
        // Per network, the rule to add and the one it replaces; a longer ban already held stays.
        var changes = new Dictionary<NetPrefix, (Rule Add, Rule? Replaces)>();
        foreach (FirewallEntry entry in entries)
        {
            long? until = entry.Timeout is { } t ? (now + t).ToUnixTimeSeconds() : null;
            Rule? current = changes.TryGetValue(entry.Network, out var pending) ? pending.Add : held.GetValueOrDefault(entry.Network);
            if (current is null || (current.Until is { } end && (until is null || until > end)))
            {
                changes[entry.Network] = (new Rule(entry.Network, until), held.GetValueOrDefault(entry.Network));
            }
        }
        return Apply([.. changes.Select(c => (c.Key, c.Value.Replaces is { } old ? $"-D {old.Spec}\n-A {c.Value.Add.Spec}" : $"-A {c.Value.Add.Spec}"))]);
    }

    public IReadOnlyList<FirewallFailure> Unblock(IReadOnlyList<NetPrefix> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        var wanted = networks.ToHashSet();
        return Apply([.. Rules().Where(r => wanted.Contains(r.Network)).Select(r => (r.Network, $"-D {r.Spec}"))]);
    }

    public IReadOnlyList<BlockedEntry> List()
    {
        DateTimeOffset now = _time.GetUtcNow();
        return [.. Rules().Select(r => BlockedEntry.Ending(r.Network, r.Until, now))];
    }

    public void Dispose()
    {
    }

    /// <summary>A ban as a rule: the source and its end (Unix seconds; null: never).</summary>
    private sealed record Rule(NetPrefix Network, long? Until)
    {
        public string Spec => $"{Chain} -s {Network.Address}/{Network.Length} -m comment --comment \"{Marker}{(Until is { } u ? u.ToString(CultureInfo.InvariantCulture) : "never")}\" -j DROP";
    }

    /// <summary>The rules of both families, read back from <c>-S</c>.</summary>
    private static List<Rule> Rules()
    {
        var rules = new List<Rule>();
        foreach (string tables in _tables)
        {
            var (exit, output) = ExternalTool.Run(tables, ["-w", "-t", "raw", "-S", Chain]);
            if (exit != 0)
            {
                throw new FirewallException($"iptables backend: cannot list {Chain} with {tables}: {output}");
            }
            foreach (string line in output.Split('\n'))
            {
                // -A PORTSENTINEL_BANS -s 203.0.113.7/32 -m comment --comment "portsentinel until=1764000000" -j DROP
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                int source = Array.IndexOf(f, "-s");
                int marker = line.IndexOf(Marker, StringComparison.Ordinal);
                if (f.Length > 0 && f[0] == "-A" && source > 0 && source + 1 < f.Length && marker > 0)
                {
                    string end = line[(marker + Marker.Length)..].Split('"')[0];
                    rules.Add(new Rule(NetPrefix.Parse(f[source + 1]), end == "never" ? null : long.Parse(end, CultureInfo.InvariantCulture)));
                }
            }
        }
        return rules;
    }

    /// <summary>Applies each network's lines, all in one restore per family; when that fails, network by network.</summary>
    private static List<FirewallFailure> Apply(IReadOnlyList<(NetPrefix Network, string Lines)> changes)
    {
        var failures = new List<FirewallFailure>();
        foreach (var family in changes.GroupBy(c => c.Network.Address.IsV4))
        {
            string restore = family.Key ? "iptables-restore" : "ip6tables-restore";
            if (Restore(restore, family).Exit == 0)
            {
                continue;
            }
            foreach (var change in family)
            {
                var (exit, output) = Restore(restore, [change]);
                if (exit != 0)
                {
                    failures.Add(new FirewallFailure(change.Network, output));
                }
            }
        }
        return failures;
    }

    private static (int Exit, string Output) Restore(string tool, IEnumerable<(NetPrefix Network, string Lines)> changes)
    {
        var script = new StringBuilder("*raw\n");
        foreach (var (_, lines) in changes)
        {
            script.Append(lines).Append('\n');
        }
        script.Append("COMMIT\n");
        return ExternalTool.Run(tool, ["-w", "--noflush"], script.ToString());
    }
}
