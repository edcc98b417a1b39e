using PortSentinel.Decode;

namespace PortSentinel.Respond;

/// <summary>Decides and logs, touches nothing: for trying PortSentinel out, or a host that must not be changed.</summary>
public sealed class DryRunFirewall : IFirewall
{
    private readonly Dictionary<NetPrefix, DateTimeOffset?> _held = [];
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
        foreach (FirewallEntry entry in entries)
        {
            _held.TryAdd(entry.Network, entry.Timeout is { } t ? _time.GetUtcNow() + t : null);
        }
        return [];
    }

    public IReadOnlyList<FirewallFailure> Unblock(IReadOnlyList<NetPrefix> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        foreach (NetPrefix network in networks)
        {
            _held.Remove(network);
        }
        return [];
    }

    public IReadOnlyList<BlockedEntry> List()
    {
        DateTimeOffset now = _time.GetUtcNow();
        return [.. _held.Where(h => h.Value is null || h.Value > now).Select(h => new BlockedEntry(h.Key, h.Value - now))];
    }

    public void Dispose()
    {
    }
}
