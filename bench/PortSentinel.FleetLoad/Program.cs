using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Record;
using PortSentinel.Record.Postgres;

namespace PortSentinel.FleetLoad;

/// <summary>
/// The fleet under load, on a real PostgreSQL server: SENSORS simulated sensors, each a
/// <see cref="PostgresStore"/> of its own (its own pool and its own listening connection, which
/// holds its name, as a running sensor's), write alerts (raised, then ended) and bans at the rates
/// asked for, spread over the sensors, while every one follows the fleet's blocklist as FleetSync
/// does (listen, read the changes, record how far it got). Prints the rates held, the propagation
/// latency (from the start of a ban's write to its read by the last of the other sensors) and the
/// database's growth per million alerts. bench/fleet/load.sh runs it against a server of its own.
/// </summary>
public static class Program
{
    private const string Usage = "usage: PortSentinel.FleetLoad --store CONNECTION [--password-file FILE] [--sensors 100] [--seconds 60] [--alerts 1000] [--bans 20] (rates per second, for the whole fleet)";

    public static int Main(string[] args)
    {
        if (Arguments.Parse(args) is not { } run)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var options = new StoreOptions { ConnectionString = run.Store, PasswordFile = run.PasswordFile };
        PostgresStore[] sensors = [.. Enumerable.Range(0, run.Sensors).Select(i => PostgresStore.Open(options, $"load-{i:000}"))];
        try
        {
            return Measure(run, sensors);
        }
        finally
        {
            foreach (PostgresStore sensor in sensors)
            {
                sensor.Dispose();
            }
        }
    }

    private static int Measure(Arguments run, PostgresStore[] sensors)
    {
        long sizeBefore = sensors[0].SizeBytes;
        var load = new Load(run, sensors.Length);
        var followers = sensors.Select(s => new Thread(() => load.Follow(s)) { IsBackground = true }).ToList();
        var writers = sensors.Select((s, i) => new Thread(() => load.Write(s, i)) { IsBackground = true }).ToList();
        followers.ForEach(t => t.Start());
        Thread.Sleep(1000); // every follower listening before the first write
        load.Clock.Restart();
        writers.ForEach(t => t.Start());
        writers.ForEach(t => t.Join());
        double elapsed = load.Clock.Elapsed.TotalSeconds;
        Thread.Sleep(2000); // the last bans' way to every sensor
        load.Stop();
        followers.ForEach(t => t.Join());
        long growth = sensors[0].SizeBytes - sizeBefore;

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{sensors.Length} sensors for {elapsed:0} s: {load.Alerts:N0} alerts ({load.Alerts / elapsed:0.0}/s of {run.Alerts}/s asked), {load.Bans:N0} bans ({load.Bans / elapsed:0.0}/s of {run.Bans}/s asked), {load.Failures} writes failed"));
        List<double> spread = load.Propagation();
        if (spread.Count > 0)
        {
            spread.Sort();
            double At(double q) => spread[(int)Math.Round(q * (spread.Count - 1))];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"propagation, from a ban's write to its read by the last of the other {sensors.Length - 1} sensors: median {At(0.5):0.0} ms, p90 {At(0.9):0.0} ms, p99 {At(0.99):0.0} ms, max {spread[^1]:0.0} ms; {spread.Count} of {load.Bans} bans read by all"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"database: +{growth / 1048576.0:0.0} MiB, about {(load.Alerts == 0 ? 0 : growth / 1048576.0 / load.Alerts * 1e6):0} MiB per million alerts (with their bans)"));
        return load.Failures == 0 ? 0 : 1;
    }

    /// <summary>What the threads share: the clock, the counts, and when each ban was written and read.</summary>
    private sealed class Load(Arguments run, int sensors)
    {
        private readonly ConcurrentDictionary<NetPrefix, long> _written = new();
        private readonly ConcurrentDictionary<NetPrefix, (int Readers, long Last)> _read = new();
        private volatile bool _stopped;
        private int _nextBan;
        private long _alerts;
        private long _bans;
        private long _failures;

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public long Alerts => Interlocked.Read(ref _alerts);

        public long Bans => Interlocked.Read(ref _bans);

        public long Failures => Interlocked.Read(ref _failures);

        public void Stop() => _stopped = true;

        /// <summary>Each ban's time from its write to its read by the last other sensor, in ms, for those every other sensor read.</summary>
        public List<double> Propagation() =>
            [.. _read.Where(r => r.Value.Readers == sensors - 1 && _written.ContainsKey(r.Key))
                .Select(r => (r.Value.Last - _written[r.Key]) * 1000.0 / Stopwatch.Frequency)];

        /// <summary>One sensor's share of the writes, on a schedule, until the time is up.</summary>
        public void Write(PostgresStore sensor, int index)
        {
            double alertEvery = run.Alerts == 0 ? double.MaxValue : (double)sensors / run.Alerts;
            double banEvery = run.Bans == 0 ? double.MaxValue : (double)sensors / run.Bans;
            // Spread over the first period, so that the sensors do not write in step.
            double nextAlert = alertEvery * index / sensors, nextBan = banEvery * index / sensors;
            while (true)
            {
                double now = Clock.Elapsed.TotalSeconds;
                if (now >= run.Seconds)
                {
                    return;
                }
                if (now >= nextAlert)
                {
                    Count(ref _alerts, () => WriteAlert(sensor, index));
                    nextAlert += alertEvery;
                }
                if (now >= nextBan)
                {
                    Count(ref _bans, () => WriteBan(sensor));
                    nextBan += banEvery;
                }
                double wait = Math.Min(Math.Min(nextAlert, nextBan), run.Seconds) - Clock.Elapsed.TotalSeconds;
                if (wait > 0)
                {
                    Thread.Sleep(TimeSpan.FromSeconds(wait));
                }
            }
        }

        /// <summary>Follows the fleet's blocklist as a sensor does, noting when each ban is read.</summary>
        public void Follow(PostgresStore sensor)
        {
            using IFleetListener listener = sensor.Listen();
            long applied = sensor.LatestChange(), recorded = applied, recordedAt = 0;
            while (!_stopped)
            {
                if (listener.Wait(TimeSpan.FromMilliseconds(250)).HasFlag(FleetNews.Bans))
                {
                    FleetChanges changes = sensor.ChangesAfter(applied, DateTimeOffset.UtcNow);
                    long at = Clock.ElapsedTicks;
                    foreach (BanChange change in changes.Networks.Where(c => c.By != sensor.Writer))
                    {
                        _read.AddOrUpdate(change.Network, (1, at), (_, r) => (r.Readers + 1, Math.Max(r.Last, at)));
                    }
                    applied = changes.Latest;
                }
                // As FleetSync: the place reached recorded at most once a second.
                if (applied != recorded && Environment.TickCount64 - recordedAt >= 1000)
                {
                    sensor.Applied(applied);
                    (recorded, recordedAt) = (applied, Environment.TickCount64);
                }
            }
        }

        private static void WriteAlert(PostgresStore sensor, int index)
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            Detection scan = Scan(index, now);
            long id = sensor.RaiseAlert(scan, new Decision(scan, Severity.Medium, DecisionAction.Block, TimeSpan.FromHours(1), 1, "load"), now);
            sensor.EndAlerts([(id, scan)], now);
        }

        private void WriteBan(PostgresStore sensor)
        {
            // 198.19.0.0/16 (RFC 2544's benchmarking range): a network no ban of the run has had (for 65,536 bans).
            int n = Interlocked.Increment(ref _nextBan);
            var network = NetPrefix.Parse($"198.19.{n / 256 % 256}.{n % 256}");
            DateTimeOffset now = DateTimeOffset.UtcNow;
            _written[network] = Clock.ElapsedTicks;
            sensor.AddBans([new BanRecord(network, "load", now, now.AddHours(1), 1)]);
        }

        /// <summary>Writes, counting it in <paramref name="done"/>, or as a failure, shown for the first few.</summary>
        private void Count(ref long done, Action write)
        {
            try
            {
                write();
                Interlocked.Increment(ref done);
            }
            catch (StoreException e)
            {
                if (Interlocked.Increment(ref _failures) <= 5)
                {
                    Console.Error.WriteLine($"write failed: {e.Message}");
                }
            }
        }

        /// <summary>A SYN scan of 40 ports from an address of 198.18.0.0/16 (RFC 2544) seen by sensor <paramref name="index"/>.</summary>
        private static Detection Scan(int index, DateTimeOffset now) => new()
        {
            Source = NetAddress.Parse($"198.18.{index % 256}.{Random.Shared.Next(1, 255)}"),
            Kinds = ScanKinds.TcpSyn | ScanKinds.Vertical,
            Targets = [NetAddress.Parse("192.0.2.2")],
            TargetCount = 1,
            Ports = 40,
            PortRanges = "tcp 1-40",
            Protocols = 0,
            Probes = 40,
            First = now.AddSeconds(-2),
            Last = now,
            Trigger = "trw",
            Confidence = 1,
            Outcomes = new DetectionOutcomes(0, 40, 0, 0, 0),
            Final = true,
            Verified = true,
        };
    }

    private sealed record Arguments(string Store, string PasswordFile, int Sensors, int Seconds, int Alerts, int Bans)
    {
        public static Arguments? Parse(string[] args)
        {
            var values = new Dictionary<string, string>();
            for (int i = 0; i + 1 < args.Length; i += 2)
            {
                values[args[i]] = args[i + 1];
            }
            if (args.Length % 2 != 0 || !values.TryGetValue("--store", out string? store))
            {
                return null;
            }
            int Number(string name, int fallback, int most) =>
                values.TryGetValue(name, out string? text) && int.TryParse(text, CultureInfo.InvariantCulture, out int n) && n >= 0 && n <= most ? n
                : values.ContainsKey(name) ? -1 : fallback;
            var run = new Arguments(store, values.GetValueOrDefault("--password-file", ""), Number("--sensors", 100, 1000), Number("--seconds", 60, 3600),
                Number("--alerts", 1000, 100_000), Number("--bans", 20, 1000));
            return run.Sensors < 2 || run.Seconds < 1 || run.Alerts < 0 || run.Bans < 0 ? null : run;
        }
    }
}
