using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using PortSentinel.Decode;

namespace PortSentinel.Respond.Nftables;

/// <summary>
/// Adds one address to a set by speaking nf_tables' netlink directly: one batch (begin, a new
/// element, end) and its acknowledgement. libnftables parses a command and first fetches what the
/// kernel holds (tables, sets) to check it, several round trips that made a ban take 0.6–1.8 ms
/// under a scan; this takes one (docs/performance.md). Anything but plain success is left to the
/// caller, who goes the libnftables way for nft's own account of what is wrong.
/// The socket belongs to the network namespace of the thread that makes the first call.
/// </summary>
internal sealed partial class NftNetlink : IDisposable
{
    // linux/netlink.h, linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h
    private const int AfNetlink = 16;
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int NetlinkNetfilter = 12;
    private const int SolSocket = 1;
    private const int SoRcvTimeo = 20;
    private const ushort NlmFRequest = 0x1;
    private const ushort NlmFAck = 0x4;
    private const ushort NlmFExcl = 0x200;
    private const ushort NlmFCreate = 0x400;
    private const ushort NlmsgError = 2;
    private const ushort NfnlMsgBatchBegin = 0x10;
    private const ushort NfnlMsgBatchEnd = 0x11;
    private const byte NfnlSubsysNftables = 10;
    private const ushort NftMsgNewSetElem = (NfnlSubsysNftables << 8) | 12;
    private const byte NfprotoInet = 1;
    private const ushort NlaFNested = 0x8000;
    private const ushort NftaSetElemListTable = 1;
    private const ushort NftaSetElemListSet = 2;
    private const ushort NftaSetElemListElements = 3;
    private const ushort NftaListElem = 1;
    private const ushort NftaSetElemKey = 1;
    private const ushort NftaSetElemTimeout = 4;
    private const ushort NftaDataValue = 1;

    /// <summary>EEXIST: <see cref="Create"/>'s answer when the element is there already.</summary>
    public const int AlreadyThere = 17;

    private readonly byte[] _message = new byte[512];
    private readonly byte[] _answer = new byte[8192];
    private int _socket = -1;
    private uint _sequence;

    /// <summary>
    /// Creates <paramref name="address"/> in <c>inet TABLE SET</c>, for <paramref name="timeout"/>
    /// (null: until deleted); 0 when done, else the errno the kernel answered (<see cref="AlreadyThere"/> when it is there already).
    /// </summary>
    public int Create(string table, string set, NetAddress address, TimeSpan? timeout)
    {
        if (_socket < 0 && Open() is var problem and not 0)
        {
            return problem;
        }
        uint element = Compose(table, set, address, timeout, out int length);
        uint begin = element - 1;
        uint end = element + 1;
        if (Send(_socket, _message, length, 0) != length)
        {
            return Marshal.GetLastPInvokeError();
        }
        while (true)
        {
            nint received = Receive(_socket, _answer, _answer.Length, 0);
            if (received < 0)
            {
                return Marshal.GetLastPInvokeError();
            }
            for (int at = 0; at + 16 <= received;)
            {
                int size = Read<int>(at);
                ushort type = Read<ushort>(at + 4);
                uint sequence = Read<uint>(at + 8);
                // An acknowledgement (error 0) or an error: the negated errno, then the header it answers.
                // Only the element asked for one; an error may answer any message of the batch
                // (EPERM answers its beginning), and answers to earlier calls are passed over.
                if (type == NlmsgError && size >= 20 && sequence >= begin && sequence <= end)
                {
                    int error = -Read<int>(at + 16);
                    if (error != 0 || sequence == element)
                    {
                        return error;
                    }
                }
                if (size < 16)
                {
                    break;
                }
                at += Align(size);
            }
        }
    }

    private T Read<T>(int at) where T : struct => MemoryMarshal.Read<T>(_answer.AsSpan(at));

    private int Open()
    {
        int socket = Socket(AfNetlink, SockRaw | SockCloexec, NetlinkNetfilter);
        if (socket < 0)
        {
            return Marshal.GetLastPInvokeError();
        }
        Span<long> second = [1, 0]; // struct timeval: an answer not come within a second is an error (EAGAIN)
        if (SetOption(socket, SolSocket, SoRcvTimeo, ref MemoryMarshal.GetReference(MemoryMarshal.AsBytes(second)), 16) != 0)
        {
            int error = Marshal.GetLastPInvokeError();
            Close(socket);
            return error;
        }
        _socket = socket;
        return 0;
    }

    /// <summary>Writes the batch into the message buffer; the sequence number of the element's message.</summary>
    private uint Compose(string table, string set, NetAddress address, TimeSpan? timeout, out int length)
    {
        Span<byte> m = _message;
        m.Clear();
        uint begin = ++_sequence;
        uint element = ++_sequence;
        uint end = ++_sequence;
        int at = Header(m, 0, NfnlMsgBatchBegin, NlmFRequest, begin, family: 0, resource: NfnlSubsysNftables);
        at = Finish(m, 0, at);

        int start = at;
        at = Header(m, at, NftMsgNewSetElem, NlmFRequest | NlmFCreate | NlmFExcl | NlmFAck, element, NfprotoInet, resource: 0);
        at = Text(m, at, NftaSetElemListTable, table);
        at = Text(m, at, NftaSetElemListSet, set);
        int elements = Nest(m, ref at, NftaSetElemListElements);
        int item = Nest(m, ref at, NftaListElem);
        int key = Nest(m, ref at, NftaSetElemKey);
        Span<byte> value = stackalloc byte[16];
        if (address.IsV4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(value, address.V4);
            value = value[..4];
        }
        else
        {
            BinaryPrimitives.WriteUInt64BigEndian(value, address.High);
            BinaryPrimitives.WriteUInt64BigEndian(value[8..], address.Low);
        }
        at = Attribute(m, at, NftaDataValue, value);
        End(m, key, at);
        if (timeout is { } t)
        {
            Span<byte> milliseconds = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(milliseconds, (ulong)Math.Max(1, (long)t.TotalMilliseconds));
            at = Attribute(m, at, NftaSetElemTimeout, milliseconds);
        }
        End(m, item, at);
        End(m, elements, at);
        at = Finish(m, start, at);

        int last = at;
        at = Header(m, at, NfnlMsgBatchEnd, NlmFRequest, end, family: 0, resource: NfnlSubsysNftables);
        length = Finish(m, last, at);
        return element;
    }

    /// <summary>struct nlmsghdr (host order; its length filled in by <see cref="Finish"/>) and struct nfgenmsg.</summary>
    private static int Header(Span<byte> m, int at, ushort type, ushort flags, uint sequence, byte family, ushort resource)
    {
        MemoryMarshal.Write(m[(at + 4)..], in type);
        MemoryMarshal.Write(m[(at + 6)..], in flags);
        MemoryMarshal.Write(m[(at + 8)..], in sequence);
        m[at + 16] = family; // nfgen_family; version 0 (NFNETLINK_V0)
        BinaryPrimitives.WriteUInt16BigEndian(m[(at + 18)..], resource);
        return at + 20;
    }

    private static int Finish(Span<byte> m, int start, int at)
    {
        MemoryMarshal.Write(m[start..], (uint)(at - start));
        return Align(at);
    }

    private static int Attribute(Span<byte> m, int at, ushort type, ReadOnlySpan<byte> payload)
    {
        MemoryMarshal.Write(m[at..], (ushort)(4 + payload.Length));
        MemoryMarshal.Write(m[(at + 2)..], in type);
        payload.CopyTo(m[(at + 4)..]);
        return Align(at + 4 + payload.Length);
    }

    private static int Text(Span<byte> m, int at, ushort type, string text)
    {
        Span<byte> bytes = stackalloc byte[Encoding.ASCII.GetByteCount(text) + 1];
        Encoding.ASCII.GetBytes(text, bytes);
        return Attribute(m, at, type, bytes); // NUL-terminated
    }

    private static int Nest(Span<byte> m, ref int at, ushort type)
    {
        int start = at;
        MemoryMarshal.Write(m[(at + 2)..], (ushort)(type | NlaFNested));
        at += 4;
        return start;
    }

    private static void End(Span<byte> m, int start, int at) => MemoryMarshal.Write(m[start..], (ushort)(at - start));

    private static int Align(int length) => (length + 3) & ~3;

    public void Dispose()
    {
        if (_socket >= 0)
        {
            Close(_socket);
            _socket = -1;
        }
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetOption(int socket, int level, int name, ref byte value, int length);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint Send(int socket, byte[] buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Receive(int socket, byte[] buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial void Close(int socket); // its result tells nothing to act on: the descriptor is gone either way
}
