using System.Text.Json;
using PortSentinel.Cli.Commands;
using PortSentinel.Tests.Corpus;

namespace PortSentinel.Tests.Cli;

public class AnalyzeCommandTests
{
    private static (int Exit, string Out, string Err) Analyze(string[] files, string format = "table", string[]? set = null, FileInfo? config = null)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int exit = AnalyzeCommand.Run(files, format, config, set ?? [], output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    [Fact]
    public void Json_output_has_the_documented_fields()
    {
        var (exit, stdout, stderr) = Analyze([CorpusFiles.PathOf("tcp-syn.pcap")], "json");
        Assert.Equal(0, exit);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.True(root.GetProperty("packets").GetInt64() > 400);
        Assert.Equal(0, root.GetProperty("malformed").GetInt64());
        JsonElement d = Assert.Single(root.GetProperty("detections").EnumerateArray());
        Assert.Equal("192.0.2.1", d.GetProperty("source").GetString());
        Assert.Equal(["tcp-syn", "vertical"], d.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(["192.0.2.2"], d.GetProperty("targets").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(200, d.GetProperty("ports").GetInt32());
        Assert.True(d.GetProperty("probes").GetInt64() >= 200);
        DateTimeOffset first = DateTimeOffset.Parse(d.GetProperty("first").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        DateTimeOffset last = DateTimeOffset.Parse(d.GetProperty("last").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(last >= first);
        Assert.EndsWith("Z", d.GetProperty("first").GetString());
        Assert.Matches(@"^\d+ packets, 0 malformed, 1 detections, [\d.]+ s, \d+ packets/s", stderr);
    }

    [Fact]
    public void Jsonl_streams_one_detection_per_line()
    {
        var (exit, stdout, stderr) = Analyze([CorpusFiles.PathOf("decoy.pcap")], "jsonl");
        Assert.Equal(0, exit);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        foreach (string line in lines)
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            Assert.Contains("distributed", doc.RootElement.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        }
        Assert.Contains("3 detections", stderr);
    }

    [Fact]
    public void Table_output_lists_detections_then_the_summary()
    {
        var (exit, stdout, _) = Analyze([CorpusFiles.PathOf("udp.pcap"), CorpusFiles.PathOf("benign-web.pcap")]);
        Assert.Equal(0, exit);
        string[] lines = stdout.TrimEnd().Split('\n');
        Assert.StartsWith("SOURCE", lines[0]);
        Assert.Contains("udp,vertical", lines[1]);
        Assert.Matches(@"^\d+ packets, 0 malformed, 1 detections", lines[^1]);
    }

    [Fact]
    public void A_missing_file_is_named_and_fails_before_any_output()
    {
        var (exit, stdout, stderr) = Analyze([CorpusFiles.PathOf("tcp-syn.pcap"), "/nonexistent/scan.pcap"]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains("/nonexistent/scan.pcap: no such file", stderr);
    }

    [Fact]
    public void A_file_that_is_not_a_capture_is_named_with_libpcaps_reason()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ps-not-a-capture-{Guid.NewGuid():N}.pcap");
        File.WriteAllText(path, "this is not a capture file, just text that is long enough");
        try
        {
            var (exit, _, stderr) = Analyze([path]);
            Assert.Equal(ExitCodes.BadInput, exit);
            Assert.Contains(path, stderr);
            Assert.Contains("cannot read as a capture", stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("tcp-syn.pcap", "table")]
    [InlineData("tcp-syn.pcap", "json")]
    [InlineData("tcp-syn.pcap", "jsonl")]
    [InlineData("tcp-fin.pcapng", "table")]
    [InlineData("tcp-fin.pcapng", "json")]
    [InlineData("tcp-fin.pcapng", "jsonl")]
    public void A_truncated_capture_reports_what_was_read_and_warns_with_the_count_and_offset(string corpusFile, string format)
    {
        // The last five bytes cut off, as a capture copied while it was still being written.
        string cut = CutCopy(corpusFile, 5);
        try
        {
            var (packets, offset) = CompletePackets(cut);
            var (exit, stdout, stderr) = Analyze([cut], format);
            Assert.Equal(ExitCodes.Truncated, exit);
            Assert.Contains($"portsentinel: WARNING: {cut}: damaged or cut short at byte {offset}, after {packets} packets;", stderr);
            string source = format switch
            {
                "json" => JsonDocument.Parse(stdout).RootElement.GetProperty("detections")[0].GetProperty("source").GetString()!,
                "jsonl" => JsonDocument.Parse(stdout.Split('\n')[0]).RootElement.GetProperty("source").GetString()!,
                _ => stdout.Split('\n')[1].Split(' ')[0],
            };
            Assert.Equal("192.0.2.1", source);
            Assert.Contains(corpusFile.StartsWith("tcp-syn", StringComparison.Ordinal) ? "tcp-syn" : "tcp-fin", stdout);
            Assert.Contains($"{packets} packets, 0 malformed, 1 detections", format == "table" ? stdout : stderr);
            if (format == "json")
            {
                JsonElement damaged = Assert.Single(JsonDocument.Parse(stdout).RootElement.GetProperty("damaged").EnumerateArray());
                Assert.Equal(cut, damaged.GetProperty("file").GetString());
                Assert.Equal(packets, damaged.GetProperty("packets").GetInt64());
                Assert.Equal(offset, damaged.GetProperty("offset").GetInt64());
                Assert.Contains("truncated", damaged.GetProperty("reason").GetString());
            }
        }
        finally
        {
            File.Delete(cut);
        }
    }

    [Fact]
    public void After_a_truncated_capture_the_next_files_are_still_analysed()
    {
        string cut = CutCopy("tcp-syn.pcap", 5);
        try
        {
            var (exit, stdout, stderr) = Analyze([cut, CorpusFiles.PathOf("udp.pcap")], "json");
            Assert.Equal(ExitCodes.Truncated, exit);
            Assert.Contains($"WARNING: {cut}: damaged or cut short", stderr);
            using JsonDocument doc = JsonDocument.Parse(stdout);
            var kinds = doc.RootElement.GetProperty("detections").EnumerateArray()
                .SelectMany(d => d.GetProperty("kinds").EnumerateArray().Select(k => k.GetString())).ToList();
            Assert.Contains("tcp-syn", kinds);
            Assert.Contains("udp", kinds);
        }
        finally
        {
            File.Delete(cut);
        }
    }

    [Fact]
    public void A_capture_damaged_in_the_middle_reports_the_packets_before_and_where_the_bad_record_starts()
    {
        // Record 100 claims 4 GB captured: libpcap stops there.
        byte[] bytes = File.ReadAllBytes(CorpusFiles.PathOf("tcp-syn.pcap"));
        int offset = 24;
        for (int i = 0; i < 100; i++)
        {
            offset += 16 + BitConverter.ToInt32(bytes, offset + 8);
        }
        BitConverter.GetBytes(0xFFFF_FF00u).CopyTo(bytes, offset + 8);
        string path = Path.Combine(Path.GetTempPath(), $"ps-damaged-{Guid.NewGuid():N}.pcap");
        File.WriteAllBytes(path, bytes);
        try
        {
            var (exit, _, stderr) = Analyze([path], "json");
            Assert.Equal(ExitCodes.Truncated, exit);
            Assert.Contains($"WARNING: {path}: damaged or cut short at byte {offset}, after 100 packets;", stderr);
            Assert.Contains("capture length", stderr); // libpcap's reason
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string CutCopy(string corpusFile, int bytes)
    {
        byte[] whole = File.ReadAllBytes(CorpusFiles.PathOf(corpusFile));
        string path = Path.Combine(Path.GetTempPath(), $"ps-cut-{Guid.NewGuid():N}-{corpusFile}");
        File.WriteAllBytes(path, whole[..^bytes]);
        return path;
    }

    /// <summary>The packets stored whole in a little-endian pcap or pcapng file, and the offset where the first one that is not begins.</summary>
    private static (long Packets, long Offset) CompletePackets(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bool pcapng = BitConverter.ToUInt32(bytes, 0) == 0x0A0D0D0A;
        long packets = 0;
        int offset = pcapng ? 0 : 24;
        while (true)
        {
            if (offset + (pcapng ? 8 : 16) > bytes.Length)
            {
                return (packets, offset);
            }
            int length = pcapng ? BitConverter.ToInt32(bytes, offset + 4) : 16 + BitConverter.ToInt32(bytes, offset + 8);
            if (offset + length > bytes.Length)
            {
                return (packets, offset);
            }
            if (!pcapng || BitConverter.ToUInt32(bytes, offset) == 6)
            {
                packets++;
            }
            offset += length;
        }
    }

    [Theory]
    [InlineData("Detection:VerticalPorts=0", "Detection:VerticalPorts is 0")]
    [InlineData("Detection:VerticalPort=5", "Detection:VerticalPort (--set) is not a setting")]
    [InlineData("Detection:WindowSeconds=soon", "Detection:WindowSeconds")]
    [InlineData("VerticalPorts", "expected Section:Key=value")]
    public void Bad_settings_stop_with_the_key_named(string setting, string message)
    {
        var (exit, stdout, stderr) = Analyze([CorpusFiles.PathOf("tcp-syn.pcap")], set: [setting]);
        Assert.Equal(ExitCodes.BadConfiguration, exit);
        Assert.Equal("", stdout);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public void A_configuration_file_sets_thresholds()
    {
        // A tripwire on port 80 turns one benign web client into a detection.
        string path = Path.Combine(Path.GetTempPath(), $"ps-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "Detection": { "TripwireTcpPorts": [ 80 ] } }""");
        try
        {
            var (exit, stdout, _) = Analyze([CorpusFiles.PathOf("benign-refused.pcap"), CorpusFiles.PathOf("benign-web.pcap")], "json", config: new FileInfo(path));
            Assert.Equal(0, exit);
            using JsonDocument doc = JsonDocument.Parse(stdout);
            var detections = doc.RootElement.GetProperty("detections").EnumerateArray().ToList();
            Assert.NotEmpty(detections);
            Assert.All(detections, d => Assert.Contains("tripwire", d.GetProperty("kinds").EnumerateArray().Select(k => k.GetString())));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_repository_script_builds_and_runs_the_cli_and_reads_environment_settings()
    {
        string script = Path.Combine(CorpusFiles.Root, "portsentinel");
        var (exit, stdout, _) = RunScript(script, [], "analyze", "--format", "json", CorpusFiles.PathOf("tcp-fin.pcapng"));
        Assert.Equal(0, exit);
        using (JsonDocument doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal("192.0.2.1", doc.RootElement.GetProperty("detections")[0].GetProperty("source").GetString());
        }

        var (badExit, _, stderr) = RunScript(script, [("PORTSENTINEL__Detection__HorizontalHosts", "-3")], "analyze", CorpusFiles.PathOf("tcp-syn.pcap"));
        Assert.Equal(ExitCodes.BadConfiguration, badExit);
        Assert.Contains("Detection:HorizontalHosts is -3", stderr);
    }

    private static (int Exit, string Out, string Err) RunScript(string script, (string Name, string Value)[] environment, params string[] args) =>
        ProcessRunner.RunApart(script, args, TimeSpan.FromMinutes(5), environment);
}
