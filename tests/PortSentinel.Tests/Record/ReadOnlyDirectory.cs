using System.Diagnostics;
using PortSentinel.Record.Sqlite;

namespace PortSentinel.Tests.Record;

/// <summary>
/// Runs only where a directory can be made read-only for this process: as root (whom chmod does not
/// stop) by mounting a tmpfs read-only; as anyone else by chmod 0555.
/// </summary>
public sealed class ReadOnlyFactAttribute : FactAttribute
{
    public ReadOnlyFactAttribute()
    {
        Skip = ReadOnlyDirectory.Unavailable.Value;
    }
}

/// <summary>
/// A directory of the test's own that this process cannot write: as root a tmpfs mounted read-only
/// (optionally holding a database made before it was), else a directory chmod 0555. Unmounted and
/// removed in <see cref="Dispose"/>, even when the test fails.
/// </summary>
public sealed class ReadOnlyDirectory : IDisposable
{
    private readonly bool _mounted;

    public ReadOnlyDirectory(bool withDatabase)
    {
        Path = Directory.CreateTempSubdirectory("ps-readonly-").FullName;
        _mounted = Environment.IsPrivilegedProcess;
        if (_mounted)
        {
            Run("mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", Path);
        }
        if (withDatabase)
        {
            SqliteStore.Open(Path).Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
        if (_mounted)
        {
            Run("mount", "-o", "remount,ro", Path);
        }
        else if (!OperatingSystem.IsWindows())
        {
            foreach (string file in Directory.GetFiles(Path))
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
    }

    public string Path { get; }

    /// <summary>Why no read-only directory can be made here, or null.</summary>
    public static Lazy<string?> Unavailable { get; } = new(() =>
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return null;
        }
        string probe = Directory.CreateTempSubdirectory("ps-readonly-probe-").FullName;
        try
        {
            Run("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", probe);
            Run("umount", probe);
            return null;
        }
        catch (InvalidOperationException e)
        {
            return $"running as root, and a read-only tmpfs cannot be mounted to stand for a read-only directory: {e.Message}";
        }
        finally
        {
            Directory.Delete(probe);
        }
    });

    public void Dispose()
    {
        if (_mounted)
        {
            Run("umount", Path);
        }
        else if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Directory.Delete(Path, recursive: true);
    }

    private static void Run(string file, params string[] arguments)
    {
        var (exit, output) = ProcessRunner.Run(file, arguments, TimeSpan.FromSeconds(20));
        if (exit != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)}: exit {exit}: {output.Trim()}");
        }
    }
}
