using System.Numerics;
using System.Runtime.CompilerServices;

namespace PortSentinel.Detect;

/// <summary>
/// 256-bit linear-counting sketch (Whang et al. 1990): a distinct-count estimate of n̂ = −m·ln(z/m)
/// from z zero bits of m. Within ±1 up to ~40 items and within a few percent up to ~300, which is
/// the range of the thresholds; beyond m·ln m it saturates, which only means "many".
/// </summary>
[InlineArray(4)]
internal struct Sketch256
{
    private ulong _word;

    public const int Bits = 256;

    public void Add(ulong hash) => this[(int)((hash >> 6) & 3)] |= 1UL << (int)(hash & 63);

    public readonly int PopCount() =>
        BitOperations.PopCount(this[0]) + BitOperations.PopCount(this[1]) + BitOperations.PopCount(this[2]) + BitOperations.PopCount(this[3]);

    /// <summary>The estimate over the union of this and <paramref name="other"/>.</summary>
    public readonly int EstimateUnion(in Sketch256 other)
    {
        int ones = BitOperations.PopCount(this[0] | other[0]) + BitOperations.PopCount(this[1] | other[1])
            + BitOperations.PopCount(this[2] | other[2]) + BitOperations.PopCount(this[3] | other[3]);
        return LinearCount(ones, Bits);
    }

    public void Clear() => this = default;

    /// <summary>Exact for values below 256, used for protocol numbers.</summary>
    public void Set(byte value) => this[value >> 6] |= 1UL << (value & 63);

    public readonly int CountUnion(in Sketch256 other) =>
        BitOperations.PopCount(this[0] | other[0]) + BitOperations.PopCount(this[1] | other[1])
        + BitOperations.PopCount(this[2] | other[2]) + BitOperations.PopCount(this[3] | other[3]);

    internal static int LinearCount(int ones, int bits)
    {
        int zeros = bits - ones;
        if (zeros == 0)
        {
            zeros = 1;
        }
        return (int)Math.Round(-bits * Math.Log((double)zeros / bits));
    }
}

/// <summary>Two generations of a sketch, rotated every half window: the union covers the last half to whole window.</summary>
internal struct WindowedSketch
{
    public Sketch256 Current;
    public Sketch256 Previous;

    public void Rotate(bool whole)
    {
        Previous = whole ? default : Current;
        Current = default;
    }

    public readonly int Estimate() => Current.EstimateUnion(Previous);

    public readonly int CountExact() => Current.CountUnion(Previous);
}

/// <summary>
/// The failed first contacts of one source, as a filter of 128 bits over two generations (one bit
/// per contact, rotated with the long window): a contact whose bit is set has almost surely failed
/// before. A flood that pushes a source's contacts out of the flow table makes each repeat of one
/// probe look like a new contact; the filter keeps such repeats from counting as new failures. A
/// bit set by another contact (about n/128 after n distinct failures) only costs the decision one
/// failure more.
/// </summary>
internal struct ContactFilter
{
    private ulong _current0;
    private ulong _current1;
    private ulong _previous0;
    private ulong _previous1;

    /// <summary>Adds the contact; whether it was there already.</summary>
    public bool Add(ulong hash)
    {
        ulong bit = 1UL << (int)(hash & 63);
        bool high = (hash & 64) != 0;
        bool seen = ((high ? _current1 | _previous1 : _current0 | _previous0) & bit) != 0;
        if (high)
        {
            _current1 |= bit;
        }
        else
        {
            _current0 |= bit;
        }
        return seen;
    }

    public void Rotate(bool whole)
    {
        (_previous0, _previous1) = whole ? (0, 0) : (_current0, _current1);
        (_current0, _current1) = (0, 0);
    }
}

/// <summary>Successes and failures over two generations, rotated with the sketches of the same window.</summary>
internal struct WindowedCount
{
    public int Successes;
    public int Failures;
    private int _previousSuccesses;
    private int _previousFailures;

    public void Rotate(bool whole)
    {
        _previousSuccesses = whole ? 0 : Successes;
        _previousFailures = whole ? 0 : Failures;
        Successes = 0;
        Failures = 0;
    }

    /// <summary>A contact that was counted a success turned out abandoned unused: count it failed instead.</summary>
    public void Demote()
    {
        if (Successes > 0)
        {
            Successes--;
        }
        else if (_previousSuccesses > 0)
        {
            _previousSuccesses--;
        }
        Failures++;
    }

    public readonly bool FailuresAtLeast(double ratio)
    {
        int failures = Failures + _previousFailures;
        int total = failures + Successes + _previousSuccesses;
        return total > 0 && failures >= ratio * total;
    }
}

/// <summary>Hash mixing for sketch inputs; a port and a protocol become one 64-bit value.</summary>
internal static class SketchHash
{
    public static ulong Mix(ulong x)
    {
        x ^= x >> 31;
        x *= 0x7FB5_D329_728E_A185UL;
        x ^= x >> 27;
        x *= 0x81DA_DEF4_BC2D_D44DUL;
        x ^= x >> 33;
        return x;
    }

    public static ulong Port(byte protocol, ushort port) => Mix(((ulong)protocol << 16) | port);

    /// <summary>
    /// The slot (or set) of a table for a tag whose low bit is forced to 1 to tell it from an
    /// empty slot: taken from the high half, since the low bits would leave every even slot unused.
    /// </summary>
    public static int Index(ulong tag, int mask) => (int)((tag >> 32) & (uint)mask);
}
