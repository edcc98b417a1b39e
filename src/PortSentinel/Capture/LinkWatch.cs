using System.Buffers.Binary;
using System.Text;
using PortSentinel.Capture.Native;

namespace PortSentinel.Capture;

/// <summary>One of the host's network interfaces as the kernel reports it (struct ifinfomsg and IFLA_IFNAME).</summary>
/// <param name="Up">IFF_UP: the administrator brought it up. The carrier may still be coming (a new veth's lags up to a second), but it can be captured on already.</param>
public readonly record struct Link(int Index, string Name, bool Up, bool Loopback);

/// <summary>
/// The host's interfaces, read and followed through rtnetlink: <see cref="Links"/> asks the kernel
/// for all of them (RTM_GETLINK dump), <see cref="WaitForChange"/> returns as soon as one appears,
/// changes or goes away (RTM_NEWLINK/RTM_DELLINK on RTMGRP_LINK). Both answer for the network
/// namespace the watch was opened in. One owner at a time (the thread that follows the host).
/// </summary>
public sealed class LinkWatch : IDisposable
{
    // From linux/netlink.h and linux/rtnetlink.h.
    private const ushort MessageError = 2; // NLMSG_ERROR
    private const ushort MessageDone = 3; // NLMSG_DONE
    private const ushort NewLink = 16; // RTM_NEWLINK
    private const ushort GetLink = 18; // RTM_GETLINK
    private const ushort Request = 0x1; // NLM_F_REQUEST
    private const ushort Dump = 0x300; // NLM_F_ROOT | NLM_F_MATCH
    private const ushort DumpInterrupted = 0x10; // NLM_F_DUMP_INTR: the list changed while it was read
    private const ushort InterfaceName = 3; // IFLA_IFNAME
    private const uint FlagUp = 0x1; // IFF_UP
    private const uint FlagLoopback = 0x8; // IFF_LOOPBACK
    private const int HeaderSize = 16; // struct nlmsghdr
    private const int InfoSize = 16; // struct ifinfomsg

    private readonly Netlink _events;
    private readonly Netlink _requests;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private uint _sequence;

    private LinkWatch(Netlink events, Netlink requests)
    {
        _events = events;
        _requests = requests;
    }

    /// <summary>Starts following the interfaces of the calling thread's network namespace.</summary>
    public static LinkWatch Open()
    {
        Netlink events = Netlink.Open(Netlink.LinkGroup);
        try
        {
            return new LinkWatch(events, Netlink.Open(groups: 0));
        }
        catch
        {
            events.Dispose();
            throw;
        }
    }

    /// <summary>The interfaces up now, but loopback: where <c>run</c> captures first when none is named.</summary>
    public static string[] UpNow()
    {
        using LinkWatch watch = Open();
        return [.. watch.Links().Where(l => l.Up && !l.Loopback).Select(l => l.Name)];
    }

    /// <summary>Every interface now, in the kernel's order.</summary>
    public List<Link> Links()
    {
        Span<byte> request = stackalloc byte[HeaderSize + InfoSize];
        while (true)
        {
            uint sequence = ++_sequence;
            request.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(request[4..], GetLink);
            BinaryPrimitives.WriteUInt16LittleEndian(request[6..], Request | Dump);
            BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence);
            _requests.Send(request);
            var links = new List<Link>();
            bool interrupted = false;
            while (true)
            {
                int length = _requests.Receive(_buffer, wait: true);
                if (length < 0)
                {
                    interrupted = true; // overrun: ask again
                    continue;
                }
                if (Parse(_buffer.AsSpan(0, length), sequence, links, ref interrupted))
                {
                    break;
                }
            }
            if (!interrupted)
            {
                return links;
            }
        }
    }

    /// <summary>
    /// Waits at most <paramref name="timeout"/> for the kernel to report a change to any interface;
    /// whether one came. What the change was is read afresh with <see cref="Links"/>.
    /// </summary>
    public bool WaitForChange(TimeSpan timeout)
    {
        if (!_events.Wait((int)timeout.TotalMilliseconds))
        {
            return false;
        }
        while (_events.Receive(_buffer, wait: false) != 0)
        {
            // Drained: a burst of changes is read once. An overrun (-1) also means "read afresh".
        }
        return true;
    }

    public void Dispose()
    {
        _events.Dispose();
        _requests.Dispose();
    }

    // One datagram of the dump's answer; true at its end (NLMSG_DONE).
    private static bool Parse(ReadOnlySpan<byte> datagram, uint sequence, List<Link> links, ref bool interrupted)
    {
        while (datagram.Length >= HeaderSize)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            if (length < HeaderSize || length > datagram.Length)
            {
                throw new CaptureException($"rtnetlink sent a malformed message ({length} bytes of {datagram.Length})");
            }
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(datagram[6..]);
            uint seq = BinaryPrimitives.ReadUInt32LittleEndian(datagram[8..]);
            ReadOnlySpan<byte> body = datagram[HeaderSize..length];
            datagram = datagram[Math.Min(Align(length), datagram.Length)..];
            if (seq != sequence)
            {
                continue; // the answer to an earlier request that was given up
            }
            interrupted |= (flags & DumpInterrupted) != 0;
            switch (type)
            {
                case MessageDone:
                    return true;
                case MessageError:
                    int error = body.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(body) : 0;
                    throw new CaptureException($"rtnetlink refused to list the interfaces: errno {-error}");
                case NewLink when body.Length >= InfoSize:
                    links.Add(ParseLink(body));
                    break;
            }
        }
        return false;
    }

    private static Link ParseLink(ReadOnlySpan<byte> body)
    {
        int index = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(body[8..]);
        string name = $"if{index}";
        ReadOnlySpan<byte> attributes = body[InfoSize..];
        while (attributes.Length >= 4)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]);
            if (length < 4 || length > attributes.Length)
            {
                break;
            }
            if (type == InterfaceName)
            {
                ReadOnlySpan<byte> value = attributes[4..length];
                int end = value.IndexOf((byte)0);
                name = Encoding.UTF8.GetString(end < 0 ? value : value[..end]);
            }
            attributes = attributes[Math.Min(Align(length), attributes.Length)..];
        }
        return new Link(index, name, (flags & FlagUp) != 0, (flags & FlagLoopback) != 0);
    }

    private static int Align(int length) => (length + 3) & ~3;
}
