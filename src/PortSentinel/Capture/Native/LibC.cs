using System.Runtime.InteropServices;

namespace PortSentinel.Capture.Native;

/// <summary>The C library calls the capture stage needs beside libpcap.</summary>
internal static partial class LibC
{
    /// <summary>The descriptor under a stdio stream (fileno(3)), or -1.</summary>
    [LibraryImport("libc", EntryPoint = "fileno")]
    public static partial int fileno(nint stream);
}
