using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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

}

/// <summary>
/// The hot part of a first contact, 16 bytes so that a 4-way set is one cache line: a lookup
/// reads one line. Who and what it was stay in <see cref="FlowEnds"/>, read only when a contact
/// is resolved, seeded into a detection, or timed out.
/// </summary>
internal struct Flow
{
    /// <summary>A 64-bit hash of (initiator, responder, port, protocol), the entry's identity; 0 when empty.</summary>
    public ulong Tag;

    /// <summary>Seconds since the Unix epoch (32 bits last until 2106).</summary>
    public uint LastSeen;

    public FlowState State;
    public ProbeKind Kind;
}

/// <summary>The cold part of a first contact, at the same slot index as its <see cref="Flow"/>.</summary>
internal struct FlowEnds
{
    public NetAddress Initiator;
    public NetAddress Responder;

    /// <summary>When the contact was made, microseconds (for the outcome timeout).</summary>
    public long Created;

    /// <summary>The responder's port, or the request type for ICMP.</summary>
    public ushort Port;
    public byte Protocol;

    /// <summary>
    /// For a TCP contact the responder accepted: the acknowledgment number that answers its
    /// SYN-ACK (its initial sequence number plus one), which only a host that received it knows.
    /// </summary>
    public uint Answer;
}

/// <summary>
/// A fixed-capacity, 4-way set-associative table of first contacts keyed by (initiator,
/// responder, responder port or ICMP type, protocol): the initiator's own port is left out so that
/// repeated connections to one service are one contact, as TRW's "first contact" requires.
/// Each set is one 64-byte-aligned cache line of four 16-byte slots, and the 64-bit tag alone
/// identifies an entry: two keys collide with probability 2⁻⁶⁴ per comparison, and comparing
/// addresses instead would cost a second cache line on every lookup. Measured on the bench
/// capture: 8-way sets of 56-byte entries behind a separate tag array cost two misses a lookup and
/// ~70 ns/packet; this layout cost ~half. An insert into a full set evicts its stalest entry, so
/// memory stays flat whatever arrives.
/// </summary>
internal sealed class FlowTable
{
    private const int Ways = 4;
    private const int LineBytes = 64;

    // Pinned so that the 64-byte alignment computed once stays true.
    private readonly byte[] _memory;
    private readonly int _offset;
    private readonly FlowEnds[] _ends;
    private readonly int _setMask;

    public FlowTable(int capacity)
    {
        _memory = ResidentMemory.Touch(GC.AllocateArray<byte>((capacity * Unsafe.SizeOf<Flow>()) + LineBytes, pinned: true));
        nint address = Marshal.UnsafeAddrOfPinnedArrayElement(_memory, 0);
        _offset = (int)((LineBytes - (address % LineBytes)) % LineBytes);
        _ends = ResidentMemory.Touch(new FlowEnds[capacity]);
        _setMask = (capacity / Ways) - 1;
        Capacity = capacity;
    }

    /// <summary>
    /// The most slots: the hot part is one array addressed with 32-bit offsets, and 2²⁶ slots of
    /// 16 bytes are 1 GiB (2²⁷ would overflow the offset).
    /// </summary>
    public const int MaxCapacity = 1 << 26;

    /// <summary>The memory one slot takes: its hot and its cold part.</summary>
    public static long BytesPerEntry => Unsafe.SizeOf<Flow>() + Unsafe.SizeOf<FlowEnds>();

    /// <summary>The memory the table takes besides its slots (the alignment slack).</summary>
    public const long FixedBytes = LineBytes;

    public int Capacity { get; }

    /// <summary>Entries evicted while still waiting for an answer.</summary>
    public long EvictedPending { get; private set; }

    public long Evicted { get; private set; }

    public ref Flow At(int slot) =>
        ref Unsafe.As<byte, Flow>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_memory), _offset + (slot * Unsafe.SizeOf<Flow>())));

    public ref FlowEnds Ends(int slot) => ref _ends[slot];

    /// <summary>The hot part of every slot, in slot order, for a walk of the whole table.</summary>
    public Span<Flow> Slots => MemoryMarshal.Cast<byte, Flow>(_memory.AsSpan(_offset, Capacity * Unsafe.SizeOf<Flow>()));

    /// <summary>The slot of the contact, refreshed as seen at <paramref name="now"/>, or -1.</summary>
    public int Find(scoped in NetAddress initiator, scoped in NetAddress responder, ushort port, byte protocol, long now)
    {
        ulong tag = Tag(initiator, responder, port, protocol);
        int set = SetOf(tag);
        for (int i = set; i < set + Ways; i++)
        {
            ref Flow f = ref At(i);
            if (f.Tag == tag)
            {
                f.LastSeen = Seconds(now);
                return i;
            }
        }
        return -1;
    }

    /// <summary>Finds the contact, or claims a slot for it (evicting the stalest of its set) and reports it <paramref name="added"/>.</summary>
    public int FindOrAdd(scoped in NetAddress initiator, scoped in NetAddress responder, ushort port, byte protocol, long now, out bool added)
    {
        ulong tag = Tag(initiator, responder, port, protocol);
        int set = SetOf(tag);
        uint seconds = Seconds(now);
        int empty = -1;
        int stalest = set;
        uint stalestSeen = uint.MaxValue;
        for (int i = set; i < set + Ways; i++)
        {
            ref Flow f = ref At(i);
            if (f.Tag == tag)
            {
                f.LastSeen = seconds;
                added = false;
                return i;
            }
            if (f.Tag == 0)
            {
                if (empty < 0)
                {
                    empty = i;
                }
            }
            else if (f.LastSeen < stalestSeen)
            {
                stalest = i;
                stalestSeen = f.LastSeen;
            }
        }
        int victim = empty >= 0 ? empty : stalest;
        ref Flow slot = ref At(victim);
        if (slot.Tag != 0)
        {
            Evicted++;
            if (slot.State == FlowState.Pending)
            {
                EvictedPending++;
            }
        }
        slot = new Flow { Tag = tag, LastSeen = seconds };
        _ends[victim] = new FlowEnds { Initiator = initiator, Responder = responder, Port = port, Protocol = protocol, Created = now };
        added = true;
        return victim;
    }

    /// <summary>Asks the CPU to bring in the set that a lookup of this contact will read (a hint only).</summary>
    public void Prefetch(scoped in NetAddress initiator, scoped in NetAddress responder, ushort port, byte protocol) =>
        ResidentMemory.Prefetch(ref At(SetOf(Tag(initiator, responder, port, protocol))));

    public static uint Seconds(long micros) => (uint)(micros / 1_000_000);

    private int SetOf(ulong tag) => SketchHash.Index(tag, _setMask) * Ways;

    private static ulong Tag(in NetAddress initiator, in NetAddress responder, ushort port, byte protocol)
    {
        // One multiply per 64-bit word and a single finaliser: the words are independent, so the
        // multiplies overlap, and the finaliser spreads every input bit over the result.
        ulong h = (initiator.High * 0x9E37_79B9_7F4A_7C15UL) ^ (initiator.Low * 0xC2B2_AE3D_27D4_EB4FUL)
            ^ (responder.High * 0x1656_67B1_9E37_79F9UL) ^ (responder.Low * 0x85EB_CA77_C2B2_AE63UL)
            ^ ((((ulong)port << 8) | protocol) * 0x27D4_EB2F_1656_67C5UL);
        return SketchHash.Mix(h) | 1; // 0 marks an empty slot
    }
}
