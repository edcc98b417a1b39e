using System.Collections.Concurrent;
using PortSentinel.Capture;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Tests.Capture;

/// <summary>Live capture through libpcap, inside network namespaces of the test's own.</summary>
public class LiveCaptureTests
{
    private sealed class LiveSink : IDetectionSink, IDisposable
    {
        private readonly ManualResetEventSlim _raised = new();

        public ConcurrentQueue<Detection> Early { get; } = new();

        public void Raised(Detection detection)
        {
            Early.Enqueue(detection);
            _raised.Set();
        }

        public void Closed(Detection detection)
        {
        }

        public bool WaitRaised(TimeSpan limit) => _raised.Wait(limit);

        public void Dispose() => _raised.Dispose();
    }

    [NamespaceFact]
    public void A_syn_scan_is_detected_live_while_it_runs_and_the_kernel_drops_nothing()
    {
        using var pair = new NamespacePair();
        using var sink = new LiveSink();
        PcapLive? capture = null;
        Exception? failure = null;
        long frames = 0;
        using var ready = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            try
            {
                NamespacePair.Enter(pair.Target); // this thread only: network namespaces are per thread
                capture = PcapLive.Open(NamespacePair.TargetDevice, new LiveCaptureOptions());
                var processor = new CaptureProcessor(new Detector(new DetectorOptions(), sink), capture.LinkType);
                ready.Set();
                frames = capture.Run(processor);
            }
#pragma warning disable CA1031 // reported on the test thread below
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = e;
                ready.Set();
            }
        });
        thread.Start();
        try
        {
            Assert.True(ready.Wait(TimeSpan.FromSeconds(30)), "the capture did not start");
            Assert.Null(failure);
            var (exit, output) = NamespacePair.Exec(pair.Scanner, TimeSpan.FromSeconds(120),
                "nmap", "-n", "-Pn", "-sS", "-p", "1-200", "--max-retries", "1", "--host-timeout", "60s", NamespacePair.TargetAddress);
            Assert.True(exit == 0, output);
            Assert.True(sink.WaitRaised(TimeSpan.FromSeconds(10)), "no detection raised");
        }
        finally
        {
            capture?.Stop();
            Assert.True(thread.Join(TimeSpan.FromSeconds(10)), "Stop did not end the capture loop");
        }
        Assert.Null(failure);
        CaptureStatistics stats = capture!.Statistics();
        capture.Dispose();

        Detection d = Assert.Single(sink.Early);
        Assert.Equal(NetAddress.Parse(NamespacePair.ScannerAddress), d.Source);
        Assert.Contains("tcp-syn", ScanKindNames.Names(d.Kinds));
        Assert.Equal("trw", d.Trigger);
        Assert.True(frames >= 400, $"{frames} frames captured");
        Assert.True(stats.Received >= frames, $"pcap_stats received {stats.Received}, delivered {frames}");
        Assert.Equal(0, stats.Dropped);
    }

    [NamespaceFact]
    public void A_missing_device_is_named_with_the_fix()
    {
        var e = Assert.Throws<CaptureException>(() => PcapLive.Open("ps-no-such-dev", new LiveCaptureOptions()));
        Assert.Contains("ps-no-such-dev", e.Message);
        Assert.Contains("no such interface", e.Message);
    }

    [NamespaceFact]
    public void A_filter_that_does_not_compile_is_named()
    {
        using var pair = new NamespacePair();
        CaptureException? e = null;
        var thread = new Thread(() =>
        {
            NamespacePair.Enter(pair.Target);
            e = Assert.Throws<CaptureException>(() => PcapLive.Open(NamespacePair.TargetDevice, new LiveCaptureOptions { Filter = "tcp port banana" }));
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        Assert.NotNull(e);
        Assert.Contains("\"tcp port banana\" does not compile", e.Message);
    }
}
