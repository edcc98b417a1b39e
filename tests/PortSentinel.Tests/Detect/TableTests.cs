using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Tests.Detect;

public class TableTests
{
    [Fact]
    public void A_flow_table_a_quarter_full_evicts_almost_nothing_because_every_set_is_used()
    {
        // Regression: the set index once came from the tag's low bits, whose bit 0 is always 1,
        // so only odd sets were used and a quarter-full table was really half full: with four
        // ways, ~75 evictions instead of ~5.
        var table = new FlowTable(4096);
        var responder = NetAddress.Parse("192.0.2.2");
        for (int i = 0; i < 1024; i++)
        {
            var initiator = NetAddress.FromV4(0xC633_6400u + (uint)(i >> 8)); // 198.51.100.x
            table.FindOrAdd(initiator, responder, (ushort)(i & 0xFF), IpProtocol.Tcp, i, out bool added);
            Assert.True(added);
        }
        Assert.True(table.Evicted < 25, $"{table.Evicted} evictions at a quarter load");
    }

    [Fact]
    public void The_settled_cache_never_holds_the_fingerprint_of_a_packet_it_cannot_hold()
    {
        // 0 means "always examine" and is also what an empty slot holds: it must not read as
        // settled in an empty cache, nor be stored over a real fingerprint.
        var cache = new SettledCache();
        Assert.False(cache.Contains(0));
        cache.Add(0);
        Assert.False(cache.Contains(0));

        var syn = new Packet
        {
            IpVersion = 4,
            Protocol = IpProtocol.Tcp,
            HasTransport = true,
            Source = NetAddress.Parse("198.51.100.1"),
            Destination = NetAddress.Parse("192.0.2.2"),
            SourcePort = 40000,
            DestinationPort = 80,
        };
        ulong fingerprint = SettledCache.Fingerprint(syn);
        Assert.NotEqual(0UL, fingerprint);
        Assert.False(cache.Contains(fingerprint));
        cache.Add(fingerprint);
        Assert.True(cache.Contains(fingerprint));
    }

    [Fact]
    public void A_source_table_half_full_evicts_almost_nothing()
    {
        var table = new SourceTable(4096, protectionMicros: 0);
        for (uint i = 0; i < 2048; i++)
        {
            table.FindOrAdd(NetAddress.FromV4(0xCB00_7100u + i), i, out bool added);
            Assert.True(added);
        }
        Assert.True(table.Evicted < 2048 / 50, $"{table.Evicted} evictions at half load");
    }

    [Fact]
    public void Hundreds_of_sources_scanning_one_host_together_are_all_distributed()
    {
        // Regression: correlation once compared every pair's 8 KB port bitmaps, quadratic in the
        // sources on a target; it now compares MinHash signatures with a bounded set of peers.
        var h = new DetectorHarness();
        var target = NetAddress.Parse("192.0.2.2");
        for (ushort port = 1; port <= 12; port++)
        {
            for (uint s = 0; s < 600; s++)
            {
                h.SynToClosed(NetAddress.FromV4(0xCB00_7100u + s), target, port);
            }
            h.Advance(DetectorHarness.Second);
        }
        var detections = h.Finish();
        Assert.Equal(600, detections.Count);
        Assert.All(detections, d => Assert.True((d.Kinds & ScanKinds.Distributed) != 0));
    }
}
