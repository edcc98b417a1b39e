using System.Diagnostics;
using System.Runtime;
using PortSentinel.Capture;
using PortSentinel.Common;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;
using PortSentinel.Respond;
using PortSentinel.Synthetic;

namespace PortSentinel;

/// <summary>
/// Has the path of a ban compiled and optimised before capture starts, so that the first
/// scanners do not wait for the JIT. Synthetic traffic, written to a savefile in the data
/// directory, goes through libpcap, the capture processor and a respond worker that are all
/// throwaway instances of the real ones: a store of its own in the data directory, the dry-run
/// firewall, an empty allowlist and a log that keeps nothing, deleted at the end. An in-kernel
/// firewall also blocks and lifts a documentation address, on the sensor's own respond thread,
/// which owns it. The runtime compiles a method quickly at first and again, optimised, in the
/// background once it has been called often enough after start-up settled (tier 0, then
/// instrumented, then tier 1): one pass only compiled the first tier, and the first scan then ran
/// that slow code and had it recompiled under it (docs/performance.md, reaction time).
/// </summary>
internal static class WarmUp
{
    // The warm-up's detector: the real code on small tables, which every pass allocates anew.
    private static readonly DetectorOptions _detection = new() { SourceCapacity = 1024, FlowCapacity = 4096 };

    // Passes, a pause apart that is longer than the runtime's tiering delay (it counts calls only
    // once 100 ms have gone by without a method compiled for the first time).
    private const int Passes = 6;
    private static readonly TimeSpan _pause = TimeSpan.FromMilliseconds(200);

    // Each pass raises eight scanners; each is rehearsed this many times, so that the code that
    // runs once per scanner on the respond thread is called as often as it must be to be
    // optimised within the passes (30 calls, twice).
    private const int RehearsalsPerDetection = 6;

    private static int _runs;

    // 192.0.2.254, a documentation address, never a real source.
    private static readonly NetPrefix _nobody = NetPrefix.Host(NetAddress.FromV4(0xC000_02FE));

    /// <summary>Runs the passes in <paramref name="dataDirectory"/>, leaving nothing there; <paramref name="sensor"/> is the sensor's own respond worker, which owns <paramref name="firewall"/>.</summary>
    public static void Run(string dataDirectory, RespondWorker sensor, IFirewall firewall, SensorLog log)
    {
        var clock = Stopwatch.StartNew();
        long compiled = JitInfo.GetCompiledMethodCount();
        // Two sensors of one process (the tests') may warm up at once in one directory.
        string scratch = Path.Join(dataDirectory, $"warm-up-{Environment.ProcessId}-{Interlocked.Increment(ref _runs)}");
        string file = scratch + ".pcap";
        int rehearsals = 0;
        try
        {
            TrafficGenerator.Write(file, TrafficGenerator.MinimumPackets, seed: 1);
            using SqliteStore store = SqliteStore.Open(scratch);
            var context = new RespondContext(new DryRunFirewall(), store, new SensorFeed(), static _ => { });
            var responder = new Responder(context, new Decider(new Allowlist(new HostFacts([], [], []), []), new DecideOptions()), new FirewallOptions());
            using var worker = new RespondWorker(responder);
            worker.Start("respond warm-up");
            for (int pass = 0; pass < Passes; pass++)
            {
                using (PcapFile capture = PcapFile.Open(file))
                {
                    var sink = new RehearsalSink(worker);
                    var processor = new CaptureProcessor(new Detector(_detection, sink), capture.LinkType);
                    capture.ReadAll(processor);
                    processor.Flush();
                    rehearsals += sink.Rehearsals;
                }
                if (firewall.ExpiresByItself)
                {
                    // Not the other backends: a command backend would run the administrator's command.
                    sensor.Run(() =>
                    {
                        _ = firewall.Block([new FirewallEntry(_nobody, TimeSpan.FromSeconds(1), Mode: "warm-up")]);
                        return firewall.Unblock([_nobody]);
                    }).Wait();
                }
                worker.Run(static () => true).Wait(); // the pass's rehearsals are decided
                Thread.Sleep(_pause);
            }
        }
        finally
        {
            File.Delete(file);
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
        log($"WARMED UP in {clock.ElapsedMilliseconds} ms: {Passes} passes of {TrafficGenerator.MinimumPackets} synthetic frames, {rehearsals} rehearsals, {JitInfo.GetCompiledMethodCount() - compiled} methods compiled");
    }

    /// <summary>Hands each detection to the throwaway worker <see cref="RehearsalsPerDetection"/> times, each after its read-ahead, as a capture's sink does.</summary>
    private sealed class RehearsalSink(RespondWorker worker) : IDetectionSink
    {
        public int Rehearsals { get; private set; }

        public void Raising(NetAddress source) => worker.GetReadyFor(source);

        public void Raised(Detection detection)
        {
            for (int i = 0; i < RehearsalsPerDetection; i++)
            {
                if (i > 0)
                {
                    worker.GetReadyFor(detection.Source);
                }
                worker.Raised(detection);
                Rehearsals++;
            }
        }

        public void Closed(Detection detection) => worker.Ended(detection);
    }
}
