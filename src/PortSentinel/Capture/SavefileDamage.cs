namespace PortSentinel.Capture;

/// <summary>
/// A savefile that libpcap could not read to its end, damaged or cut short (copied while it was being
/// written): <paramref name="Packets"/> frames were read and delivered before the damage.
/// </summary>
/// <param name="File">The savefile's path, as given.</param>
/// <param name="Packets">The frames read before the damage.</param>
/// <param name="Offset">
/// The byte just after the last packet read: for pcap, where the record libpcap could not read
/// begins; for pcapng, where the blocks after the last packet read begin (the damage is in one of
/// them). Null when it cannot be known (a pipe cannot be read back).
/// </param>
/// <param name="Reason">libpcap's message, e.g. "truncated dump file; tried to read 54 captured bytes, only got 49".</param>
public sealed record SavefileDamage(string File, long Packets, long? Offset, string Reason)
{
    /// <summary>"damaged or cut short at byte N, after P packets", without the file and the reason.</summary>
    public string Where => Offset is long offset
        ? $"damaged or cut short at byte {offset}, after {Packets} packets"
        : $"damaged or cut short after {Packets} packets (the byte offset is unknown: the input cannot be read back)";
}
