using System.Globalization;
using System.Text;
using PortSentinel.Decode;

namespace PortSentinel.Respond.Ipset;

/// <summary>
/// Blocks with ipset and iptables: two <c>hash:net</c> sets with element timeouts,
/// <c>portsentinel4</c> and <c>portsentinel6</c>, matched by a chain <c>PORTSENTINEL</c> of its own in
/// the raw table, jumped to first from PREROUTING (iptables and ip6tables), so a blocked source
/// is dropped before connection tracking. Elements expire in the kernel. Changes go in batches
/// through <c>ipset restore</c>; when a batch fails, each entry is tried alone.
/// </summary>
public sealed class IpsetFirewall : IFirewall
{
    public const string Chain = "PORTSENTINEL";

    private static readonly (string Set, string Family, string Tables)[] _families =
    [
        ("portsentinel4", "inet", "iptables"),
        ("portsentinel6", "inet6", "ip6tables"),
    ];

    public string Name => "ipset";

    public bool ExpiresByItself => true;

    public void Initialize()
    {
        foreach (var (set, family, tables) in _families)
        {
            ExternalTool.Require("ipset", "ipset", ["create", set, "hash:net", "family", family, "timeout", "0", "maxelem", "1048576", "-exist"]);
            ExternalTool.RequireRawChain("ipset", tables, Chain);
            ExternalTool.Require("ipset", tables, ["-w", "-t", "raw", "-F", Chain]);
            ExternalTool.Require("ipset", tables, ["-w", "-t", "raw", "-A", Chain, "-m", "set", "--match-set", set, "src", "-j", "DROP"]);
        }
    }

    public string? Missing()
    {
        var missing = new List<string>();
        foreach (var (set, _, tables) in _families)
        {
            if (ExternalTool.Run("ipset", ["list", "-n", set]).Exit != 0)
            {
                missing.Add($"ipset {set}");
            }
            if (!ExternalTool.JumpsTo(tables, Chain))
            {
                missing.Add($"the jump from {tables}' raw PREROUTING to {Chain}");
            }
            if (ExternalTool.Run(tables, ["-w", "-t", "raw", "-C", Chain, "-m", "set", "--match-set", set, "src", "-j", "DROP"]).Exit != 0)
            {
                missing.Add($"the rule of {tables}' {Chain} that drops {set}");
            }
        }
        return missing.Count == 0 ? null : string.Join(", ", missing);
    }

    public IReadOnlyList<FirewallFailure> Block(IReadOnlyList<FirewallEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        // Without -exist an element already there fails the batch; those entries then keep the
        // longer ban of the two (-exist would overwrite the timeout, shortening a longer ban).
        var held = new Lazy<Dictionary<NetPrefix, TimeSpan?>>(() => List().ToDictionary(b => b.Network, b => b.Remaining));
        var failures = new List<FirewallFailure>();
        foreach (FirewallFailure failure in Apply(entries, static e => e.Network, static e => AddLine(e, exist: false), alreadyDone: null))
        {
            FirewallEntry entry = entries.First(e => e.Network == failure.Network);
            if (!failure.Reason.Contains("already added", StringComparison.Ordinal))
            {
                failures.Add(failure);
                continue;
            }
            TimeSpan? remaining = held.Value.GetValueOrDefault(entry.Network);
            if (remaining is not null && (entry.Timeout is null || entry.Timeout > remaining))
            {
                var (exit, output) = ExternalTool.Run("ipset", ["restore"], AddLine(entry, exist: true) + "\n");
                if (exit != 0)
                {
                    failures.Add(new FirewallFailure(entry.Network, output));
                }
            }
        }
        return failures;
    }

    private static string AddLine(FirewallEntry e, bool exist) =>
        $"add {SetOf(e.Network)} {e.Network} timeout {(e.Timeout is { } t ? Math.Max(1, (long)Math.Ceiling(t.TotalSeconds)) : 0)}{(exist ? " -exist" : "")}";

    public IReadOnlyList<FirewallFailure> Unblock(IReadOnlyList<NetPrefix> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        return Apply([.. networks.Distinct()], static n => n, static n => $"del {SetOf(n)} {n}", alreadyDone: "not added");
    }

    public IReadOnlyList<BlockedEntry> List()
    {
        var entries = new List<BlockedEntry>();
        foreach (var (set, _, _) in _families)
        {
            var (exit, output) = ExternalTool.Run("ipset", ["save", set]);
            if (exit != 0)
            {
                throw new FirewallException($"ipset: cannot list {set}: {output}");
            }
            foreach (string line in output.Split('\n'))
            {
                // add portsentinel4 203.0.113.7 timeout 42  (timeout 0: permanent)
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length >= 3 && f[0] == "add")
                {
                    int at = Array.IndexOf(f, "timeout");
                    long seconds = at > 0 && at + 1 < f.Length ? long.Parse(f[at + 1], CultureInfo.InvariantCulture) : 0;
                    entries.Add(new BlockedEntry(NetPrefix.Parse(f[2]), seconds > 0 ? TimeSpan.FromSeconds(seconds) : null));
                }
            }
        }
        return entries;
    }

    public void Dispose()
    {
    }

    private static string SetOf(NetPrefix network) => network.Address.IsV4 ? "portsentinel4" : "portsentinel6";

    private static List<FirewallFailure> Apply<T>(IReadOnlyList<T> items, Func<T, NetPrefix> network, Func<T, string> line, string? alreadyDone)
    {
        var failures = new List<FirewallFailure>();
        if (items.Count == 0)
        {
            return failures;
        }
        var script = new StringBuilder();
        foreach (T item in items)
        {
            script.Append(line(item)).Append('\n');
        }
        if (ExternalTool.Run("ipset", ["restore"], script.ToString()).Exit == 0)
        {
            return failures;
        }
        foreach (T item in items)
        {
            var (exit, output) = ExternalTool.Run("ipset", ["restore"], line(item) + "\n");
            if (exit != 0 && (alreadyDone is null || !output.Contains(alreadyDone, StringComparison.Ordinal)))
            {
                failures.Add(new FirewallFailure(network(item), output));
            }
        }
        return failures;
    }
}
