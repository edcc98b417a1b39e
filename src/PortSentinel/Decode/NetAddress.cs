using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace PortSentinel.Decode;

/// <summary>
/// An IPv4 or IPv6 address as a 16-byte value with no allocation. IPv4 is held IPv4-mapped
/// (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) so that one table can key both families.
/// </summary>
public readonly struct NetAddress : IEquatable<NetAddress>
{
    private const ulong V4MappedHigh = 0;
    private const ulong V4MappedLowPrefix = 0x0000_FFFF_0000_0000UL;

    /// <summary>The first 64 bits, network byte order read big-endian.</summary>
    public ulong High { get; }

    /// <summary>The last 64 bits, network byte order read big-endian.</summary>
    public ulong Low { get; }

    public NetAddress(ulong high, ulong low)
    {
        High = high;
        Low = low;
    }

    public bool IsV4 => High == V4MappedHigh && (Low & 0xFFFF_FFFF_0000_0000UL) == V4MappedLowPrefix;

    /// <summary>The IPv4 address as a host-order integer; only meaningful when <see cref="IsV4"/>.</summary>
    public uint V4 => (uint)Low;

    public static NetAddress FromV4(uint hostOrder) => new(V4MappedHigh, V4MappedLowPrefix | hostOrder);

    /// <summary>Reads 4 bytes in network order.</summary>
    public static NetAddress FromV4(ReadOnlySpan<byte> bytes) => FromV4(BinaryPrimitives.ReadUInt32BigEndian(bytes));

    /// <summary>Reads 16 bytes in network order.</summary>
    public static NetAddress FromV6(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));

    public static NetAddress FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes, out _);
            return FromV4(bytes);
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return FromIPAddress(address.MapToIPv4());
        }
        address.TryWriteBytes(bytes, out _);
        return FromV6(bytes);
    }

    public static NetAddress Parse(string text) => FromIPAddress(IPAddress.Parse(text));

    /// <summary>Keeps the first <paramref name="bits"/> bits of an IPv6 address (IPv4 is returned whole).</summary>
    public NetAddress MaskV6(int bits)
    {
        if (IsV4 || bits >= 128)
        {
            return this;
        }
        if (bits <= 0)
        {
            return default;
        }
        if (bits <= 64)
        {
            return new NetAddress(High & (ulong.MaxValue << (64 - bits)), 0);
        }
        return new NetAddress(High, Low & (ulong.MaxValue << (128 - bits)));
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Low);
        return IsV4 ? new IPAddress(bytes[12..]) : new IPAddress(bytes);
    }

    public override string ToString() => ToIPAddress().ToString();

    public bool Equals(NetAddress other) => High == other.High && Low == other.Low;

    public override bool Equals(object? obj) => obj is NetAddress other && Equals(other);

    /// <summary>A well-mixed 64-bit hash (the bucket index of the detector's tables comes from it).</summary>
    public ulong Hash64()
    {
        // The 64-bit finaliser of MurmurHash3 over both halves: cheap, and every input bit
        // reaches every output bit, so addresses that differ only in their last octet spread out.
        ulong h = High * 0x9E37_79B9_7F4A_7C15UL ^ Low;
        h ^= h >> 33;
        h *= 0xFF51_AFD7_ED55_8CCDUL;
        h ^= h >> 33;
        h *= 0xC4CE_B9FE_1A85_EC53UL;
        h ^= h >> 33;
        return h;
    }

    public override int GetHashCode() => (int)Hash64();

    public static bool operator ==(NetAddress left, NetAddress right) => left.Equals(right);

    public static bool operator !=(NetAddress left, NetAddress right) => !left.Equals(right);
}
