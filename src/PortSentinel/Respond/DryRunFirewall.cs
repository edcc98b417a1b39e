using PortSentinel.Decode;

namespace PortSentinel.Respond;

/// <summary>Decides and logs, touches nothing: for trying PortSentinel out, or a host that must not be changed.</summary>
public sealed class DryRunFirewall : IFirewall
{
    private readonly Dictionary<NetPrefix, DateTimeOffset?> _held = []; // under _gate: tests read it beside the respond thread
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;

    public DryRunFirewall(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    public string Name => "dry-run";

    public bool ExpiresByItself => true;

    public void Initialize()
    {
    }

    public IReadOnlyList<FirewallFailure> Block(IReadOnlyList<FirewallEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        lock (_gate)
        {
            foreach (FirewallEntry entry in entries)
            {
                // As the kernel sets: of two bans of one network, the longer is kept (null: never ends).
                DateTimeOffset? until = entry.Timeout is { } t ? _time.GetUtcNow() + t : null;
                if (!_held.TryGetValue(entry.Network, out DateTimeOffset? held) || (held is { } h && (until is null || until > h)))
                {
                    _held[entry.Network] = until;
                }
            }
        }
        return [];
    }

    public IReadOnlyList<FirewallFailure> Unblock(IReadOnlyList<NetPrefix> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        lock (_gate)
        {
            foreach (NetPrefix network in networks)
            {
                _held.Remove(network);
            }
        }
        return [];
    }

    public IReadOnlyList<BlockedEntry> List()
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (_gate)
        {
            return [.. _held.Where(h => h.Value is null || h.Value > now).Select(h => new BlockedEntry(h.Key, h.Value - now))];
        }
    }

    public void Dispose()
    {
    }
}
