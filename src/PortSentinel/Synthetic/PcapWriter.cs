using System.Buffers.Binary;
using PortSentinel.Decode;

namespace PortSentinel.Synthetic;

/// <summary>
/// Writes a classic pcap savefile (pcap-savefile(5)): little-endian, magic 0xa1b2c3d4 (microsecond
/// timestamps), version 2.4, then one 16-byte record header (ts_sec, ts_usec, incl_len, orig_len)
/// per frame. Records are gathered in one reusable buffer and streamed out in large writes, so
/// writing a frame allocates nothing.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    public const uint Magic = 0xA1B2C3D4;
    public const ushort VersionMajor = 2;
    public const ushort VersionMinor = 4;
    public const int FileHeaderLength = 24;
    public const int RecordHeaderLength = 16;

    private const int DefaultBufferSize = 1 << 20;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly byte[] _buffer;
    private int _used;
    private bool _disposed;

    /// <summary>Creates (or overwrites) <paramref name="path"/>.</summary>
    public PcapWriter(string path, int snapLength = 65535, LinkType linkType = LinkType.Ethernet)
        : this(OpenFile(path), snapLength, linkType, leaveOpen: false)
    {
    }

    /// <summary>Writes to <paramref name="stream"/>, from its current position.</summary>
    public PcapWriter(Stream stream, int snapLength = 65535, LinkType linkType = LinkType.Ethernet, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(snapLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(snapLength, DefaultBufferSize - RecordHeaderLength);
        _stream = stream;
        _ownsStream = !leaveOpen;
        SnapLength = snapLength;
        LinkType = linkType;
        _buffer = new byte[DefaultBufferSize];

        Span<byte> header = _buffer.AsSpan(0, FileHeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], VersionMinor);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0);   // thiszone: timestamps are UTC
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // sigfigs: always 0 in practice
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], (uint)linkType);
        _used = FileHeaderLength;
    }

    public int SnapLength { get; }

    public LinkType LinkType { get; }

    /// <summary>Frames written so far.</summary>
    public long Frames { get; private set; }

    /// <summary>Bytes of the file so far (headers and captured bytes).</summary>
    public long Length { get; private set; } = FileHeaderLength;

    /// <summary>
    /// Appends one frame. Bytes beyond <see cref="SnapLength"/> are cut, as a capture with that
    /// snaplen would; <paramref name="wireLength"/> (the frame's original length, orig_len) defaults
    /// to the length given.
    /// </summary>
    /// <param name="timestamp">Microseconds since the Unix epoch; the format holds 0 to 2^32 − 1 seconds.</param>
    public void Write(long timestamp, ReadOnlySpan<byte> frame, int wireLength = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long seconds = timestamp / 1_000_000;
        if (timestamp < 0 || seconds > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(timestamp), timestamp, "A pcap timestamp is 0 to 2^32 - 1 seconds after the Unix epoch.");
        }
        int captured = Math.Min(frame.Length, SnapLength);
        if (wireLength < frame.Length)
        {
            if (wireLength != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(wireLength), wireLength, "The wire length cannot be shorter than the frame given.");
            }
            wireLength = frame.Length;
        }
        if (_used + RecordHeaderLength + captured > _buffer.Length)
        {
            Drain();
        }
        Span<byte> record = _buffer.AsSpan(_used);
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)(timestamp % 1_000_000));
        BinaryPrimitives.WriteInt32LittleEndian(record[8..], captured);
        BinaryPrimitives.WriteInt32LittleEndian(record[12..], wireLength);
        frame[..captured].CopyTo(record[RecordHeaderLength..]);
        _used += RecordHeaderLength + captured;
        Frames++;
        Length += RecordHeaderLength + captured;
    }

    /// <summary>Writes out what is buffered and flushes the stream.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Drain();
        _stream.Flush();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        try
        {
            Drain();
            _stream.Flush();
        }
        finally
        {
            _disposed = true;
            if (_ownsStream)
            {
                _stream.Dispose();
            }
        }
    }

    private void Drain()
    {
        if (_used > 0)
        {
            _stream.Write(_buffer, 0, _used);
            _used = 0;
        }
    }

    // Unbuffered: the writer gathers whole megabytes itself, and a second buffer would only copy.
    private static FileStream OpenFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
    }
}
