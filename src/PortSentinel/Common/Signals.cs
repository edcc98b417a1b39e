using System.Runtime.InteropServices;

namespace PortSentinel.Common;

/// <summary>
/// A shell that starts a program in the background without job control (<c>cmd &amp;</c> in a
/// script) sets SIGINT and SIGQUIT to be ignored, and .NET then never delivers them to a
/// PosixSignalRegistration: the sensor went on running after SIGINT until SIGTERM came. The sensor
/// wants every stop signal, so it puts their default disposition back before registering.
/// </summary>
public static unsafe partial class Signals
{
    private const int SigInt = 2;
    private const int SigQuit = 3;
    private const nint Default = 0; // SIG_DFL
    private const nint Ignore = 1; // SIG_IGN

    // struct sigaction is 152 bytes on x86_64 and arm64 glibc; its first member is the handler.
    private const int SigactionSize = 256;

    /// <summary>
    /// SIGINT and SIGQUIT to their default action where they are set to be ignored; a signal that
    /// is not ignored (the runtime's own handler) is left untouched. Call before registering handlers.
    /// </summary>
    public static void StopIgnoringInterrupts()
    {
        byte* current = stackalloc byte[SigactionSize];
        foreach (int signal in new[] { SigInt, SigQuit })
        {
            // Only read: replacing and restoring the runtime's handler through signal(2) would lose
            // its SA_SIGINFO flag and mask.
            if (Sigaction(signal, null, current) == 0 && *(nint*)current == Ignore)
            {
                _ = Signal(signal, Default);
            }
        }
    }

    // sigaction(2) with a null new action: reads the current one.
    [LibraryImport("libc", EntryPoint = "sigaction")]
    private static partial int Sigaction(int signum, byte* action, byte* previous);

    // signal(2): returns the previous disposition.
    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint Signal(int signum, nint handler);
}
