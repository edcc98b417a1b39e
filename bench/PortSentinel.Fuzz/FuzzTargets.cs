using System.Buffers.Binary;
using System.Runtime.InteropServices;
using PortSentinel.Analysis;
using PortSentinel.Capture;
using PortSentinel.Cli.Commands;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Fuzz;

/// <summary>
/// The fuzzed surfaces, one method per target, each asserting its surface's documented contract:
/// the decoder never throws and returns one of its <see cref="DecodeEvent"/> values; a capture file
/// read through libpcap fails only with <see cref="CaptureException"/>; a settings file fails only
/// with <see cref="SettingsException"/>. Any other exception escapes, and afl-fuzz (through
/// SharpFuzz) records the input as a crash; the seed test runs the same methods in process.
/// </summary>
public sealed class FuzzTargets : IDisposable
{
    public static readonly string[] Names = ["decode", "pcap", "settings"];

    /// <summary>Every link type the decoder reads, and one it does not (DLT_USER0), chosen by a decode input's first byte.</summary>
    public static readonly LinkType[] LinkTypes = [.. Enum.GetValues<LinkType>(), (LinkType)147];

    /// <summary>A decode input: a link-type selector byte, the wire length (big-endian, 0 for the captured length), then the frame.</summary>
    public const int DecodeHeaderLength = 3;

    // Small tables: a default detector allocates ~40 MB, which would dominate each execution.
    private readonly DetectorOptions _detection = new() { SourceCapacity = 1024, FlowCapacity = 4096 };

    private readonly string _scratch = Directory.CreateTempSubdirectory("portsentinel-fuzz-").FullName;

    private string CapturePath => Path.Combine(_scratch, "input.pcap");

    private string ConfigPath => Path.Combine(_scratch, "config.json");

    private string DataDirectory => Path.Combine(_scratch, "data");

    public void Run(string target, ReadOnlySpan<byte> input)
    {
        switch (target)
        {
            case "decode":
                Decode(input);
                break;
            case "pcap":
                Pcap(input);
                break;
            case "settings":
                Settings(input);
                break;
            default:
                throw new ArgumentException($"unknown target {target}; use {string.Join(", ", Names)}", nameof(target));
        }
    }

    /// <summary>Encodes a frame as a <see cref="Decode"/> input.</summary>
    public static byte[] DecodeInput(LinkType link, int wireLength, ReadOnlySpan<byte> frame)
    {
        byte[] input = new byte[DecodeHeaderLength + frame.Length];
        input[0] = (byte)Array.IndexOf(LinkTypes, link);
        BinaryPrimitives.WriteUInt16BigEndian(input.AsSpan(1), (ushort)Math.Min(wireLength, ushort.MaxValue));
        frame.CopyTo(input.AsSpan(DecodeHeaderLength));
        return input;
    }

    /// <summary>
    /// The decoder's contract (<see cref="PacketDecoder.Decode"/>): no exception, a defined result,
    /// no transport header claimed unless the result is Ok, and the one-pass Ethernet decoder gives
    /// exactly what the layers give.
    /// </summary>
    public static void Decode(ReadOnlySpan<byte> input)
    {
        if (input.Length < DecodeHeaderLength)
        {
            return;
        }
        LinkType link = LinkTypes[input[0] % LinkTypes.Length];
        int wireLength = BinaryPrimitives.ReadUInt16BigEndian(input[1..]);
        ReadOnlySpan<byte> frame = input[DecodeHeaderLength..];

        var packet = new Packet { Timestamp = 1, WireLength = wireLength };
        DecodeEvent result = PacketDecoder.Decode(frame, link, ref packet);
        if (!Enum.IsDefined(result))
        {
            throw new FuzzContractException($"{link}: decode returned {(int)result}, not a DecodeEvent");
        }
        if (result != DecodeEvent.Ok && packet.HasTransport)
        {
            throw new FuzzContractException($"{link}: {result.Name()}, yet the packet claims a transport header");
        }
        if (packet.Timestamp != 1 || packet.WireLength != wireLength)
        {
            throw new FuzzContractException($"{link}: decode overwrote the timestamp or wire length");
        }
        var layered = new Packet { Timestamp = 1, WireLength = wireLength };
        DecodeEvent expected = PacketDecoder.DecodeByLayers(frame, link, ref layered);
        if (result != expected || !Same(packet, layered))
        {
            throw new FuzzContractException($"{link}: {result.Name()} from Decode, {expected.Name()} from the layers, or different packets");
        }
    }

    /// <summary>A capture file through libpcap, decode and detection, as <c>analyze</c> reads it: only <see cref="CaptureException"/> may escape.</summary>
    public void Pcap(ReadOnlySpan<byte> input)
    {
        File.WriteAllBytes(CapturePath, input);
        AnalysisResult result;
        try
        {
            result = OfflineAnalysis.Run([CapturePath], _detection);
        }
        catch (CaptureException)
        {
            return;
        }
        if (result.Packets < 0 || result.Malformed > result.Packets)
        {
            throw new FuzzContractException($"{result.Packets} packets, {result.Malformed} malformed");
        }
    }

    /// <summary>
    /// A settings file read as <c>run</c> reads it, once as the --config file and once as the
    /// dashboard's DATA_DIR/settings.json: only <see cref="SettingsException"/> may escape.
    /// </summary>
    public void Settings(ReadOnlySpan<byte> input)
    {
        File.WriteAllBytes(ConfigPath, input);
        Load(new SettingsSources(new FileInfo(ConfigPath), [], null, null));
        Directory.CreateDirectory(DataDirectory);
        File.WriteAllBytes(SettingsOverlay.PathIn(DataDirectory), input);
        Load(new SettingsSources(null, [], null, DataDirectory));
    }

    private static void Load(SettingsSources sources)
    {
        try
        {
            SensorSettings.Load(sources);
        }
        catch (SettingsException)
        {
        }
    }

    private static bool Same(Packet a, Packet b) =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<Packet>(ref a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<Packet>(ref b)));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_scratch, recursive: true);
        }
        catch (IOException)
        {
            // A scratch directory left in /tmp is harmless.
        }
    }
}
