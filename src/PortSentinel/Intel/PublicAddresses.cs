using PortSentinel.Decode;

namespace PortSentinel.Intel;

/// <summary>
/// Whether an address is one the world can know of: not private, shared (CGNAT), loopback,
/// link-local, documentation, benchmarking, multicast, reserved or unique-local. Only those are
/// looked up or reported; the others would say nothing, and would tell outsiders about this network.
/// </summary>
public static class PublicAddresses
{
    private static readonly NetPrefix[] _notPublic =
    [
        .. new[]
        {
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
            "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
            "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
            "::/127", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "2001::/23", "fc00::/7", "fe80::/10", "ff00::/8",
        }.Select(NetPrefix.Parse),
    ];

    public static bool IsPublic(NetAddress address) => !_notPublic.Any(p => p.Contains(address));
}
