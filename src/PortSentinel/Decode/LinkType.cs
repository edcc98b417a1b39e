namespace PortSentinel.Decode;

/// <summary>Link-layer header types, with libpcap's DLT/LINKTYPE numbers (pcap-linktype(7)).</summary>
public enum LinkType
{
    /// <summary>BSD loopback: a 4-byte protocol family in the capturing host's byte order.</summary>
    Null = 0,
    Ethernet = 1,
    /// <summary>DLT_RAW as libpcap reports it on Linux; the packet starts with the IP header.</summary>
    RawDlt = 12,
    /// <summary>DLT_RAW on some BSDs.</summary>
    RawDltBsd = 14,
    /// <summary>LINKTYPE_RAW as written in savefiles.</summary>
    Raw = 101,
    /// <summary>OpenBSD loopback: like <see cref="Null"/> but the family is in network order.</summary>
    Loop = 108,
    /// <summary>Linux cooked capture v1 (any device), 16-byte header.</summary>
    LinuxSll = 113,
    Ipv4 = 228,
    Ipv6 = 229,
    /// <summary>Linux cooked capture v2, 20-byte header.</summary>
    LinuxSll2 = 276,
}
