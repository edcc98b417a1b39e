using System.Runtime.InteropServices;

namespace PortSentinel.Common;

/// <summary>
/// A shell that starts a program in the background without job control (<c>cmd &amp;</c> in a
/// script) sets SIGINT and SIGQUIT to be ignored, and .NET then never delivers them to a
/// PosixSignalRegistration: the sensor went on running after SIGINT until SIGTERM came. The sensor
/// wants every stop signal, so it puts their default disposition back before registering.
/// </summary>
public static partial class Signals
{
    private const int SigInt = 2;
    private const int SigQuit = 3;
    private static readonly nint _default = 0; // SIG_DFL
    private static readonly nint _ignore = 1; // SIG_IGN

    /// <summary>SIGINT and SIGQUIT to their default action when they were set to be ignored; call before registering handlers.</summary>
    public static void StopIgnoringInterrupts()
    {
        foreach (int signal in new[] { SigInt, SigQuit })
        {
            nint previous = Signal(signal, _default);
            if (previous != _ignore)
            {
                _ = Signal(signal, previous); // not ignored: left as it was
            }
        }
    }

    // signal(2): returns the previous disposition.
    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint Signal(int signum, nint handler);
}
