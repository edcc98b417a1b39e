using PortSentinel.Decode;

namespace PortSentinel.Synthetic;

// The hosts (server and scanner addresses, which services each runs, which are alive) and the segment-size and IP-ID helpers.
public sealed partial class TrafficGenerator
{
    // ---- Hosts ---------------------------------------------------------------------------------

    private static NetAddress Server(int host) => NetAddress.FromV4(ServerNet | (uint)host);

    private static NetAddress Scanner(int host) => NetAddress.FromV4(ScannerNet | (uint)host);

    private static bool IsServer(in NetAddress host, out int number)
    {
        if (host.IsV4 && (host.V4 & 0xFFFF_FF00) == ServerNet && (host.V4 & 0xFF) is >= 1 and <= Ipv4ServerCount)
        {
            number = (int)(host.V4 & 0xFF);
            return true;
        }
        if (!host.IsV4 && host.High == ServerNet6 && host.Low is >= 1 and <= Ipv6ServerCount)
        {
            number = (int)host.Low;
            return true;
        }
        number = 0;
        return false;
    }

    private static bool IsResolver(in NetAddress host) => host == _resolver1 || host == _resolver2 || host == _resolver6;

    /// <summary>Every server runs HTTP and HTTPS; every fourth SSH, every tenth SMTP; resolvers DNS over TCP.</summary>
    private static bool TcpOpen(in NetAddress host, ushort port)
    {
        if (IsResolver(host))
        {
            return port == 53;
        }
        return IsServer(host, out int n) && (port is 80 or 443 || (port == 22 && n % 4 == 0) || (port == 25 && n % 10 == 0));
    }

    /// <summary>Resolvers answer DNS and NTP.</summary>
    private static bool UdpOpen(in NetAddress host, ushort port) => IsResolver(host) && port is 53 or 123;

    private static bool Alive(in NetAddress host) => IsResolver(host) || IsServer(host, out _);

    private static int MaxSegment(bool v6) => v6 ? 1500 - 40 - 32 : 1500 - 20 - 32; // MTU − IP − TCP with timestamps

    private ushort NextIpId() => ++_ipId;
}
