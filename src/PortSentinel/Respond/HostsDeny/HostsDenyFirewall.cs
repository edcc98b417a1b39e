using System.Globalization;
using System.Text;
using PortSentinel.Decode;

namespace PortSentinel.Respond.HostsDeny;

/// <summary>
/// Blocks through TCP wrappers: a line per ban in <c>/etc/hosts.deny</c> (hosts_access(5)), which
/// only services built with libwrap obey (e.g. socat's tcpwrap, tcpd under inetd). Each line of
/// PortSentinel's is preceded by a comment naming the ban and its end, since the format has no
/// comment at the end of a line:
/// <code>
/// # portsentinel 198.51.100.0/30 until=never
/// ALL: 198.51.100.0/255.255.255.252
/// </code>
/// Everything else in the file is kept as it is. The file is rewritten whole to a temporary file
/// and renamed over the old one, so a reader never sees half of it. The sensor lifts expired bans.
/// </summary>
public sealed class HostsDenyFirewall : IFirewall
{
    private const string Marker = "# portsentinel ";

    private readonly string _path;
    private readonly string _daemons;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    public HostsDenyFirewall(FirewallOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _path = options.HostsDenyPath;
        _daemons = options.HostsDenyDaemons;
        _time = time ?? TimeProvider.System;
    }

    public string Name => "hosts-deny";

    public bool ExpiresByItself => false;

    public void Initialize()
    {
        try
        {
            if (!File.Exists(_path))
            {
                File.WriteAllText(_path, "");
            }
            using FileStream probe = File.Open(_path, FileMode.Open, FileAccess.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FirewallException($"hosts-deny backend: {_path} cannot be written ({e.Message}); run as root or set Firewall:HostsDenyPath.", e);
        }
    }

    public IReadOnlyList<FirewallFailure> Block(IReadOnlyList<FirewallEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        DateTimeOffset now = _time.GetUtcNow();
        return Change(entries.Select(e => e.Network), held =>
        {
            foreach (FirewallEntry entry in entries)
            {
                long? until = entry.Timeout is { } t ? (now + t).ToUnixTimeSeconds() : null;
                // A longer ban already held stays.
                if (!held.TryGetValue(entry.Network, out long? end) || (end is { } e && (until is null || until > e)))
                {
                    held[entry.Network] = until;
                }
            }
        });
    }

    public IReadOnlyList<FirewallFailure> Unblock(IReadOnlyList<NetPrefix> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        return Change(networks, held =>
        {
            foreach (NetPrefix network in networks)
            {
                held.Remove(network);
            }
        });
    }

    public IReadOnlyList<BlockedEntry> List()
    {
        DateTimeOffset now = _time.GetUtcNow();
        return [.. Read().Held.Select(h => BlockedEntry.Ending(h.Key, h.Value, now))];
    }

    public void Dispose()
    {
    }

    /// <summary>The client pattern of hosts_access(5): 203.0.113.7, 198.51.100.0/255.255.255.252, [2001:db8::]/64.</summary>
    public static string Pattern(NetPrefix network)
    {
        if (network.Address.IsV4)
        {
            if (network.IsHost)
            {
                return network.Address.ToString();
            }
            uint mask = network.Length == 0 ? 0 : uint.MaxValue << (32 - network.Length);
            return $"{network.Address}/{mask >> 24}.{(mask >> 16) & 0xFF}.{(mask >> 8) & 0xFF}.{mask & 0xFF}";
        }
        return network.IsHost ? $"[{network.Address}]" : $"[{network.Address}]/{network.Length}";
    }

    private List<FirewallFailure> Change(IEnumerable<NetPrefix> networks, Action<Dictionary<NetPrefix, long?>> change)
    {
        try
        {
            lock (_gate) // read, change, write: two at once would lose one's change
            {
                var (others, held) = Read();
                change(held);
                Write(others, held);
            }
            return [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [.. networks.Distinct().Select(n => new FirewallFailure(n, $"{_path}: {e.Message}"))];
        }
    }

    /// <summary>The file's lines that are not PortSentinel's, and PortSentinel's bans with their ends.</summary>
    private (List<string> Others, Dictionary<NetPrefix, long?> Held) Read()
    {
        var others = new List<string>();
        var held = new Dictionary<NetPrefix, long?>();
        string[] lines = File.Exists(_path) ? File.ReadAllLines(_path) : [];
        for (int i = 0; i < lines.Length; i++)
        {
            // # portsentinel 203.0.113.7 until=1764000000   (the next line is its rule)
            string[] f = lines[i].StartsWith(Marker, StringComparison.Ordinal) ? lines[i][Marker.Length..].Split(' ') : [];
            if (f.Length == 2 && f[1].StartsWith("until=", StringComparison.Ordinal) && NetPrefix.TryParse(f[0], out NetPrefix? network))
            {
                string end = f[1]["until=".Length..];
                held[network.Value] = end == "never" ? null : long.Parse(end, CultureInfo.InvariantCulture);
                i++; // its rule
                continue;
            }
            others.Add(lines[i]);
        }
        return (others, held);
    }

    private void Write(List<string> others, Dictionary<NetPrefix, long?> held)
    {
        var text = new StringBuilder();
        foreach (string line in others)
        {
            text.Append(line).Append('\n');
        }
        foreach (var (network, until) in held)
        {
            text.Append($"{Marker}{network} until={(until is { } u ? u.ToString(CultureInfo.InvariantCulture) : "never")}\n");
            text.Append($"{_daemons}: {Pattern(network)}\n");
        }
        string temporary = $"{_path}.portsentinel-{Environment.ProcessId}";
        File.WriteAllText(temporary, text.ToString());
        if (File.Exists(_path) && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, File.GetUnixFileMode(_path));
        }
        File.Move(temporary, _path, overwrite: true);
    }
}
