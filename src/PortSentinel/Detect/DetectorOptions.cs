using System.Globalization;
using PortSentinel.Common;

namespace PortSentinel.Detect;

/// <summary>
/// Every threshold of the detector, with its default. Bound from the <c>Detection</c> section of
/// the configuration; <see cref="Validate"/> names the key that is wrong. docs/detections.md
/// explains each one.
/// </summary>
public sealed class DetectorOptions
{
    public const string Section = "Detection";

    /// <summary>Length of the short sliding window, seconds.</summary>
    public int WindowSeconds { get; set; } = 60;

    /// <summary>Distinct ports that failed (closed, unreachable, unanswered) within the window that make a vertical scan.</summary>
    public int VerticalPorts { get; set; } = 10;

    /// <summary>Distinct hosts that failed within the window that make a horizontal scan.</summary>
    public int HorizontalHosts { get; set; } = 8;

    /// <summary>Distinct IP protocol numbers (other than TCP, UDP, ICMP, SCTP) within the window that make an IP-protocol scan.</summary>
    public int IpProtocols { get; set; } = 8;

    /// <summary>
    /// A count threshold fires only when at least this share of the source's first contacts in
    /// that window failed: scanners mostly fail, busy clients mostly succeed (Jung et al. 2004).
    /// </summary>
    public double MinFailureRatio { get; set; } = 0.5;

    /// <summary>Length of the long window that catches slow scans, seconds.</summary>
    public int SlowWindowSeconds { get; set; } = 3600;

    /// <summary>Distinct failed ports within the long window that make a slow scan (when the short window never fired).</summary>
    public int SlowPorts { get; set; } = 10;

    /// <summary>Distinct failed hosts within the long window that make a slow scan.</summary>
    public int SlowHosts { get; set; } = 8;

    /// <summary>How long a probe waits for an answer before it counts as unanswered, milliseconds.</summary>
    public int OutcomeTimeoutMilliseconds { get; set; } = 3000;

    /// <summary>A detection ends (and is reported as closed) after this long without a new probe, seconds.</summary>
    public int IdleSeconds { get; set; } = 300;

    /// <summary>TRW: probability that a first contact of a benign source succeeds (Jung et al. 2004: 0.8).</summary>
    public double TrwTheta0 { get; set; } = 0.8;

    /// <summary>TRW: probability that a first contact of a scanner succeeds (0.2).</summary>
    public double TrwTheta1 { get; set; } = 0.2;

    /// <summary>TRW: target false-positive rate (0.01).</summary>
    public double TrwAlpha { get; set; } = 0.01;

    /// <summary>TRW: target detection rate (0.99).</summary>
    public double TrwBeta { get; set; } = 0.99;

    /// <summary>Sources tracked at once (a power of two); the stalest are evicted.</summary>
    public int SourceCapacity { get; set; } = 32768;

    /// <summary>First contacts tracked at once (a power of two); the stalest are evicted.</summary>
    public int FlowCapacity { get; set; } = 131072;

    /// <summary>IPv6 sources are aggregated to this prefix length (128 = each address on its own).</summary>
    public int Ipv6Prefix { get; set; } = 128;

    /// <summary>TCP ports where a single probe is a detection (Portsentry's stealth mode).</summary>
    public IList<int> TripwireTcpPorts { get; set; } = [];

    /// <summary>UDP ports where a single probe is a detection.</summary>
    public IList<int> TripwireUdpPorts { get; set; } = [];

    /// <summary>A probe kind is named in a detection when it made at least this many first contacts.</summary>
    public int MinProbesPerKind { get; set; } = 2;

    /// <summary>TCP probes to at most this many ports across many hosts are a TCP ping sweep.</summary>
    public int PingSweepMaxPorts { get; set; } = 2;

    /// <summary>At least this many sources probing the same host and ports together make a distributed scan.</summary>
    public int DistributedSources { get; set; } = 3;

    /// <summary>How alike two sources' port sets must be (Jaccard index, 0–1) to count as probing together.</summary>
    public double DistributedOverlap { get; set; } = 0.5;

    /// <summary>At most this many target addresses are kept in a detection's evidence.</summary>
    public int MaxTargetsPerDetection { get; set; } = 4096;

    /// <summary>
    /// The memory the detector tables may take: half of what this process may use
    /// (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>: the machine's memory, or less under a
    /// cgroup limit or DOTNET_GCHeapHardLimit), leaving the rest to the runtime, the web server
    /// and the other stages.
    /// </summary>
    public static long MemoryBudget => AvailableMemory / 2;

    private static long AvailableMemory => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>The largest <see cref="SourceCapacity"/> whose tables fit <see cref="MemoryBudget"/> with <paramref name="flows"/> first contacts, <paramref name="tables"/> sets at once; 0 when none does.</summary>
    public static int MostSources(int flows, int tables) => Most(1 << 30, sources => Detector.TableBytes(sources, flows) * tables);

    /// <summary>The largest <see cref="FlowCapacity"/> whose tables fit <see cref="MemoryBudget"/> with <paramref name="sources"/> sources, <paramref name="tables"/> sets at once; 0 when none does.</summary>
    public static int MostFlows(int sources, int tables) => Most(FlowTable.MaxCapacity, flows => Detector.TableBytes(sources, flows) * tables);

    private static int Most(int max, Func<long, long> bytes)
    {
        long budget = MemoryBudget;
        for (int capacity = max; capacity >= MinCapacity; capacity >>= 1)
        {
            if (bytes(capacity) <= budget)
            {
                return capacity;
            }
        }
        return 0;
    }

    private const int MinCapacity = 64;

    /// <summary>Returns the problems, each naming its key and the fix; empty when valid.</summary>
    public IReadOnlyList<string> Validate() => Validate(tables: 1);

    /// <summary>
    /// As <see cref="Validate()"/>, with <paramref name="tables"/> sets of tables alive at once
    /// (run: one per capture, and twice that while a change hands each capture a new detector).
    /// </summary>
    public IReadOnlyList<string> Validate(int tables)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tables, 1);
        var errors = new List<string>();
        void Range(string key, long value, long min, long max, string unit = "", string why = "") =>
            OptionRange.Check(errors, $"{Section}:{key}", value, min, max, unit, why);
        void PowerOfTwo(string key, int value, int min)
        {
            if (value < min || (value & (value - 1)) != 0)
            {
                errors.Add($"{Section}:{key} is {value}; it must be a power of two of at least {min} (e.g. 32768).");
            }
        }
        void Probability(string key, double value)
        {
            if (!(value > 0 && value < 1))
            {
                errors.Add($"{Section}:{key} is {value}; it must lie strictly between 0 and 1.");
            }
        }

        const int Day = 86_400;
        Range(nameof(WindowSeconds), WindowSeconds, 1, Day, "seconds");
        Range(nameof(SlowWindowSeconds), SlowWindowSeconds, 2, 7 * Day, "seconds");
        Range(nameof(VerticalPorts), VerticalPorts, 1, 65535, why: "distinct ports");
        Range(nameof(SlowPorts), SlowPorts, 1, 65535, why: "distinct ports");
        Range(nameof(HorizontalHosts), HorizontalHosts, 1, 1_000_000, why: "distinct hosts");
        Range(nameof(SlowHosts), SlowHosts, 1, 1_000_000, why: "distinct hosts");
        Range(nameof(IpProtocols), IpProtocols, 1, 255, why: "distinct IP protocol numbers");
        Range(nameof(OutcomeTimeoutMilliseconds), OutcomeTimeoutMilliseconds, 1, 600_000, "milliseconds");
        Range(nameof(IdleSeconds), IdleSeconds, 1, 7 * Day, "seconds");
        Range(nameof(MinProbesPerKind), MinProbesPerKind, 1, 65535);
        Range(nameof(PingSweepMaxPorts), PingSweepMaxPorts, 1, 65535);
        Range(nameof(MaxTargetsPerDetection), MaxTargetsPerDetection, 1, 1_000_000, why: "addresses kept per detection");
        Range(nameof(DistributedSources), DistributedSources, 2, Detector.CorrelationPeers, why: "a source is compared with at most 256 others");
        int before = errors.Count;
        PowerOfTwo(nameof(SourceCapacity), SourceCapacity, MinCapacity);
        PowerOfTwo(nameof(FlowCapacity), FlowCapacity, MinCapacity);
        if (FlowCapacity > FlowTable.MaxCapacity)
        {
            errors.Add($"{Section}:{nameof(FlowCapacity)} is {FlowCapacity}; give a power of two from {MinCapacity} to {FlowTable.MaxCapacity} (the flow table addresses its slots with 32-bit offsets).");
        }
        if (errors.Count == before)
        {
            Memory(errors, tables);
        }
        Probability(nameof(TrwTheta0), TrwTheta0);
        Probability(nameof(TrwTheta1), TrwTheta1);
        Probability(nameof(TrwAlpha), TrwAlpha);
        Probability(nameof(TrwBeta), TrwBeta);
        Probability(nameof(DistributedOverlap), DistributedOverlap);
        Probability(nameof(MinFailureRatio), MinFailureRatio);
        if (TrwTheta1 >= TrwTheta0)
        {
            errors.Add($"{Section}:{nameof(TrwTheta1)} ({TrwTheta1}) must be below {nameof(TrwTheta0)} ({TrwTheta0}): a scanner's contacts succeed less often than a benign host's.");
        }
        if (TrwAlpha >= TrwBeta)
        {
            errors.Add($"{Section}:{nameof(TrwAlpha)} ({TrwAlpha}) must be below {nameof(TrwBeta)} ({TrwBeta}).");
        }
        if (SlowWindowSeconds <= WindowSeconds)
        {
            errors.Add($"{Section}:{nameof(SlowWindowSeconds)} ({SlowWindowSeconds}) must be longer than {nameof(WindowSeconds)} ({WindowSeconds}).");
        }
        if (Ipv6Prefix is < 1 or > 128)
        {
            errors.Add($"{Section}:{nameof(Ipv6Prefix)} is {Ipv6Prefix}; it must be between 1 and 128 (64 groups a subnet, 128 keeps each address).");
        }
        foreach (var (key, ports) in new[] { (nameof(TripwireTcpPorts), TripwireTcpPorts), (nameof(TripwireUdpPorts), TripwireUdpPorts) })
        {
            foreach (int port in ports)
            {
                if (port is < 1 or > 65535)
                {
                    errors.Add($"{Section}:{key} contains {port}; ports are 1–65535.");
                }
            }
        }
        return errors;
    }

    /// <summary>Refuses capacities whose tables would not fit <see cref="MemoryBudget"/>, naming the larger table's key, the size and the most it can be.</summary>
    private void Memory(List<string> errors, int tables)
    {
        long perSet = Detector.TableBytes(this);
        long total = perSet * tables;
        if (total <= MemoryBudget)
        {
            return;
        }
        bool sources = SourceCapacity * SourceTable.BytesPerEntry >= FlowCapacity * FlowTable.BytesPerEntry;
        (string key, int value, string other, int otherValue, int most) = sources
            ? (nameof(SourceCapacity), SourceCapacity, nameof(FlowCapacity), FlowCapacity, MostSources(FlowCapacity, tables))
            : (nameof(FlowCapacity), FlowCapacity, nameof(SourceCapacity), SourceCapacity, MostFlows(SourceCapacity, tables));
        string sets = tables == 1 ? "" : $" ({tables} sets of {Size(perSet)}: one per capture, twice over while a change is applied)";
        string fix = most > 0 ? $"the most {Section}:{key} can be is {most} with {Section}:{other} at {otherValue}" : $"lower {Section}:{other} first";
        errors.Add($"{Section}:{key} is {value}: the detector's tables would take {Size(total)}{sets}, more than half of the {Size(AvailableMemory)} this process may use; {fix} (docs/configuration.md, capacities and memory).");
    }

    /// <summary>Bytes in MiB or GiB, one decimal at most.</summary>
    private static string Size(long bytes) => bytes >= 1L << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.#} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.#} MiB");
}
