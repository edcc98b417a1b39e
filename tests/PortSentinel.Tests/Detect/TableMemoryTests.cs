using PortSentinel.Detect;

namespace PortSentinel.Tests.Detect;

/// <summary>
/// The detector's tables take memory in proportion to Detection:SourceCapacity and FlowCapacity;
/// the estimate the validation uses matches what a detector really allocates, and a capacity whose
/// tables would not fit in the share of memory allowed is refused before anything is allocated.
/// </summary>
public sealed class TableMemoryTests
{
    [Theory]
    [InlineData(4096, 16384)]
    [InlineData(65536, 262144)]
    public void The_estimate_matches_what_a_detector_allocates(int sources, int flows)
    {
        var options = new DetectorOptions { SourceCapacity = sources, FlowCapacity = flows };
        var sink = new NoSink();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var detector = new Detector(options, sink);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(detector);
        long estimate = Detector.TableBytes(options);
        Assert.InRange(allocated, estimate * 0.9, estimate * 1.1);
    }

    [Fact]
    public void A_capacity_whose_tables_exceed_half_the_memory_is_refused_with_the_size_and_the_most_allowed()
    {
        var options = new DetectorOptions { SourceCapacity = 1 << 30 };
        string error = Assert.Single(options.Validate(), e => e.Contains("Detection:SourceCapacity", StringComparison.Ordinal));
        Assert.StartsWith("Detection:SourceCapacity is 1073741824: the detector's tables would take ", error, StringComparison.Ordinal);
        Assert.Contains("GiB", error, StringComparison.Ordinal);
        Assert.Contains("half of the", error, StringComparison.Ordinal);
        Assert.Matches(@"the most Detection:SourceCapacity can be is \d+", error);

        // The detector refuses it too, before allocating its tables.
        var sink = new NoSink();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<ArgumentException>(() => new Detector(options, sink));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < (64 << 20), "the detector allocated before refusing");
    }

    [Fact]
    public void The_most_allowed_is_accepted_and_twice_it_is_not()
    {
        var options = new DetectorOptions();
        int most = DetectorOptions.MostSources(options.FlowCapacity, tables: 1);
        Assert.True(most >= options.SourceCapacity, $"the default {options.SourceCapacity} sources do not fit: {most}");
        Assert.DoesNotContain(new DetectorOptions { SourceCapacity = most }.Validate(), e => e.Contains("SourceCapacity", StringComparison.Ordinal));
        if (most < (1 << 30))
        {
            Assert.Contains(new DetectorOptions { SourceCapacity = most * 2 }.Validate(), e => e.Contains("SourceCapacity", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_flow_capacity_past_what_the_flow_table_can_address_is_refused()
    {
        string error = Assert.Single(new DetectorOptions { FlowCapacity = 1 << 29 }.Validate(), e => e.Contains("Detection:FlowCapacity", StringComparison.Ordinal));
        Assert.Contains("Detection:FlowCapacity is 536870912", error, StringComparison.Ordinal);
        Assert.Contains("67108864", error, StringComparison.Ordinal);
    }

    private sealed class NoSink : IDetectionSink
    {
        public void Raised(Detection detection)
        {
        }

        public void Closed(Detection detection)
        {
        }
    }
}
