using PortSentinel.Decode;

namespace PortSentinel.Synthetic;

// The benign sessions: TCP connections, DNS, ping and ARP.
public sealed partial class TrafficGenerator
{
    // ---- Benign sessions ---------------------------------------------------------------------

    private enum SessionKind : byte
    {
        Finished,
        Tcp,
        Dns,
        Ping,
        Arp,
    }

    private struct Session
    {
        public SessionKind Kind;
        public int Step;
        public NetAddress Client;
        public NetAddress Server;
        public ushort ClientPort;
        public ushort ServerPort;
        public uint ClientSequence;
        public uint ServerSequence;
        public uint ClientClock;
        public uint ServerClock;
        public int Request;
        public int Response;
        public int Segments;
        public int Unacknowledged;
        public ushort Identifier;
        public int Exchanges;
    }

    private int EmitSession(ref Session session, Span<byte> frame, out int wireLength)
    {
        if (session.Kind == SessionKind.Finished)
        {
            StartSession(ref session);
        }
        int captured = session.Kind switch
        {
            SessionKind.Tcp => TcpStep(ref session, frame, out wireLength),
            SessionKind.Dns => DnsStep(ref session, frame, out wireLength),
            SessionKind.Ping => PingStep(ref session, frame, out wireLength),
            _ => ArpStep(ref session, frame, out wireLength),
        };
        session.Step++;
        return captured;
    }

    private void StartSession(ref Session s)
    {
        int roll = _rng.Below(100);
        bool v6 = _rng.Below(100) < 15;
        s = default;
        s.Client = v6
            ? new NetAddress(ClientNet6, (ulong)_rng.Between(1, Ipv6ClientCount))
            : NetAddress.FromV4(ClientNet | (uint)_rng.Between(1, Ipv4ClientCount));
        s.ClientPort = (ushort)_rng.Between(32768, 60999); // Linux ip_local_port_range
        s.ClientClock = _rng.NextUInt32();
        s.ServerClock = _rng.NextUInt32();
        if (roll < 45)
        {
            s.Kind = SessionKind.Tcp;
            s.Server = RandomServer(v6);
            s.ServerPort = RandomService(s.Server);
            s.ClientSequence = _rng.NextUInt32();
            s.ServerSequence = _rng.NextUInt32();
            s.Request = _rng.Between(80, 700);
            s.Segments = _rng.Between(1, 12);
            s.Response = _rng.Between(100, MaxSegment(v6));
        }
        else if (roll < 83)
        {
            s.Kind = SessionKind.Dns;
            s.Server = v6 ? _resolver6 : _rng.Below(4) == 0 ? _resolver2 : _resolver1;
            s.ServerPort = Resolver;
            s.Identifier = (ushort)_rng.Below(1 << 16);
            s.Request = _rng.Between(20, 50);
            s.Response = s.Request + _rng.Between(16, 160);
        }
        else if (roll < 97)
        {
            s.Kind = SessionKind.Ping;
            s.Server = RandomServer(v6);
            s.Identifier = (ushort)_rng.Below(1 << 16);
            s.Exchanges = _rng.Between(1, 4);
        }
        else
        {
            s.Kind = SessionKind.Arp;
            s.Client = NetAddress.FromV4(ClientNet | (uint)_rng.Between(1, Ipv4ClientCount));
            s.Server = _gateway;
        }
    }

    private NetAddress RandomServer(bool v6) => v6
        ? new NetAddress(ServerNet6, (ulong)_rng.Between(1, Ipv6ServerCount))
        : Server(_rng.Between(1, Ipv4ServerCount));

    /// <summary>A service the server offers: mostly HTTPS, then HTTP, SSH and SMTP where they run.</summary>
    private ushort RandomService(in NetAddress server)
    {
        int roll = _rng.Below(100);
        ushort port = roll switch
        {
            < 70 => 443,
            < 90 => 80,
            < 97 => 22,
            _ => 25,
        };
        return TcpOpen(server, port) ? port : (ushort)443;
    }

    private int TcpStep(ref Session s, Span<byte> frame, out int wireLength)
    {
        const byte clientTtl = 64;
        const byte serverTtl = 57;
        bool v6 = !s.Client.IsV4;
        ushort id = NextIpId();
        switch (s.Step)
        {
            case 0:
                return FrameComposer.Tcp(frame, s.Client, s.Server, clientTtl, id, s.ClientPort, s.ServerPort,
                    s.ClientSequence++, 0, TcpFlags.Syn, 64240, TcpOptionSet.LinuxSyn, s.ClientClock++, 0, out wireLength);
            case 1:
                return FrameComposer.Tcp(frame, s.Server, s.Client, serverTtl, id, s.ServerPort, s.ClientPort,
                    s.ServerSequence++, s.ClientSequence, TcpFlags.Syn | TcpFlags.Ack, 65160, TcpOptionSet.LinuxSyn, s.ServerClock++, 0, out wireLength);
            case 2:
                return ClientSegment(ref s, frame, id, TcpFlags.Ack, 0, out wireLength);
            case 3:
                return ClientSegment(ref s, frame, id, TcpFlags.Psh | TcpFlags.Ack, s.Request, out wireLength);
            case 4:
                // The response, with the client's delayed ACK after every second segment (RFC 9293 §3.8.6.3).
                if (s.Segments > 0 && s.Unacknowledged < 2)
                {
                    s.Step--;
                    s.Segments--;
                    s.Unacknowledged++;
                    int payload = s.Segments == 0 ? s.Response : MaxSegment(v6);
                    TcpFlags flags = s.Segments == 0 ? TcpFlags.Psh | TcpFlags.Ack : TcpFlags.Ack;
                    return ServerSegment(ref s, frame, id, flags, payload, out wireLength);
                }
                if (s.Segments > 0)
                {
                    s.Step--;
                }
                s.Unacknowledged = 0;
                return ClientSegment(ref s, frame, id, TcpFlags.Ack, 0, out wireLength);
            case 5:
                return ClientSegment(ref s, frame, id, TcpFlags.Fin | TcpFlags.Ack, 0, out wireLength);
            case 6:
                return ServerSegment(ref s, frame, id, TcpFlags.Fin | TcpFlags.Ack, 0, out wireLength);
            default:
                s.Kind = SessionKind.Finished;
                return ClientSegment(ref s, frame, id, TcpFlags.Ack, 0, out wireLength);
        }
    }

    private static int ClientSegment(ref Session s, Span<byte> frame, ushort id, TcpFlags flags, int payload, out int wireLength)
    {
        uint sequence = s.ClientSequence;
        s.ClientSequence += (uint)payload + ((flags & TcpFlags.Fin) != 0 ? 1u : 0u);
        return FrameComposer.Tcp(frame, s.Client, s.Server, 64, id, s.ClientPort, s.ServerPort, sequence,
            s.ServerSequence, flags, 502, TcpOptionSet.Timestamps, s.ClientClock++, payload, out wireLength);
    }

    private static int ServerSegment(ref Session s, Span<byte> frame, ushort id, TcpFlags flags, int payload, out int wireLength)
    {
        uint sequence = s.ServerSequence;
        s.ServerSequence += (uint)payload + ((flags & TcpFlags.Fin) != 0 ? 1u : 0u);
        return FrameComposer.Tcp(frame, s.Server, s.Client, 57, id, s.ServerPort, s.ClientPort, sequence,
            s.ClientSequence, flags, 509, TcpOptionSet.Timestamps, s.ServerClock++, payload, out wireLength);
    }

    private int DnsStep(ref Session s, Span<byte> frame, out int wireLength)
    {
        ushort id = NextIpId();
        if (s.Step == 0)
        {
            return FrameComposer.Udp(frame, s.Client, s.Server, 64, id, s.ClientPort, Resolver, s.Request, out wireLength);
        }
        s.Kind = SessionKind.Finished;
        return FrameComposer.Udp(frame, s.Server, s.Client, 63, id, Resolver, s.ClientPort, s.Response, out wireLength);
    }

    private int PingStep(ref Session s, Span<byte> frame, out int wireLength)
    {
        ushort id = NextIpId();
        bool reply = (s.Step & 1) != 0;
        ushort sequence = (ushort)(s.Step / 2 + 1);
        if (reply && s.Step / 2 + 1 == s.Exchanges)
        {
            s.Kind = SessionKind.Finished;
        }
        // ping's default: 56 data bytes.
        return reply
            ? FrameComposer.Echo(frame, s.Server, s.Client, 57, id, reply: true, s.Identifier, sequence, 56, out wireLength)
            : FrameComposer.Echo(frame, s.Client, s.Server, 64, id, reply: false, s.Identifier, sequence, 56, out wireLength);
    }

    private int ArpStep(ref Session s, Span<byte> frame, out int wireLength)
    {
        _nonIp++;
        if (s.Step == 0)
        {
            return FrameComposer.Arp(frame, s.Client, s.Server, reply: false, out wireLength);
        }
        s.Kind = SessionKind.Finished;
        return FrameComposer.Arp(frame, s.Server, s.Client, reply: true, out wireLength);
    }
}
