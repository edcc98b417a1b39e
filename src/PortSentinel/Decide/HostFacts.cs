using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using PortSentinel.Decode;

namespace PortSentinel.Decide;

/// <summary>
/// What this host must never block: its own addresses, its default gateways and its DNS resolvers.
/// Read at start and on reload; a host whose gateway changes is reloaded, not re-read per packet.
/// </summary>
public sealed record HostFacts(IReadOnlyList<NetAddress> Addresses, IReadOnlyList<NetAddress> Gateways, IReadOnlyList<NetAddress> Resolvers)
{
    /// <summary>
    /// Reads the facts of the network namespace of the calling thread: addresses through
    /// getifaddrs, gateways from <paramref name="procNet"/> (<c>/proc/net</c>, or
    /// <c>/proc/thread-self/net</c> for a thread in another namespace), resolvers from
    /// <paramref name="resolvConf"/>.
    /// </summary>
    public static HostFacts Read(string procNet = "/proc/net", string resolvConf = "/etc/resolv.conf")
    {
        var addresses = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(u => NetAddress.FromIPAddress(u.Address))
            .Distinct()
            .ToList();
        var gateways = new List<NetAddress>();
        gateways.AddRange(ParseIpv4Routes(ReadIfPresent(Path.Combine(procNet, "route"))));
        gateways.AddRange(ParseIpv6Routes(ReadIfPresent(Path.Combine(procNet, "ipv6_route"))));
        return new HostFacts(addresses, gateways.Distinct().ToList(), ParseResolvConf(ReadIfPresent(resolvConf)));
    }

    /// <summary>Default-route gateways from /proc/net/route (hex fields in host byte order).</summary>
    public static IEnumerable<NetAddress> ParseIpv4Routes(string text)
    {
        foreach (string line in text.Split('\n').Skip(1))
        {
            string[] f = line.Split('\t', StringSplitOptions.TrimEntries);
            // Iface Destination Gateway Flags RefCnt Use Metric Mask …; RTF_GATEWAY = 0x2.
            if (f.Length < 8 || f[1] != "00000000" || f[7] != "00000000"
                || !uint.TryParse(f[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint gateway) || gateway == 0
                || !uint.TryParse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint flags) || (flags & 0x2) == 0)
            {
                continue;
            }
            yield return NetAddress.FromV4(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(gateway));
        }
    }

    /// <summary>Default-route next hops from /proc/net/ipv6_route (32 hex digits per address).</summary>
    public static IEnumerable<NetAddress> ParseIpv6Routes(string text)
    {
        foreach (string line in text.Split('\n'))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // destination, length, source, length, next hop, metric, refcnt, use, flags, device.
            if (f.Length < 10 || f[1] != "00" || f[0] != new string('0', 32) || f[4] == new string('0', 32) || f[4].Length != 32)
            {
                continue;
            }
            yield return NetAddress.FromV6(Convert.FromHexString(f[4]));
        }
    }

    /// <summary>The <c>nameserver</c> lines of resolv.conf(5); zone indexes (fe80::1%eth0) dropped.</summary>
    public static IReadOnlyList<NetAddress> ParseResolvConf(string text)
    {
        var resolvers = new List<NetAddress>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (!line.StartsWith("nameserver", StringComparison.Ordinal))
            {
                continue;
            }
            string[] f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 2 && IPAddress.TryParse(f[1].Split('%')[0], out IPAddress? ip))
            {
                resolvers.Add(NetAddress.FromIPAddress(ip));
            }
        }
        return resolvers;
    }

    private static string ReadIfPresent(string path) => File.Exists(path) ? File.ReadAllText(path) : "";
}
