using PortSentinel.Analysis;
using PortSentinel.Capture;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Synthetic;
using static PortSentinel.Tests.Decode.FrameBuilder;

namespace PortSentinel.Tests.Capture;

/// <summary>
/// The same SYN scan written as savefiles of every link type the decoder reads, read back through
/// libpcap (which maps LINKTYPE_ numbers to DLT_ ones, e.g. raw IP 101 to 12), and analysed.
/// </summary>
public class LinkTypeTests
{
    public static TheoryData<LinkType> LinkTypes() =>
        [LinkType.Ethernet, LinkType.Raw, LinkType.Null, LinkType.Loop, LinkType.LinuxSll, LinkType.LinuxSll2];

    [Theory]
    [MemberData(nameof(LinkTypes))]
    public void A_scan_is_found_whatever_the_link_type(LinkType link)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ps-link-{link}-{Guid.NewGuid():N}.pcap");
        try
        {
            using (var writer = new PcapWriter(path, linkType: link))
            {
                long time = 1_700_000_000_000_000;
                for (ushort port = 1; port <= 50; port++)
                {
                    writer.Write(time++, Frame(link, Ipv4("192.0.2.1", "192.0.2.2", Tcp(40000, port, TcpFlags.Syn))));
                    writer.Write(time++, Frame(link, Ipv4("192.0.2.2", "192.0.2.1", Tcp(port, 40000, TcpFlags.Rst | TcpFlags.Ack))));
                    writer.Write(time++, Frame(link, Ipv6("2001:db8::1", "2001:db8::2", Tcp(40000, port, TcpFlags.Fin))));
                }
            }
            using (PcapFile file = PcapFile.Open(path))
            {
                Assert.True(file.LinkType == link || (link == LinkType.Raw && file.LinkType == LinkType.RawDlt), $"libpcap reports {file.LinkType}");
            }
            AnalysisResult result = OfflineAnalysis.Run([path], new DetectorOptions());
            Assert.Equal(150, result.Packets);
            Assert.Equal(0, result.Malformed);
            Assert.Equal(2, result.Detections.Count);
            Assert.Contains(result.Detections, d => d.Source == NetAddress.Parse("192.0.2.1") && d.Kinds == (ScanKinds.TcpSyn | ScanKinds.Vertical) && d.Ports == 50);
            Assert.Contains(result.Detections, d => d.Source == NetAddress.Parse("2001:db8::1") && d.Kinds == (ScanKinds.TcpFin | ScanKinds.Vertical) && d.Ports == 50);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] Frame(LinkType link, byte[] ip) => link switch
    {
        LinkType.Ethernet => Ethernet(ip),
        LinkType.Raw => ip,
        LinkType.Null => Null(ip),
        LinkType.Loop => Loop(ip),
        LinkType.LinuxSll => LinuxSll(ip),
        LinkType.LinuxSll2 => LinuxSll2(ip),
        _ => throw new ArgumentOutOfRangeException(nameof(link)),
    };
}
