using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using PortSentinel.Capture.Native;

namespace PortSentinel.Capture;

/// <summary>
/// Where a damaged savefile stops being readable, worked out after libpcap has failed on it: libpcap
/// does not say where it stopped, and ftell on its stream costs a system call (lseek, ≈ 200 ns
/// measured here), too much to ask for every packet.
/// </summary>
internal static class SavefileLayout
{
    private const uint PcapngSectionHeader = 0x0A0D0D0A;

    // pcap's "modified" format (Alexey Kuznetzov's patches) has 24-byte record headers, not 16.
    private const uint ModifiedPcapMagic = 0xA1B2CD34;

    /// <summary>
    /// The byte just after the <paramref name="packets"/>-th packet of the savefile open in
    /// <paramref name="handle"/>, or null when the file cannot be read back (a pipe).
    /// <paramref name="capturedBytes"/> is the sum of the captured lengths libpcap delivered.
    /// </summary>
    public static long? EndOfPackets(PcapHandle handle, long packets, long capturedBytes)
    {
        nint stream = LibPcap.pcap_file(handle);
        int descriptor = stream == 0 ? -1 : LibC.fileno(stream);
        if (descriptor < 0)
        {
            return null;
        }
        // The descriptor stays libpcap's; a FileStream reads a seekable file by position (pread), so
        // libpcap's own position is not moved.
        using var file = new SafeFileHandle(descriptor, ownsHandle: false);
        using var reader = new FileStream(file, FileAccess.Read, bufferSize: 1 << 16);
        if (!reader.CanSeek)
        {
            return null;
        }
        Span<byte> magic = stackalloc byte[4];
        reader.Position = 0;
        if (reader.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4)
        {
            return null;
        }
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(magic);
        if (value == PcapngSectionHeader)
        {
            return PcapngEnd(reader, packets);
        }
        // The 24-byte file header, then a record header and the captured bytes per packet. (A record
        // longer than the file's snaplen is cut by libpcap to the snaplen, and the offset then falls
        // short by what was cut.)
        long recordHeader = value is ModifiedPcapMagic || BinaryPrimitives.ReverseEndianness(value) == ModifiedPcapMagic ? 24 : 16;
        return 24 + (packets * recordHeader) + capturedBytes;
    }

    /// <summary>
    /// Walks pcapng blocks (type, total length; byte order from each section header) past the
    /// <paramref name="packets"/>-th packet block (enhanced, simple or obsolete packet block), then over
    /// whole blocks that carry no packet: the offset of the next packet block, or of the first block cut
    /// short or with an impossible length. A whole block libpcap refused (say an interface description
    /// with a bad link type) is not seen here.
    /// </summary>
    private static long PcapngEnd(FileStream reader, long packets)
    {
        long length = reader.Length;
        Span<byte> header = stackalloc byte[12];
        long position = 0;
        long seen = 0;
        bool bigEndian = false;
        while (true)
        {
            reader.Position = position;
            int got = reader.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            if (got < 8)
            {
                return position;
            }
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) == PcapngSectionHeader)
            {
                if (got < 12)
                {
                    return position;
                }
                bigEndian = header[8] == 0x1A; // the byte-order magic 0x1A2B3C4D as written
            }
            uint type = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(header) : BinaryPrimitives.ReadUInt32LittleEndian(header);
            uint size = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(header[4..]) : BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            if (size < 12 || size % 4 != 0 || position + size > length)
            {
                return position;
            }
            if (type is 2 or 3 or 6)
            {
                if (seen == packets)
                {
                    return position;
                }
                seen++;
            }
            position += size;
        }
    }
}
