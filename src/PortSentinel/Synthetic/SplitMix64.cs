namespace PortSentinel.Synthetic;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fast generator whose sequence depends only on
/// the seed, so a synthetic capture is the same on every machine and .NET version (unlike
/// <see cref="Random"/>, whose algorithm is not part of its contract). Not for security.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E37_79B9_7F4A_7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return z ^ (z >> 31);
    }

    public uint NextUInt32() => (uint)(Next() >> 32);

    /// <summary>Uniform in [0, <paramref name="bound"/>) by Lemire's multiply-shift (bias below 2^-32).</summary>
    public int Below(int bound) => (int)(((ulong)NextUInt32() * (uint)bound) >> 32);

    /// <summary>Uniform in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int Between(int min, int max) => min + Below(max - min + 1);
}
