using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PortSentinel.Decode;

namespace PortSentinel.Respond.Nftables;

/// <summary>
/// Blocks in nftables, driven in-process through libnftables (no process spawned per change). Its
/// own table <c>inet portsentinel</c> holds hash sets with element timeouts for single addresses
/// (<c>hosts4</c>, <c>hosts6</c>) and interval sets for networks (<c>nets4</c>, <c>nets6</c>), and a
/// chain on the prerouting hook at priority raw (−300) that drops their traffic before connection
/// tracking, so forwarded and container traffic is covered too and a blocked scanner costs the host
/// almost nothing. Nothing outside the table is touched. Addresses and networks are kept apart
/// because every change to an interval set is checked against all its elements: measured here, one
/// add into an interval set of 100,000 took hundreds of milliseconds, against a fraction of one
/// into a hash set (docs/performance.md). One address banned alone (the sensor's decision) goes
/// straight through nf_tables' netlink (<see cref="NftNetlink"/>), without libnftables' parsing
/// and cache fetch. The netlink sockets belong to the network namespace of the thread that makes
/// the first change.
/// It also has a kernel guard (<see cref="Arm"/>): rules on the output hook that see the host
/// refuse a source's first contacts and hold that source before the sensor has decided.
/// </summary>
public sealed class NftablesFirewall : IFirewall, IKernelGuard
{
    public const string Table = "portsentinel";

    private const string Family = "inet";

    // The sets holding bans, listed by List.
    private static readonly string[] _sets = ["hosts4", "hosts6", "nets4", "nets6"];

    // Each guard set holds at most this many elements.
    private const int GuardSetSize = 65536;

    // Every set the sensor owns, as Initialize declares it, and the prerouting chain's rules: what
    // Missing looks for.
    private static readonly (string Name, string Declaration)[] _ownedSets =
    [
        ("hosts4", "type ipv4_addr; flags timeout;"),
        ("hosts6", "type ipv6_addr; flags timeout;"),
        ("nets4", "type ipv4_addr; flags interval, timeout;"),
        ("nets6", "type ipv6_addr; flags interval, timeout;"),
        ("held4", $"type ipv4_addr; size {GuardSetSize}; flags dynamic, timeout;"),
        ("held6", $"type ipv6_addr; size {GuardSetSize}; flags dynamic, timeout;"),
        ("refused4", $"type ipv4_addr . inet_service; size {GuardSetSize}; flags dynamic, timeout;"),
        ("refused6", $"type ipv6_addr . inet_service; size {GuardSetSize}; flags dynamic, timeout;"),
        ("refusing4", $"type ipv4_addr; size {GuardSetSize}; flags dynamic, timeout;"),
        ("refusing6", $"type ipv6_addr; size {GuardSetSize}; flags dynamic, timeout;"),
        ("quoted4", $"typeof ip daddr . @th,240,16; size {GuardSetSize}; flags dynamic, timeout;"),
        ("quoted6", $"typeof ip6 daddr . @th,400,16; size {GuardSetSize}; flags dynamic, timeout;"),
        ("allowed4", "type ipv4_addr; flags interval; auto-merge;"),
        ("allowed6", "type ipv6_addr; flags interval; auto-merge;"),
    ];

    private static readonly string[] _preroutingRules =
    [
        "ip saddr @hosts4 drop", "ip6 saddr @hosts6 drop", "ip saddr @nets4 drop", "ip6 saddr @nets6 drop", "ip saddr @held4 drop", "ip6 saddr @held6 drop",
    ];


    // libnftables contexts are not thread-safe, nor is the netlink socket's buffer: every public
    // call holds this, so no two threads are ever inside them (two at once corrupted the output
    // buffer, refused good batches, and once crashed the sensor in libnftables).
    private readonly Lock _gate = new();
    private readonly NftContextHandle _context;
    private readonly NftNetlink _netlink = new();
    private string _output = "";
    private int _guardRules; // in the output chain since the last Arm

    public NftablesFirewall()
    {
        try
        {
            _context = LibNftables.nft_ctx_new(LibNftables.CtxDefault);
        }
        catch (DllNotFoundException e)
        {
            throw new FirewallException("nftables: libnftables (libnftables.so.1) is not installed: apt-get install libnftables1 nftables", e);
        }
        if (_context.IsInvalid)
        {
            throw new FirewallException("nftables: nft_ctx_new failed (out of memory?)");
        }
        LibNftables.nft_ctx_buffer_output(_context);
        LibNftables.nft_ctx_buffer_error(_context);
        LibNftables.nft_ctx_output_set_flags(_context, LibNftables.OutputJson);
    }

    public string Name => "nftables";

    public bool ExpiresByItself => true;

    public void Initialize()
    {
        lock (_gate)
        {
            // One transaction: the table, its sets and its chains appear together or not at all; the
            // prerouting chain is flushed and refilled, so a second start leaves the same six rules.
            // The guard's output chain is created empty and left as it is: only Arm changes it, so
            // that a `bans` command does not disarm a running sensor's guard. The guard's sets are
            // bounded (a full set makes the guard pass packets, never block more); the ban sets are
            // not, and are never written from the packet path (that would give them a size).
            var script = new StringBuilder();
            script.Append(CultureInfo.InvariantCulture, $"add table {Family} {Table}\n");
            foreach (var (name, declaration) in _ownedSets)
            {
                script.Append(CultureInfo.InvariantCulture, $"add set {Family} {Table} {name} {{ {declaration} }}\n");
            }
            script.Append(CultureInfo.InvariantCulture, $"add chain {Family} {Table} prerouting {{ type filter hook prerouting priority raw; policy accept; }}\n");
            script.Append(CultureInfo.InvariantCulture, $"flush chain {Family} {Table} prerouting\n");
            foreach (string rule in _preroutingRules)
            {
                script.Append(CultureInfo.InvariantCulture, $"add rule {Family} {Table} prerouting {rule}\n");
            }
            script.Append(CultureInfo.InvariantCulture, $"add chain {Family} {Table} output {{ type filter hook output priority raw; policy accept; }}\n");
            if (!Run(script.ToString(), out string error))
            {
                throw new FirewallException($"nftables: cannot create table {Family} {Table}: {error}"
                    + (error.Contains("Operation not permitted", StringComparison.Ordinal) ? " (changing the firewall needs CAP_NET_ADMIN: run as root or grant the capability)" : ""));
            }
        }
    }

    /// <summary>Whether nftables can be read here, changing nothing: null when it can, else what is wrong and the fix.</summary>
    public string? Probe()
    {
        lock (_gate)
        {
            if (ListRuleset(out string error))
            {
                return null;
            }
            return error.Contains("Operation not permitted", StringComparison.Ordinal)
                ? "nftables refuses: changing the firewall needs CAP_NET_ADMIN (run as root, or as the systemd unit does)."
                : $"nftables: {error.Trim()}";
        }
    }

    /// <summary>
    /// Puts the guard's rules in place of any before, or takes them away (null). The kernel answers
    /// probes of closed ports and unknown protocols in ways no connection does (<see cref="Refusals"/>);
    /// the rules count, per destination of those answers (the source that probed), the distinct
    /// ports refused (<c>refused4/6</c>, and <c>quoted4/6</c> for those read from an ICMP error,
    /// so retries of one port count once)
    /// in a token bucket (<c>refusing4/6</c>: <see cref="GuardRules.Ports"/> at once, refilled at
    /// that many per <see cref="GuardRules.Window"/>). When it runs dry, the answer is dropped and
    /// the source put in <c>held4/6</c> for <see cref="GuardRules.Hold"/>, at most
    /// <see cref="GuardRules.HoldsPerMinute"/> a minute per address family, as many at once (a
    /// storm of forged sources spends a budget that size, not the sixty a minute it once had, so
    /// a real scanner in the storm is still held). Allowed networks are
    /// never counted. All in one transaction.
    /// </summary>
    public void Arm(GuardRules? rules)
    {
        lock (_gate)
        {
            var script = new StringBuilder();
            script.Append(CultureInfo.InvariantCulture, $"flush chain {Family} {Table} output\n");
            script.Append(CultureInfo.InvariantCulture, $"flush set {Family} {Table} allowed4\nflush set {Family} {Table} allowed6\n");
            if (rules is not null)
            {
                var (first, last) = EphemeralPorts();
                foreach (var (family, v4) in new[] { ("ip", true), ("ip6", false) })
                {
                    string suffix = v4 ? "4" : "6";
                    string allowed = string.Join(", ", rules.Allowed.Where(n => n.Address.IsV4 == v4));
                    if (allowed.Length > 0)
                    {
                        script.Append(CultureInfo.InvariantCulture, $"add element {Family} {Table} allowed{suffix} {{ {allowed} }}\n");
                    }
                    script.Append(CultureInfo.InvariantCulture, $"add rule {Family} {Table} output {family} daddr @allowed{suffix} return\n");
                    long window = (long)rules.Window.TotalSeconds;
                    // The bucket's rate in whole packets: Ports per Window, written per day.
                    long perDay = Math.Max(1, rules.Ports * 86_400L / window);
                    foreach (var (refusal, set, key) in Refusals(family, suffix, $"{first}-{last}"))
                    {
                        // A probe refused before (its retry) passes; a new one takes a token from
                        // its source's bucket, and the source that has none left is held.
                        script.Append(CultureInfo.InvariantCulture, $$"""
                            add rule {{Family}} {{Table}} output {{refusal}} {{key}} @{{set}} return
                            add rule {{Family}} {{Table}} output {{refusal}} add @{{set}} { {{key}} timeout {{window}}s } update @refusing{{suffix}} { {{family}} daddr timeout {{window}}s limit rate over {{perDay}}/day burst {{rules.Ports}} packets } limit rate {{rules.HoldsPerMinute}}/minute burst {{rules.HoldsPerMinute}} packets add @held{{suffix}} { {{family}} daddr timeout {{(long)rules.Hold.TotalSeconds}}s } counter drop

                            """);
                    }
                }
            }
            if (!Run(script.ToString(), out string error))
            {
                throw new FirewallException($"nftables: cannot {(rules is null ? "clear" : "arm")} the guard in {Family} {Table}: {error.Trim()}");
            }
            _guardRules = rules is null ? 0 : 2 * (1 + (2 * Refusals("ip", "4", "").Length));
        }
    }

    /// <summary>
    /// What this host sends a prober that the guard counts, in one address family: the match, the
    /// set of probes already counted and the key that tells one probe from another (its source
    /// and the port or protocol probed). <paramref name="ephemeral"/> is the host's range of
    /// local ports for its own connections (ip_local_port_range): a late answer to a connection
    /// of its own that has closed (a DNS reply, a QUIC packet, a stale ACK) draws a refusal from
    /// a port there, and many such to one server must not hold it.
    /// </summary>
    private static (string Refusal, string Set, string Key)[] Refusals(string family, string suffix, string ephemeral)
    {
        bool v4 = suffix == "4";
        string refused = $"refused{suffix}", quoted = $"quoted{suffix}", tcp = $"{family} daddr . tcp sport";
        return
        [
            // A first contact to a closed port: SYN (and connect), FIN, NULL and XMAS probes draw a
            // RST+ACK with sequence number 0, which no connection ever sends otherwise.
            ("tcp flags & (fin | syn | rst | ack) == rst | ack tcp sequence 0", refused, tcp),
            // ACK, Window and Maimon probes (they carry an ACK) draw a bare RST from any port.
            ($"tcp flags & (fin | syn | rst | ack) == rst tcp sport != {ephemeral}", refused, tcp),
            // SCTP INIT probes to a closed port draw an ABORT (chunk type 6 first).
            ("meta l4proto sctp @th,96,8 6", refused, $"{family} daddr . sctp sport"),
            // UDP probes to a closed port draw a port unreachable, which quotes the probe: the
            // port probed is read from the quoted UDP header (after an IPv4 header of 20 bytes or
            // an IPv6 header of 40).
            v4 ? ($"icmp type destination-unreachable icmp code port-unreachable @th,240,16 != {ephemeral}", quoted, "ip daddr . @th,240,16")
               : ($"icmpv6 type destination-unreachable icmpv6 code port-unreachable @th,400,16 != {ephemeral}", quoted, "ip6 daddr . @th,400,16"),
            // IP-protocol probes of a protocol the host does not speak draw a protocol unreachable
            // (IPv6: a parameter problem, unknown next header); the quoted header's TTL and
            // protocol (hop limit and next header) tell the probes apart.
            v4 ? ("icmp type destination-unreachable icmp code prot-unreachable @th,136,8 != 132", quoted, "ip daddr . @th,128,16")
               : ("icmpv6 type parameter-problem icmpv6 code 1 @th,112,8 != 132", quoted, "ip6 daddr . @th,112,16"),
            // SCTP probes to a host that does not speak SCTP draw that same error, all alike but
            // for the port probed, read from the quoted SCTP header. (Kept apart from the rule
            // above: a probe counted there would return before it was counted here.)
            v4 ? ("icmp type destination-unreachable icmp code prot-unreachable @th,136,8 132", quoted, "ip daddr . @th,240,16")
               : ("icmpv6 type parameter-problem icmpv6 code 1 @th,112,8 132", quoted, "ip6 daddr . @th,400,16"),
        ];
    }

    // net.ipv4.ip_local_port_range (IPv6 uses it too), in the calling thread's network namespace.
    private static (int First, int Last) EphemeralPorts()
    {
        try
        {
            string[] range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split(['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return (int.Parse(range[0], CultureInfo.InvariantCulture), int.Parse(range[1], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (32768, 60999); // Linux's default
        }
    }

    public IReadOnlyList<FirewallFailure> Block(IReadOnlyList<FirewallEntry> entries)
    {
        lock (_gate)
        {
            ArgumentNullException.ThrowIfNull(entries);
            // The sensor's ban of one scanner: straight through netlink, one round trip. An address
            // there already keeps the longer ban at once (asking libnftables to create it would only be
            // refused again, and each refused batch costs the kernel an RCU grace period, 10–20 ms);
            // an error goes the libnftables way below, which tells it in nft's words.
            if (entries is [{ Network.IsHost: true } one])
            {
                int error = _netlink.Create(Table, _sets[SetOf(one.Network)], one.Network.Address, one.Timeout);
                if (error == 0)
                {
                    return [];
                }
                if (error == NftNetlink.AlreadyThere)
                {
                    return KeepLonger(one, out string why) ? [] : [new FirewallFailure(one.Network, why)];
                }
            }
            // "create" fails on an element already there (where "add" would overwrite its timeout);
            // such an entry then keeps the longer ban of the two.
            var failures = new List<FirewallFailure>();
            foreach (FirewallFailure failure in Apply(entries, static e => e.Network, static (text, e) => AddElement(text, e.Network, e.Timeout), "create", absentIsDone: false))
            {
                if (!failure.Reason.Contains("File exists", StringComparison.Ordinal))
                {
                    failures.Add(failure);
                }
                else if (!KeepLonger(entries.First(e => e.Network == failure.Network), out string error))
                {
                    failures.Add(failure with { Reason = error });
                }
            }
            return failures;
        }
    }

    /// <summary>Replaces an element already held when <paramref name="entry"/> bans for longer; true when done.</summary>
    private bool KeepLonger(FirewallEntry entry, out string error)
    {
        error = "";
        string set = _sets[SetOf(entry.Network)];
        if (!Run($"get element {Family} {Table} {set} {{ {entry.Network} }}", out error))
        {
            return false;
        }
        // libnftables 1.0.6 answers "get element" as text even with JSON output set:
        //   elements = { 203.0.113.7 timeout 10m expires 9m59s944ms }   (no expires: permanent)
        Match expires = Regex.Match(Output(), @"expires ((?:\d+(?:ms|d|h|m|s))+)");
        TimeSpan? remaining = expires.Success ? ParseDuration(expires.Groups[1].Value) : null;
        bool longer = remaining is not null && (entry.Timeout is null || entry.Timeout > remaining);
        if (!longer)
        {
            return true;
        }
        var replace = new StringBuilder();
        AddElement(replace, entry.Network, entry.Timeout);
        return Run($"delete element {Family} {Table} {set} {{ {entry.Network} }}\nadd element {Family} {Table} {set} {{ {replace} }}", out error);
    }

    public IReadOnlyList<FirewallFailure> Unblock(IReadOnlyList<NetPrefix> networks)
    {
        lock (_gate)
        {
            ArgumentNullException.ThrowIfNull(networks);
            // Deleting an element that is not there fails the whole transaction; tried alone, that
            // error only means the network is already unblocked. (Listing the set first to avoid it
            // cost 1.1 s at 111,000 elements.)
            List<NetPrefix> distinct = networks.Distinct().ToList();
            List<FirewallFailure> failures = Apply(distinct, static n => n, static (text, n) => AppendAddress(text, n), "delete", absentIsDone: true);
            try
            {
                Release(distinct); // lifted means free: not held by the guard either
            }
            catch (FirewallException e)
            {
                failures.AddRange(distinct.Where(n => n.IsHost && !failures.Exists(f => f.Network == n)).Select(n => new FirewallFailure(n, e.Message)));
            }
            return failures;
        }
    }

    public void Release(IReadOnlyList<NetPrefix> sources)
    {
        lock (_gate)
        {
            ArgumentNullException.ThrowIfNull(sources);
            // The hold ends and the count starts again. Adding before deleting makes the delete
            // certain to find the element, so one transaction releases them all, held or not.
            var script = new StringBuilder();
            foreach (NetPrefix host in sources.Where(n => n.IsHost))
            {
                string family = host.Address.IsV4 ? "4" : "6";
                foreach (string set in new[] { "held", "refusing" })
                {
                    script.Append(CultureInfo.InvariantCulture, $"add element {Family} {Table} {set}{family} {{ {host} timeout 1s }}\ndelete element {Family} {Table} {set}{family} {{ {host} }}\n");
                }
            }
            if (script.Length > 0 && !Run(script.ToString(), out string error))
            {
                throw new FirewallException($"nftables: cannot release the guard's hold: {error.Trim()}");
            }
        }
    }

    public IReadOnlyList<BlockedEntry> List()
    {
        lock (_gate)
        {
            var entries = new List<BlockedEntry>();
            foreach (string set in _sets)
            {
                if (!Run($"list set {Family} {Table} {set}", out string error))
                {
                    throw new FirewallException($"nftables: cannot list set {Family} {Table} {set}: {error}");
                }
                ParseSet(Output(), entries);
            }
            return entries;
        }
    }

    /// <summary>
    /// Names every set, chain and rule of the table that <see cref="Initialize"/> and
    /// <see cref="Arm"/> made and that is gone, from <see cref="ListRuleset"/>.
    /// </summary>
    public string? Missing()
    {
        lock (_gate)
        {
            if (!ListRuleset(out _) || Output().Length == 0)
            {
                return $"table {Family} {Table}";
            }
            var sets = new HashSet<string>();
            var rules = new Dictionary<string, int>();
            bool table = false;
            using (JsonDocument doc = JsonDocument.Parse(Output()))
            {
                foreach (JsonElement item in doc.RootElement.GetProperty("nftables").EnumerateArray())
                {
                    JsonProperty what = item.EnumerateObject().First();
                    if (what.Name == "table")
                    {
                        table |= what.Value.GetProperty("name").GetString() == Table;
                        continue;
                    }
                    if (!what.Value.TryGetProperty("table", out JsonElement owner) || owner.GetString() != Table)
                    {
                        continue; // another table's, or the listing's metainfo
                    }
                    switch (what.Name)
                    {
                        case "set":
                            sets.Add(what.Value.GetProperty("name").GetString()!);
                            break;
                        case "chain":
                            rules.TryAdd(what.Value.GetProperty("name").GetString()!, 0);
                            break;
                        case "rule":
                            string chain = what.Value.GetProperty("chain").GetString()!;
                            rules[chain] = rules.GetValueOrDefault(chain) + 1;
                            break;
                    }
                }
            }
            if (!table)
            {
                return $"table {Family} {Table}";
            }
            var missing = new List<string>();
            missing.AddRange(_ownedSets.Where(s => !sets.Contains(s.Name)).Select(s => $"set {s.Name}"));
            foreach (var (chain, expected) in new[] { ("prerouting", _preroutingRules.Length), ("output", _guardRules) })
            {
                if (!rules.TryGetValue(chain, out int present))
                {
                    missing.Add($"chain {chain}");
                }
                else if (present < expected)
                {
                    missing.Add($"{expected - present} of the {expected} rules of chain {chain}");
                }
            }
            return missing.Count == 0 ? null : string.Join(", ", missing);
        }
    }

    /// <summary>
    /// Lists the family's ruleset without the sets' elements (under <see cref="_gate"/>). Not
    /// <c>list table</c> nor <c>list tables</c>: libnftables 1.0.6 fetches every element of every
    /// set for those even when told to be terse, and under a storm the guard's counting sets hold
    /// a hundred thousand, which made each firewall check take two seconds of the respond thread
    /// (10 ms this way).
    /// </summary>
    private bool ListRuleset(out string error)
    {
        LibNftables.nft_ctx_output_set_flags(_context, LibNftables.OutputJson | LibNftables.OutputTerse);
        try
        {
            return Run($"list ruleset {Family}", out error);
        }
        finally
        {
            LibNftables.nft_ctx_output_set_flags(_context, LibNftables.OutputJson);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _netlink.Dispose();
            _context.Dispose();
        }
    }

    private List<FirewallFailure> Apply<T>(IReadOnlyList<T> items, Func<T, NetPrefix> network, Action<StringBuilder, T> element, string verb, bool absentIsDone)
    {
        var failures = new List<FirewallFailure>();
        if (items.Count == 0)
        {
            return failures;
        }
        if (Run(Script(items, network, element, verb), out _))
        {
            return failures;
        }
        // The batch failed as a whole (e.g. a network overlapping one already held): try each
        // alone, keeping the good ones and reporting the rest.
        foreach (T item in items)
        {
            if (!Run(Script([item], network, element, verb), out string error) && !(absentIsDone && Absent(error)))
            {
                failures.Add(new FirewallFailure(network(item), error.Trim()));
            }
        }
        return failures;
    }

    /// <summary>Whether nft's error says the element is not there: ENOENT for an address, its own words for a network in an interval set.</summary>
    private static bool Absent(string error) =>
        error.Contains("No such file or directory", StringComparison.Ordinal) || error.Contains("element does not exist", StringComparison.Ordinal);

    private static int SetOf(NetPrefix network) => (network.IsHost ? 0 : 2) + (network.Address.IsV4 ? 0 : 1);

    private static string Script<T>(IReadOnlyList<T> items, Func<T, NetPrefix> network, Action<StringBuilder, T> element, string verb)
    {
        var elements = new StringBuilder[_sets.Length];
        foreach (T item in items)
        {
            StringBuilder text = elements[SetOf(network(item))] ??= new StringBuilder();
            text.Append(text.Length == 0 ? "" : ", ");
            element(text, item);
        }
        var script = new StringBuilder();
        for (int i = 0; i < _sets.Length; i++)
        {
            if (elements[i] is { } text)
            {
                script.Append(CultureInfo.InvariantCulture, $"{verb} element {Family} {Table} {_sets[i]} {{ {text} }}\n");
            }
        }
        return script.ToString();
    }

    /// <summary>Reads nft's duration syntax, e.g. 1d2h3m4s500ms.</summary>
    internal static TimeSpan ParseDuration(string text)
    {
        TimeSpan total = TimeSpan.Zero;
        foreach (Match part in Regex.Matches(text, @"(\d+)(ms|d|h|m|s)"))
        {
            long n = long.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            total += part.Groups[2].Value switch
            {
                "d" => TimeSpan.FromDays(n),
                "h" => TimeSpan.FromHours(n),
                "m" => TimeSpan.FromMinutes(n),
                "s" => TimeSpan.FromSeconds(n),
                _ => TimeSpan.FromMilliseconds(n),
            };
        }
        return total;
    }

    private static void AddElement(StringBuilder text, NetPrefix network, TimeSpan? timeout)
    {
        AppendAddress(text, network);
        if (timeout is { } t)
        {
            // nft takes whole milliseconds; anything shorter would never be seen by the kernel's GC.
            text.Append(CultureInfo.InvariantCulture, $" timeout {Math.Max(1, (long)t.TotalMilliseconds)}ms");
        }
    }

    private static void AppendAddress(StringBuilder text, NetPrefix network) => text.Append(network.ToString());

    private bool Run(string script, out string error)
    {
        int result = LibNftables.nft_run_cmd_from_buffer(_context, script);
        error = Marshal.PtrToStringUTF8(LibNftables.nft_ctx_get_error_buffer(_context)) ?? "";
        // Read after every command, which rewinds the buffer: libnftables appends each command's
        // output until it is read, so a listing after an unread one (Missing's) held two JSON
        // documents and could not be parsed.
        _output = Marshal.PtrToStringUTF8(LibNftables.nft_ctx_get_output_buffer(_context)) ?? "";
        return result == 0;
    }

    /// <summary>What the last command printed.</summary>
    private string Output() => _output;

    /// <summary>Reads the elements of a set from libnftables-json(5).</summary>
    private static void ParseSet(string json, List<BlockedEntry> entries)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        foreach (JsonElement item in doc.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!item.TryGetProperty("set", out JsonElement set) || !set.TryGetProperty("elem", out JsonElement elements))
            {
                continue;
            }
            foreach (JsonElement element in elements.EnumerateArray())
            {
                // An element is a bare value, or {"elem": {"val": value, "timeout": s, "expires": s}}.
                JsonElement value = element;
                TimeSpan? remaining = null;
                if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("elem", out JsonElement wrapped))
                {
                    value = wrapped.GetProperty("val");
                    if (wrapped.TryGetProperty("expires", out JsonElement expires))
                    {
                        remaining = TimeSpan.FromSeconds(expires.GetDouble());
                    }
                    else if (wrapped.TryGetProperty("timeout", out JsonElement timeout))
                    {
                        remaining = TimeSpan.FromSeconds(timeout.GetDouble());
                    }
                }
                entries.Add(new BlockedEntry(ParseValue(value), remaining));
            }
        }
    }

    private static NetPrefix ParseValue(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return NetPrefix.Parse(value.GetString()!);
        }
        if (value.TryGetProperty("prefix", out JsonElement prefix))
        {
            return NetPrefix.Parse($"{prefix.GetProperty("addr").GetString()}/{prefix.GetProperty("len").GetInt32()}");
        }
        if (value.TryGetProperty("range", out JsonElement range))
        {
            // A range that is no single prefix (the kernel merged neighbours): report its start.
            return NetPrefix.Parse(range[0].GetString()!);
        }
        throw new FirewallException($"nftables: unexpected set element {value}");
    }
}
