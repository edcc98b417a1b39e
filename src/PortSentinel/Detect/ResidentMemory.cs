using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace PortSentinel.Detect;

/// <summary>
/// Makes a table's memory resident when it is made. A large array comes from the system with its
/// pages not yet there, and each page is faulted in when first used: on the packet path, or all at
/// once when a new incident walks the whole flow table, which cost 0.4 ms of the first ban
/// (docs/performance.md). And asks for a line of it to be brought into the caches ahead of a read.
/// </summary>
internal static class ResidentMemory
{
    /// <summary>
    /// Asks the CPU to bring the cache line holding <paramref name="location"/> in: a hint only.
    /// Should an array the location is in move before the read, the request is merely wasted.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Prefetch<T>(ref T location)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref location));
        }
    }

    public static T[] Touch<T>(T[] array)
    {
        int step = Math.Max(1, Environment.SystemPageSize / Unsafe.SizeOf<T>());
        for (int i = 0; i < array.Length; i += step)
        {
            array[i] = default!;
        }
        return array;
    }
}
