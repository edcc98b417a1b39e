namespace PortSentinel.Decode;

/// <summary>Decodes one captured frame into a <see cref="Packet"/>; never throws, never allocates.</summary>
public static class PacketDecoder
{
    /// <summary>
    /// Decodes <paramref name="frame"/> (the captured bytes; may be shorter than the wire length
    /// under a snaplen) into <paramref name="packet"/>, overwriting every field except
    /// <see cref="Packet.Timestamp"/> and <see cref="Packet.WireLength"/>, which the caller sets.
    /// </summary>
    public static DecodeEvent Decode(ReadOnlySpan<byte> frame, LinkType link, ref Packet packet)
    {
        packet = packet with { };
        return DecodeEvent.IgnoredLinkType;
    }
}
