using System.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace PortSentinel.Web.Live;

/// <summary>One second of traffic: packets per second by protocol over every capture, and the process's CPU and memory.</summary>
public sealed record TrafficSample(DateTimeOffset At, double Tcp, double Udp, double Icmp, double Other, double CpuPercent, long MemoryBytes, long Dropped);

/// <summary>
/// Reads the sensor's counters once a second and turns them into rates: the overview's moving
/// chart. Keeps the last five minutes for a page that opens, and offers each new sample to the
/// live pages.
/// </summary>
public sealed class TrafficSampler(DashboardContext dashboard) : BackgroundService
{
    public const int Kept = 300;

    private readonly Lock _gate = new();
    private readonly Queue<TrafficSample> _recent = new();

    /// <summary>Raised after each new sample, on the sampler's thread; handlers must not block.</summary>
    public event Action<TrafficSample>? Sampled;

    public IReadOnlyList<TrafficSample> Recent()
    {
        lock (_gate)
        {
            return [.. _recent];
        }
    }

    public TrafficSample? Latest()
    {
        lock (_gate)
        {
            return _recent.Count > 0 ? _recent.Last() : null;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), dashboard.Time);
        using Process self = Process.GetCurrentProcess();
        (long Tcp, long Udp, long Icmp, long Other, long Dropped) before = Totals(dashboard.Sensor.Statistics());
        TimeSpan cpuBefore = self.TotalProcessorTime;
        long tickBefore = Stopwatch.GetTimestamp();
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var now = Totals(dashboard.Sensor.Statistics());
            self.Refresh();
            TimeSpan cpu = self.TotalProcessorTime;
            long tick = Stopwatch.GetTimestamp();
            double seconds = Stopwatch.GetElapsedTime(tickBefore, tick).TotalSeconds;
            var sample = new TrafficSample(dashboard.Time.GetUtcNow(),
                (now.Tcp - before.Tcp) / seconds, (now.Udp - before.Udp) / seconds, (now.Icmp - before.Icmp) / seconds, (now.Other - before.Other) / seconds,
                (cpu - cpuBefore).TotalSeconds / seconds / Environment.ProcessorCount * 100, self.WorkingSet64, now.Dropped);
            (before, cpuBefore, tickBefore) = (now, cpu, tick);
            lock (_gate)
            {
                _recent.Enqueue(sample);
                while (_recent.Count > Kept)
                {
                    _recent.Dequeue();
                }
            }
            Sampled?.Invoke(sample);
        }
    }

    private static (long Tcp, long Udp, long Icmp, long Other, long Dropped) Totals(SensorStatistics stats)
    {
        (long, long, long, long, long) sum = default;
        foreach (InterfaceStatistics i in stats.Interfaces)
        {
            sum = (sum.Item1 + i.Tcp, sum.Item2 + i.Udp, sum.Item3 + i.Icmp, sum.Item4 + i.Other, sum.Item5 + i.Dropped + i.InterfaceDropped);
        }
        return sum;
    }
}
