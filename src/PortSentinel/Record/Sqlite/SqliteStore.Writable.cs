using System.Runtime.InteropServices;

namespace PortSentinel.Record.Sqlite;

public sealed partial class SqliteStore
{
    private const int WriteOk = 2; // W_OK, unistd.h
    private const int ErrorPermission = 1; // EPERM: an immutable file (chattr +i) or a security policy
    private const int ErrorAccess = 13; // EACCES: the mode bits or an ACL
    private const int ErrorReadOnly = 30; // EROFS

    /// <summary>
    /// Why this process cannot write the data directory or the database file in it, naming the path
    /// and the fix, or null when it can. Asked only after SQLite failed to open the store: SQLite
    /// says "unable to open database file" or "attempt to write a readonly database" for a read-only
    /// directory as for a damaged file, and only the damaged file is to be moved aside.
    /// </summary>
    private static string? NotWritable(string dataDirectory, string path)
    {
        (string Subject, string Target)[] checks = [($"the data directory {dataDirectory}", dataDirectory), ($"the database {path}", path)];
        foreach (var (subject, target) in checks)
        {
            if ((target == path && !File.Exists(path)) || access(target, WriteOk) == 0)
            {
                continue;
            }
            int errno = Marshal.GetLastPInvokeError();
            string reason = errno switch
            {
                ErrorReadOnly => "it is on a read-only file system",
                ErrorAccess => $"permission denied for the user {Environment.UserName}",
                ErrorPermission => "the system forbids writing it (immutable, chattr +i, or a security policy)",
                _ => Marshal.GetPInvokeErrorMessage(errno),
            };
            return $"{subject} is not writable: {reason}. PortSentinel writes its database there, with the -wal and -shm files beside it: "
                + (errno == ErrorReadOnly
                    ? "make it writable (remount its file system read-write; for a service, e.g. systemd's StateDirectory= gives it a writable one)"
                    : $"make it writable for {Environment.UserName} (chown, chmod{(errno == ErrorPermission ? ", chattr -i" : "")})")
                + ", or choose another data directory with --data-dir.";
        }
        return null;
    }

    [LibraryImport("libc", EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int access(string path, int mode);
}
