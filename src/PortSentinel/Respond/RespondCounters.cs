using PortSentinel.Detect;

namespace PortSentinel.Respond;

/// <summary>What the respond stage counts; written on the respond thread, read from any.</summary>
public sealed class RespondCounters
{
    /// <summary>The upper bounds (milliseconds) of the histogram of the sensor's own time from the deciding packet to the firewall change.</summary>
    public static readonly double[] LatencyBuckets = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000];

    private readonly long[] _kinds = new long[32]; // by bit of ScanKinds
    private readonly long[] _latency = new long[LatencyBuckets.Length + 1]; // the last: above every bucket
    private long _bansAdded;
    private long _firewallErrors;
    private long _latencyMicros;
    private long _latencyCount;

    public long BansAdded => Interlocked.Read(ref _bansAdded);

    public long FirewallErrors => Interlocked.Read(ref _firewallErrors);

    public double LatencySumMs => Interlocked.Read(ref _latencyMicros) / 1000.0;

    public long LatencyCount => Interlocked.Read(ref _latencyCount);

    public void Banned(int bans) => Interlocked.Add(ref _bansAdded, bans);

    public void FirewallFailed(int failures = 1) => Interlocked.Add(ref _firewallErrors, failures);

    /// <summary>A new scanner decided, with the sensor's own time from its deciding packet to the firewall change.</summary>
    public void Detected(ScanKinds kinds, double ms)
    {
        for (int bit = 0; bit < _kinds.Length; bit++)
        {
            if (((uint)kinds & (1u << bit)) != 0)
            {
                Interlocked.Increment(ref _kinds[bit]);
            }
        }
        int bucket = Array.FindIndex(LatencyBuckets, upper => ms <= upper);
        Interlocked.Increment(ref _latency[bucket < 0 ? _latency.Length - 1 : bucket]);
        Interlocked.Add(ref _latencyMicros, (long)(ms * 1000));
        Interlocked.Increment(ref _latencyCount);
    }

    /// <summary>Detections so far by the name of each kind they showed.</summary>
    public SortedDictionary<string, long> DetectionsByKind()
    {
        var kinds = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int bit = 0; bit < _kinds.Length; bit++)
        {
            if (Interlocked.Read(ref _kinds[bit]) is > 0 and long count && ScanKindNames.Names((ScanKinds)(1u << bit)) is [var name])
            {
                kinds[name] = count;
            }
        }
        return kinds;
    }

    /// <summary>The latency histogram, cumulative: for each bucket's upper bound, the decisions that took no longer.</summary>
    public List<(double UpperMs, long Count)> Latency()
    {
        long cumulative = 0;
        var latency = new List<(double, long)>();
        for (int i = 0; i < LatencyBuckets.Length; i++)
        {
            cumulative += Interlocked.Read(ref _latency[i]);
            latency.Add((LatencyBuckets[i], cumulative));
        }
        return latency;
    }
}
