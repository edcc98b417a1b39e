using PortSentinel.Decode;

namespace PortSentinel.Detect;

/// <summary>Where a first contact stands.</summary>
internal enum FlowState : byte
{
    Empty,

    /// <summary>A probe was sent; no answer yet.</summary>
    Pending,

    /// <summary>The responder accepted (SYN-ACK, UDP reply, echo reply, INIT-ACK).</summary>
    Open,

    /// <summary>The initiator completed the handshake and has not yet sent data.</summary>
    Handshaken,

    /// <summary>The initiator sent data: an ordinary connection.</summary>
    Established,

    /// <summary>Refused (RST, ABORT).</summary>
    Closed,

    /// <summary>An ICMP unreachable came back for it.</summary>
    Unreachable,

    /// <summary>No answer within the outcome timeout.</summary>
    Silent,

    /// <summary>Opened, then torn down by the initiator before it sent any data (half-open or connect scan).</summary>
    Dropped,

    /// <summary>An ACK or FIN/ACK outside any known connection: a probe if the answer is RST, else a connection already under way.</summary>
    Unsolicited,

    /// <summary>A connection that was under way before we saw it.</summary>
    MidStream,

    /// <summary>A probe that needs no answer to judge (FIN, XMAS, NULL, other illegal flags).</summary>
    Judged,

    /// <summary>A traceroute probe: ignored.</summary>
    Traceroute,
}

/// <summary>One first contact: who opened it, to what, and what came of it.</summary>
internal struct Flow
{
    public NetAddress Initiator;
    public NetAddress Responder;
    public long Created;
    public long LastSeen;

    /// <summary>The responder's port, or the request type for ICMP.</summary>
    public ushort Port;
    public byte Protocol;
    public ProbeKind Kind;
    public FlowState State;
}

/// <summary>
/// A fixed-capacity, 8-way set-associative table of first contacts keyed by (initiator, responder,
/// responder port or ICMP type, protocol): the initiator's own port is left out so that repeated
/// connections to one service are one contact, as TRW's "first contact" requires. Lookups read the
/// eight tags of a set from one cache line; an insert into a full set evicts its stalest entry, so
/// memory stays flat whatever arrives.
/// </summary>
internal sealed class FlowTable
{
    private const int Ways = 8;

    private readonly ulong[] _tags;
    private readonly Flow[] _flows;
    private readonly int _setMask;

    public FlowTable(int capacity)
    {
        _tags = new ulong[capacity];
        _flows = new Flow[capacity];
        _setMask = (capacity / Ways) - 1;
    }

    public int Capacity => _flows.Length;

    /// <summary>Entries evicted while still waiting for an answer.</summary>
    public long EvictedPending { get; private set; }

    public long Evicted { get; private set; }

    public Span<Flow> Entries => _flows;

    public ref Flow Find(scoped in NetAddress initiator, scoped in NetAddress responder, ushort port, byte protocol, out bool found)
    {
        ulong tag = Tag(initiator, responder, port, protocol);
        int set = SetOf(tag);
        for (int i = set; i < set + Ways; i++)
        {
            if (_tags[i] == tag)
            {
                ref Flow f = ref _flows[i];
                if (f.Port == port && f.Protocol == protocol && f.Initiator == initiator && f.Responder == responder)
                {
                    found = true;
                    return ref f;
                }
            }
        }
        found = false;
        return ref _flows[set];
    }

    /// <summary>Finds the contact, or claims a slot for it (evicting the stalest of its set) and returns it with <paramref name="added"/> set.</summary>
    public ref Flow FindOrAdd(scoped in NetAddress initiator, scoped in NetAddress responder, ushort port, byte protocol, long now, out bool added)
    {
        ulong tag = Tag(initiator, responder, port, protocol);
        int set = SetOf(tag);
        int empty = -1;
        int stalest = set;
        long stalestSeen = long.MaxValue;
        for (int i = set; i < set + Ways; i++)
        {
            if (_tags[i] == tag)
            {
                ref Flow f = ref _flows[i];
                if (f.Port == port && f.Protocol == protocol && f.Initiator == initiator && f.Responder == responder)
                {
                    added = false;
                    return ref f;
                }
            }
            if (_tags[i] == 0)
            {
                if (empty < 0)
                {
                    empty = i;
                }
            }
            else if (_flows[i].LastSeen < stalestSeen)
            {
                stalest = i;
                stalestSeen = _flows[i].LastSeen;
            }
        }
        int victim = empty >= 0 ? empty : stalest;
        if (_tags[victim] != 0)
        {
            Evicted++;
            if (_flows[victim].State == FlowState.Pending)
            {
                EvictedPending++;
            }
        }
        _tags[victim] = tag;
        ref Flow slot = ref _flows[victim];
        slot = new Flow
        {
            Initiator = initiator,
            Responder = responder,
            Port = port,
            Protocol = protocol,
            Created = now,
            LastSeen = now,
        };
        added = true;
        return ref slot;
    }

    public void Remove(int index)
    {
        _tags[index] = 0;
        _flows[index] = default;
    }

    public bool IsUsed(int index) => _tags[index] != 0;

    // The set comes from the high half of the hash: the tag's low bit is forced to 1 (0 marks an
    // empty slot), so taking the set from the low bits would leave every even set unused.
    private int SetOf(ulong tag) => (int)((tag >> 32) & (ulong)_setMask) * Ways;

    private static ulong Tag(in NetAddress initiator, in NetAddress responder, ushort port, byte protocol)
    {
        ulong h = initiator.Hash64() ^ (responder.Hash64() * 0x9E37_79B9_7F4A_7C15UL) ^ SketchHash.Port(protocol, port);
        return h | 1; // 0 marks an empty slot
    }
}
