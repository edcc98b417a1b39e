namespace PortSentinel.Decode;

/// <summary>
/// Decodes one captured frame into a <see cref="Packet"/>; never throws, never allocates.
/// Each layer has its own file (<see cref="LinkLayer"/>, <see cref="Ipv4"/>, <see cref="Ipv6"/>,
/// <see cref="TransportLayer"/> and one per transport protocol) and makes its checks in a fixed
/// order: captured length, version, header length, total length. The commonest frame, Ethernet,
/// IPv4 and TCP or UDP, is first tried in one pass (<see cref="CommonFrame"/>), which gives the
/// same packet as the layers.
/// </summary>
public static class PacketDecoder
{
    /// <summary>
    /// Decodes <paramref name="frame"/> (the captured bytes; may be shorter than the wire length
    /// under a snaplen) into <paramref name="packet"/>, overwriting every field except
    /// <see cref="Packet.Timestamp"/> and <see cref="Packet.WireLength"/>, which the caller sets.
    /// </summary>
    /// <returns>
    /// <see cref="DecodeEvent.Ok"/> for a packet that decoded (with or without a transport
    /// header), an <c>Ignored…</c> value for traffic that is not IP, or the first check a
    /// malformed frame failed. <see cref="Packet.HasTransport"/> is false unless the result is
    /// <see cref="DecodeEvent.Ok"/>.
    /// </returns>
    public static DecodeEvent Decode(ReadOnlySpan<byte> frame, LinkType link, ref Packet packet)
    {
        packet = new Packet { Timestamp = packet.Timestamp, WireLength = packet.WireLength };
        return link == LinkType.Ethernet && CommonFrame.TryDecode(frame, ref packet)
            ? DecodeEvent.Ok
            : DecodeByLayers(frame, link, ref packet);
    }

    /// <summary>Decodes layer by layer, into a packet cleared but for its timestamp and wire length.</summary>
    internal static DecodeEvent DecodeByLayers(ReadOnlySpan<byte> frame, LinkType link, ref Packet packet)
    {
        DecodeEvent result = DecodeLayers(frame, link, ref packet);
        if (result != DecodeEvent.Ok)
        {
            // The caller skips a malformed packet, but nothing may claim a transport header
            // that a later check in the same layer rejected.
            packet.HasTransport = false;
        }
        return result;
    }

    private static DecodeEvent DecodeLayers(ReadOnlySpan<byte> frame, LinkType link, ref Packet packet)
    {
        DecodeEvent result = LinkLayer.Decode(frame, link, out int linkLength, out NetworkProtocol network);
        if (result != DecodeEvent.Ok)
        {
            return result;
        }

        // The IP lengths are checked against the bytes on the wire, not the captured ones, so
        // that a snaplen does not make a sound packet malformed. The wire cannot have carried
        // fewer bytes than were captured; a caller that left WireLength at 0 gets the captured length.
        int ipOnWire = Math.Max(packet.WireLength, frame.Length) - linkLength;
        ReadOnlySpan<byte> ip = frame[linkLength..];
        return network == NetworkProtocol.Ipv6
            ? Ipv6.Decode(ip, ipOnWire, ref packet)
            : Ipv4.Decode(ip, ipOnWire, ref packet);
    }
}
