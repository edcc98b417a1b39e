using System.Runtime.CompilerServices;

namespace PortSentinel.Detect;

/// <summary>
/// Makes a table's memory resident when it is made. A large array comes from the system with its
/// pages not yet there, and each page is faulted in when first used: on the packet path, or all at
/// once when a new incident walks the whole flow table, which cost 0.4 ms of the first ban
/// (docs/performance.md).
/// </summary>
internal static class ResidentMemory
{
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
