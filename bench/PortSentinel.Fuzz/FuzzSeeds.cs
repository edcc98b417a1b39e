using System.Buffers.Binary;
using PortSentinel.Capture;
using PortSentinel.Decode;

namespace PortSentinel.Fuzz;

/// <summary>
/// The inputs fuzzing starts from, made from the repository: single frames and short captures cut
/// from tests/corpus, and the settings files in tests/fuzz/seeds/settings. The seed test runs the
/// same inputs, and every file in tests/fuzz/crashes/TARGET, through <see cref="FuzzTargets"/>.
/// </summary>
public static class FuzzSeeds
{
    // Enough records to reach past the handshake of most captures, few enough to keep a seed small.
    private const int RecordsPerCapture = 24;

    private const int PcapHeaderLength = 24;
    private const int PcapRecordHeaderLength = 16;

    /// <summary>Seeds for <paramref name="target"/>, by file name.</summary>
    public static IReadOnlyList<(string Name, byte[] Input)> For(string target, string repositoryRoot) => target switch
    {
        "decode" => Frames(repositoryRoot),
        "pcap" => Captures(repositoryRoot),
        "settings" => [.. Directory.GetFiles(Path.Combine(repositoryRoot, "tests", "fuzz", "seeds", "settings")).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))],
        _ => throw new ArgumentException($"unknown target {target}; use {string.Join(", ", FuzzTargets.Names)}", nameof(target)),
    };

    /// <summary>The regression inputs of a target: every file in tests/fuzz/crashes/TARGET but the README.</summary>
    public static IReadOnlyList<(string Name, byte[] Input)> Crashes(string target, string repositoryRoot)
    {
        string directory = Path.Combine(repositoryRoot, "tests", "fuzz", "crashes", target);
        return !Directory.Exists(directory)
            ? []
            : [.. Directory.GetFiles(directory).Where(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith(".md", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))];
    }

    private static IEnumerable<string> CorpusFiles(string repositoryRoot) =>
        Directory.GetFiles(Path.Combine(repositoryRoot, "tests", "corpus"))
            .Where(f => f.EndsWith(".pcap", StringComparison.Ordinal) || f.EndsWith(".pcapng", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// One frame for each shape the corpus holds (link type, decode result, protocol, TCP flags and
    /// options, ICMP type and embedded header), and the first IP packet of each IP version and
    /// protocol also framed in every other link type.
    /// </summary>
    private static List<(string Name, byte[] Input)> Frames(string repositoryRoot)
    {
        var collector = new ShapeCollector();
        foreach (string path in CorpusFiles(repositoryRoot))
        {
            using PcapFile file = PcapFile.Open(path);
            collector.Link = file.LinkType;
            collector.File = Path.GetFileNameWithoutExtension(path);
            file.ReadAll(collector);
        }
        var seeds = new List<(string, byte[])>();
        var reframed = new HashSet<(NetworkProtocol, byte)>();
        foreach ((string name, LinkType link, int wire, byte[] frame, byte protocol) in collector.Frames)
        {
            seeds.Add(($"{name}.bin", FuzzTargets.DecodeInput(link, wire, frame)));
            if (LinkLayer.Decode(frame, link, out int header, out NetworkProtocol network) != DecodeEvent.Ok || !reframed.Add((network, protocol)))
            {
                continue;
            }
            byte[] ip = frame[header..];
            foreach (LinkType other in FuzzTargets.LinkTypes)
            {
                if (other != link && Reframe(ip, network, other) is { } framed)
                {
                    seeds.Add(($"{name}-as-{other}.bin", FuzzTargets.DecodeInput(other, wire - header + (framed.Length - ip.Length), framed)));
                }
            }
        }
        return seeds;
    }

    /// <summary>An IP packet behind the link header of <paramref name="link"/> (pcap-linktype(7)); null when that link cannot carry it.</summary>
    private static byte[]? Reframe(byte[] ip, NetworkProtocol network, LinkType link)
    {
        ushort etherType = network == NetworkProtocol.Ipv6 ? (ushort)0x86DD : (ushort)0x0800;
        uint family = network == NetworkProtocol.Ipv6 ? 24u : 2u;
        byte[] header;
        switch (link)
        {
            case LinkType.Ethernet:
                header = new byte[14];
                BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(12), etherType);
                break;
            case LinkType.LinuxSll:
                header = new byte[16];
                BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), etherType);
                break;
            case LinkType.LinuxSll2:
                header = new byte[20];
                BinaryPrimitives.WriteUInt16BigEndian(header, etherType);
                break;
            case LinkType.Null:
                header = new byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(header, family);
                break;
            case LinkType.Loop:
                header = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(header, family);
                break;
            case LinkType.Raw or LinkType.RawDlt or LinkType.RawDltBsd:
                header = [];
                break;
            case LinkType.Ipv4 when network == NetworkProtocol.Ipv4:
            case LinkType.Ipv6 when network == NetworkProtocol.Ipv6:
                header = [];
                break;
            default:
                return null;
        }
        return [.. header, .. ip];
    }

    /// <summary>Each corpus capture, classic pcap cut after its first records (libpcap reads a cut file to its end); pcapng whole.</summary>
    private static List<(string Name, byte[] Input)> Captures(string repositoryRoot)
    {
        var seeds = new List<(string, byte[])>();
        foreach (string path in CorpusFiles(repositoryRoot))
        {
            byte[] bytes = File.ReadAllBytes(path);
            seeds.Add((Path.GetFileName(path), path.EndsWith(".pcap", StringComparison.Ordinal) ? FirstRecords(bytes) : bytes));
        }
        return seeds;
    }

    private static byte[] FirstRecords(byte[] pcap)
    {
        bool swapped = BinaryPrimitives.ReadUInt32LittleEndian(pcap) is not (0xA1B2C3D4 or 0xA1B23C4D);
        int at = PcapHeaderLength;
        for (int i = 0; i < RecordsPerCapture && at + PcapRecordHeaderLength <= pcap.Length; i++)
        {
            uint captured = swapped
                ? BinaryPrimitives.ReadUInt32BigEndian(pcap.AsSpan(at + 8))
                : BinaryPrimitives.ReadUInt32LittleEndian(pcap.AsSpan(at + 8));
            at = (int)Math.Min(pcap.Length, at + PcapRecordHeaderLength + captured);
        }
        return pcap[..at];
    }

    private sealed class ShapeCollector : IFrameSink
    {
        private readonly HashSet<string> _shapes = [];

        public LinkType Link { get; set; }

        public string File { get; set; } = "";

        public List<(string Name, LinkType Link, int Wire, byte[] Frame, byte Protocol)> Frames { get; } = [];

        public void OnFrame(long timestamp, int wireLength, ReadOnlySpan<byte> frame)
        {
            var packet = new Packet { WireLength = wireLength };
            DecodeEvent result = PacketDecoder.Decode(frame, Link, ref packet);
            // An IP-protocol scan tries all 256 numbers: the decoder reads five, the rest are one shape.
            byte protocol = packet.Protocol is IpProtocol.Icmp or IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Ipv6Icmp or IpProtocol.Sctp ? packet.Protocol : (byte)255;
            string shape = $"{Link}-{result.Name()}-v{packet.IpVersion}-p{protocol}-f{(int)packet.TcpFlags}-o{(int)packet.TcpOptions}-i{packet.IcmpType}.{packet.IcmpCode}-e{packet.EmbeddedProtocol}-x{(packet.IsFragment ? 1 : 0)}";
            if (_shapes.Add(shape))
            {
                Frames.Add(($"{File}-{Frames.Count:D3}", Link, wireLength, frame.ToArray(), protocol));
            }
        }
    }
}
