using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Tests.Detect;

/// <summary>Feeds hand-made packets to a detector on a clock the test controls, and records what it says.</summary>
internal sealed class DetectorHarness : IDetectionSink
{
    public const long Ms = 1000;
    public const long Second = 1_000_000;

    public DetectorHarness(DetectorOptions? options = null)
    {
        Options = options ?? new DetectorOptions();
        Detector = new Detector(Options, this);
    }

    public DetectorOptions Options { get; }

    public Detector Detector { get; }

    /// <summary>Packet time, microseconds; starts at an arbitrary epoch and only moves forward.</summary>
    public long Now { get; set; } = 1_700_000_000L * Second;

    public List<Detection> Raised { get; } = [];

    public List<Detection> Closed { get; } = [];

    /// <summary>Scans raised unverified whose sources were then verified (<see cref="IDetectionSink.Verified"/>).</summary>
    public List<Detection> Verified { get; } = [];

    /// <summary>Sources announced (<see cref="IDetectionSink.Raising"/>) and raised, in the order the sink was told.</summary>
    public List<(string Call, NetAddress Source)> Calls { get; } = [];

    void IDetectionSink.Raising(NetAddress source) => Calls.Add(("raising", source));

    void IDetectionSink.Raised(Detection detection)
    {
        Calls.Add(("raised", detection.Source));
        Raised.Add(detection);
    }

    void IDetectionSink.Closed(Detection detection) => Closed.Add(detection);

    void IDetectionSink.Verified(Detection detection) => Verified.Add(detection);

    public void Advance(long micros) => Now += micros;

    public void Feed(Packet packet)
    {
        packet.Timestamp = Now;
        Detector.Process(packet);
    }

    public IReadOnlyList<Detection> Finish()
    {
        Detector.Flush();
        return Closed;
    }

    public static NetAddress A(string text) => NetAddress.Parse(text);

    public static Packet Tcp(string src, ushort sport, string dst, ushort dport, TcpFlags flags, int payload = 0, TcpOptionKinds options = TcpOptionKinds.Mss) =>
        Tcp(A(src), sport, A(dst), dport, flags, payload, options);

    public static Packet Tcp(NetAddress src, ushort sport, NetAddress dst, ushort dport, TcpFlags flags, int payload = 0, TcpOptionKinds options = TcpOptionKinds.Mss) => new()
    {
        IpVersion = src.IsV4 ? (byte)4 : (byte)6,
        Source = src,
        Destination = dst,
        Ttl = 64,
        Protocol = IpProtocol.Tcp,
        HasTransport = true,
        SourcePort = sport,
        DestinationPort = dport,
        TcpFlags = flags,
        TcpOptions = options,
        PayloadLength = payload,
    };

    public static Packet Udp(NetAddress src, ushort sport, NetAddress dst, ushort dport, byte ttl = 64) => new()
    {
        IpVersion = src.IsV4 ? (byte)4 : (byte)6,
        Source = src,
        Destination = dst,
        Ttl = ttl,
        Protocol = IpProtocol.Udp,
        HasTransport = true,
        SourcePort = sport,
        DestinationPort = dport,
        PayloadLength = 8,
    };

    public static Packet Icmp(NetAddress src, NetAddress dst, byte type, byte code = 0) => new()
    {
        IpVersion = src.IsV4 ? (byte)4 : (byte)6,
        Source = src,
        Destination = dst,
        Ttl = 64,
        Protocol = src.IsV4 ? IpProtocol.Icmp : IpProtocol.Ipv6Icmp,
        HasTransport = true,
        IcmpType = type,
        IcmpCode = code,
    };

    /// <summary>An ICMP(v6) port unreachable from <paramref name="target"/> quoting a UDP probe.</summary>
    public static Packet PortUnreachable(NetAddress target, NetAddress prober, ushort proberPort, ushort probedPort)
    {
        Packet p = Icmp(target, prober, target.IsV4 ? (byte)3 : (byte)1, target.IsV4 ? (byte)3 : (byte)4);
        p.HasEmbedded = true;
        p.EmbeddedHasPorts = true;
        p.EmbeddedProtocol = IpProtocol.Udp;
        p.EmbeddedSource = prober;
        p.EmbeddedDestination = target;
        p.EmbeddedSourcePort = proberPort;
        p.EmbeddedDestinationPort = probedPort;
        return p;
    }

    public static Packet Protocol(NetAddress src, NetAddress dst, byte protocol) => new()
    {
        IpVersion = 4,
        Source = src,
        Destination = dst,
        Ttl = 64,
        Protocol = protocol,
    };

    /// <summary>A raw SYN to a closed port, answered by RST/ACK.</summary>
    public void SynToClosed(NetAddress scanner, NetAddress target, ushort port, ushort sport = 40000)
    {
        Feed(Tcp(scanner, sport, target, port, TcpFlags.Syn));
        Advance(100);
        Feed(Tcp(target, port, scanner, sport, TcpFlags.Rst | TcpFlags.Ack));
        Advance(100);
    }

    /// <summary>A full client connection with a request and a response, closed politely.</summary>
    public void Connection(NetAddress client, ushort sport, NetAddress server, ushort port)
    {
        const TcpOptionKinds stack = TcpOptionKinds.Mss | TcpOptionKinds.SackPermitted | TcpOptionKinds.Timestamp | TcpOptionKinds.WindowScale;
        Feed(Tcp(client, sport, server, port, TcpFlags.Syn, options: stack));
        Feed(Tcp(server, port, client, sport, TcpFlags.Syn | TcpFlags.Ack, options: stack));
        Feed(Tcp(client, sport, server, port, TcpFlags.Ack));
        Feed(Tcp(client, sport, server, port, TcpFlags.Ack | TcpFlags.Psh, payload: 120));
        Feed(Tcp(server, port, client, sport, TcpFlags.Ack | TcpFlags.Psh, payload: 900));
        Feed(Tcp(client, sport, server, port, TcpFlags.Ack | TcpFlags.Fin));
        Feed(Tcp(server, port, client, sport, TcpFlags.Ack | TcpFlags.Fin));
        Feed(Tcp(client, sport, server, port, TcpFlags.Ack));
        Advance(10 * Ms);
    }
}
