using System.Runtime.CompilerServices;
using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>What the detector remembers about one source between its probes.</summary>
internal struct SourceState
{
    public NetAddress Key;
    public long FirstSeen;
    public long LastSeen;

    /// <summary>First contacts made while this entry lived.</summary>
    public int Contacts;

    public long ShortGeneration;
    public long LongGeneration;

    /// <summary>Failed first contacts in the short window, by port and by host.</summary>
    public WindowedSketch FailedPorts;
    public WindowedSketch FailedHosts;

    /// <summary>IP protocol numbers (other than TCP, UDP, ICMP, SCTP) seen in the short window; exact.</summary>
    public WindowedSketch Protocols;

    /// <summary>Failed first contacts in the long window.</summary>
    public WindowedSketch SlowPorts;
    public WindowedSketch SlowHosts;

    /// <summary>Which first contacts failed in the long window: a repeat is not a new failure.</summary>
    public ContactFilter FailedContacts;

    /// <summary>First contacts that succeeded and failed, in the short and the long window.</summary>
    public WindowedCount ShortOutcomes;
    public WindowedCount LongOutcomes;

    /// <summary>Threshold Random Walk: the log of the likelihood ratio (scanner vs benign).</summary>
    public double Trw;

    /// <summary>The short-window thresholds were crossed at least once.</summary>
    public bool ShortCrossed;

    /// <summary>It answered a SYN-ACK sent to it: it is at its address (<see cref="Detection.Verified"/>).</summary>
    public bool Verified;

    /// <summary>The open detection of this source, if any.</summary>
    public Incident? Incident;
}

/// <summary>
/// A fixed-capacity, 8-way set-associative table of sources, like <see cref="FlowTable"/>. Eviction
/// prefers sources that made a single contact: under a flood of spoofed one-packet sources, a real
/// scanner (many contacts) keeps its slot for a further window.
/// </summary>
internal sealed class SourceTable
{
    private const int Ways = 8;

    private readonly ulong[] _tags;
    private readonly SourceState[] _sources;
    private readonly int _setMask;
    private readonly long _protection;

    public SourceTable(int capacity, long protectionMicros)
    {
        _tags = ResidentMemory.Touch(new ulong[capacity]);
        _sources = ResidentMemory.Touch(new SourceState[capacity]);
        _setMask = (capacity / Ways) - 1;
        _protection = protectionMicros;
    }

    /// <summary>The memory one slot takes: its tag and its state.</summary>
    public static long BytesPerEntry => sizeof(ulong) + Unsafe.SizeOf<SourceState>();

    public long Evicted { get; private set; }

    public int Capacity => _sources.Length;

    public ref SourceState FindOrAdd(NetAddress key, long now, out bool added)
    {
        ulong tag = key.Hash64() | 1;
        int set = SketchHash.Index(tag, _setMask) * Ways;
        int empty = -1;
        int victim = set;
        long victimScore = long.MaxValue;
        for (int i = set; i < set + Ways; i++)
        {
            if (_tags[i] == tag && _sources[i].Key == key)
            {
                added = false;
                return ref _sources[i];
            }
            if (_tags[i] == 0)
            {
                if (empty < 0)
                {
                    empty = i;
                }
                continue;
            }
            ref SourceState s = ref _sources[i];
            long score = s.LastSeen + (s.Contacts > 1 || s.Incident is not null ? _protection : 0);
            if (score < victimScore)
            {
                victim = i;
                victimScore = score;
            }
        }
        if (empty >= 0)
        {
            victim = empty;
        }
        else
        {
            Evicted++;
        }
        _tags[victim] = tag;
        ref SourceState slot = ref _sources[victim];
        slot = new SourceState { Key = key, FirstSeen = now, LastSeen = now, ShortGeneration = now, LongGeneration = now };
        added = true;
        return ref slot;
    }
}
