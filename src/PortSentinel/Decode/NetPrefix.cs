using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace PortSentinel.Decode;

/// <summary>An address and a prefix length: one host (/32, /128) or a network. Host bits are zero.</summary>
public readonly record struct NetPrefix
{
    public NetPrefix(NetAddress address, int length)
    {
        int max = address.IsV4 ? 32 : 128;
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, max);
        Address = address.IsV4
            ? NetAddress.FromV4(length == 0 ? 0 : address.V4 & (uint.MaxValue << (32 - length)))
            : address.MaskV6(length);
        Length = length;
    }

    public NetAddress Address { get; }

    public int Length { get; }

    public bool IsHost => Length == (Address.IsV4 ? 32 : 128);

    public static NetPrefix Host(NetAddress address) => new(address, address.IsV4 ? 32 : 128);

    /// <summary>Whether <paramref name="address"/> lies in this network (of the same family).</summary>
    public bool Contains(NetAddress address) => address.IsV4 == Address.IsV4 && new NetPrefix(address, Length).Address == Address;

    /// <summary>Parses "203.0.113.7", "198.51.100.0/24" or "2001:db8::/64".</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out NetPrefix? prefix)
    {
        prefix = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        string[] parts = text.Trim().Split('/');
        // IPAddress.TryParse also takes the short forms of inet_aton: "203.0.113" is 203.0.0.113
        // and "10.1" is 10.0.0.1. Whoever writes those means something else: only four parts pass.
        if (parts.Length > 2 || (!parts[0].Contains(':', StringComparison.Ordinal) && parts[0].Count(c => c == '.') != 3) || !IPAddress.TryParse(parts[0], out IPAddress? ip))
        {
            return false;
        }
        var address = NetAddress.FromIPAddress(ip);
        int max = address.IsV4 ? 32 : 128;
        int length = max;
        if (parts.Length == 2 && (!int.TryParse(parts[1], out length) || length < 0 || length > max))
        {
            return false;
        }
        prefix = new NetPrefix(address, length);
        return true;
    }

    public static NetPrefix Parse(string text) =>
        TryParse(text, out NetPrefix? prefix) ? prefix.Value : throw new FormatException($"\"{text}\" is not an address or network (e.g. 203.0.113.7 or 198.51.100.0/24).");

    public override string ToString() => IsHost ? Address.ToString() : $"{Address}/{Length}";
}
