namespace PortSentinel.Decode;

/// <summary>IANA protocol numbers the detector tells apart.</summary>
public static class IpProtocol
{
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Ipv6Icmp = 58;
    public const byte Sctp = 132;
}

[Flags]
public enum TcpFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
    Ece = 0x40,
    Cwr = 0x80,
}

/// <summary>Which TCP options a segment carried (RFC 9293 §3.2, RFC 7323, RFC 2018).</summary>
[Flags]
public enum TcpOptionKinds : byte
{
    None = 0,
    Mss = 0x01,
    WindowScale = 0x02,
    SackPermitted = 0x04,
    Sack = 0x08,
    Timestamp = 0x10,
    Other = 0x80,
}

/// <summary>
/// One decoded packet: the fields detection needs, copied out of the frame so that nothing refers
/// back to capture memory. A single instance is reused for every packet of a capture (the decoder
/// overwrites every field), which is why this is a mutable struct passed by reference.
/// </summary>
public struct Packet
{
    /// <summary>Capture timestamp, microseconds since the Unix epoch.</summary>
    public long Timestamp;

    /// <summary>Length of the frame on the wire.</summary>
    public int WireLength;

    /// <summary>4 or 6; 0 when the frame carried no IP packet.</summary>
    public byte IpVersion;

    public NetAddress Source;
    public NetAddress Destination;

    /// <summary>IPv4 TTL or IPv6 hop limit.</summary>
    public byte Ttl;

    /// <summary>The transport protocol number (after IPv6 extension headers).</summary>
    public byte Protocol;

    /// <summary>True for any fragment (offset &gt; 0 or more-fragments set).</summary>
    public bool IsFragment;

    /// <summary>
    /// True when the transport header was decoded: not a non-first fragment, and the protocol is
    /// one of TCP, UDP, ICMP, ICMPv6 or SCTP.
    /// </summary>
    public bool HasTransport;

    public ushort SourcePort;
    public ushort DestinationPort;

    public TcpFlags TcpFlags;
    public ushort TcpWindow;
    public uint TcpSequence;
    public uint TcpAcknowledgment;
    public TcpOptionKinds TcpOptions;
    public ushort TcpMss;

    /// <summary>Transport payload length computed from the IP lengths (not what was captured).</summary>
    public int PayloadLength;

    /// <summary>ICMP or ICMPv6 type and code.</summary>
    public byte IcmpType;
    public byte IcmpCode;

    /// <summary>The type of the first SCTP chunk (1 = INIT).</summary>
    public byte SctpChunkType;

    /// <summary>
    /// True when an ICMP/ICMPv6 error carried the header of the packet that caused it, and that
    /// header decoded far enough to give addresses (and ports, when <see cref="EmbeddedHasPorts"/>).
    /// </summary>
    public bool HasEmbedded;
    public bool EmbeddedHasPorts;
    public byte EmbeddedProtocol;
    public NetAddress EmbeddedSource;
    public NetAddress EmbeddedDestination;
    public ushort EmbeddedSourcePort;
    public ushort EmbeddedDestinationPort;

    /// <summary>The type of an embedded ICMP/ICMPv6 header (an echo request that met an error).</summary>
    public byte EmbeddedIcmpType;
}
