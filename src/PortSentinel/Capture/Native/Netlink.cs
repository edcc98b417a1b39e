using System.Runtime.InteropServices;

namespace PortSentinel.Capture.Native;

/// <summary>
/// An rtnetlink socket (netlink(7), rtnetlink(7)) and the libc calls it needs, with the kernel's
/// names kept in comments. One owner at a time: the thread that watches the host's interfaces.
/// </summary>
internal sealed unsafe partial class Netlink : IDisposable
{
    private const int AfNetlink = 16;
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int NetlinkRoute = 0;
    private const int MsgDontWait = 0x40;
    private const short PollIn = 1;
    private const int Eintr = 4;
    private const int Eagain = 11;
    private const int Enobufs = 105;

    /// <summary>RTMGRP_LINK: the multicast group of link changes (RTM_NEWLINK, RTM_DELLINK).</summary>
    public const uint LinkGroup = 1;

    private readonly int _fd;

    private Netlink(int fd) => _fd = fd;

    /// <summary>A NETLINK_ROUTE socket, joined to <paramref name="groups"/> (0: none, for requests only).</summary>
    public static Netlink Open(uint groups)
    {
        int fd = socket(AfNetlink, SockRaw | SockCloexec, NetlinkRoute);
        if (fd < 0)
        {
            throw new CaptureException($"cannot open an rtnetlink socket to watch the interfaces: errno {Marshal.GetLastPInvokeError()}");
        }
        // struct sockaddr_nl: nl_family (u16), nl_pad (u16), nl_pid (u32, 0: the kernel assigns), nl_groups (u32).
        byte* address = stackalloc byte[12];
        new Span<byte>(address, 12).Clear();
        *(ushort*)address = AfNetlink;
        *(uint*)(address + 8) = groups;
        if (bind(fd, address, 12) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            _ = close(fd);
            throw new CaptureException($"cannot bind an rtnetlink socket to watch the interfaces: errno {errno}");
        }
        return new Netlink(fd);
    }

    /// <summary>Sends one request to the kernel.</summary>
    public void Send(ReadOnlySpan<byte> message)
    {
        fixed (byte* bytes = message)
        {
            if (send(_fd, bytes, (nuint)message.Length, 0) != message.Length)
            {
                throw new CaptureException($"rtnetlink request failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
    }

    /// <summary>
    /// Reads one datagram into <paramref name="buffer"/>: its length, 0 when nothing is waiting and
    /// <paramref name="wait"/> is false, or -1 when the kernel dropped messages for lack of room
    /// (ENOBUFS: what was missed must be read afresh).
    /// </summary>
    public int Receive(Span<byte> buffer, bool wait)
    {
        fixed (byte* bytes = buffer)
        {
            while (true)
            {
                nint n = recv(_fd, bytes, (nuint)buffer.Length, wait ? 0 : MsgDontWait);
                if (n >= 0)
                {
                    return (int)n;
                }
                int errno = Marshal.GetLastPInvokeError();
                switch (errno)
                {
                    case Eintr:
                        continue;
                    case Eagain:
                        return 0;
                    case Enobufs:
                        return -1;
                    default:
                        throw new CaptureException($"reading rtnetlink failed: errno {errno}");
                }
            }
        }
    }

    /// <summary>Whether a datagram is waiting, after waiting for one at most <paramref name="timeoutMilliseconds"/>.</summary>
    public bool Wait(int timeoutMilliseconds)
    {
        // struct pollfd: fd (int), events (short), revents (short).
        PollDescriptor descriptor = new() { Fd = _fd, Events = PollIn };
        int n = poll(&descriptor, 1, timeoutMilliseconds);
        return n > 0;
    }

    public void Dispose() => _ = close(_fd);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(int fd, byte* address, uint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(PollDescriptor* descriptors, nuint count, int timeout);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
