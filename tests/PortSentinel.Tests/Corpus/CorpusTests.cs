using System.Text.Json;
using PortSentinel.Cli.Commands;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Tests.Corpus;

/// <summary>
/// Real nmap scans and benign traffic recorded between two network namespaces
/// (tests/corpus/generate.sh): <c>portsentinel analyze --format json</c> labels every scan
/// correctly and stays silent on every benign capture.
/// </summary>
public class CorpusTests
{
    private const ScanKinds Shapes = ScanKinds.Vertical | ScanKinds.Horizontal | ScanKinds.Block | ScanKinds.Slow | ScanKinds.Distributed | ScanKinds.Tripwire;

    public static TheoryData<string> Scans() => [.. CorpusFiles.Captures.Where(c => !c.Benign).Select(c => c.File)];

    public static TheoryData<string> Benign() => [.. CorpusFiles.Captures.Where(c => c.Benign).Select(c => c.File)];

    [Fact]
    public void The_corpus_has_every_scan_kind_and_benign_captures()
    {
        var labelled = CorpusFiles.Captures.SelectMany(c => c.Expect).SelectMany(e => e.Kinds).ToHashSet();
        foreach (string kind in ScanKindNames.All.Where(k => k != "tripwire" && k != "tcp-other"))
        {
            Assert.Contains(kind, labelled);
        }
        Assert.True(CorpusFiles.Captures.Count(c => c.Benign) >= 5);
    }

    [Theory]
    [MemberData(nameof(Scans))]
    public void Each_scan_is_labelled_as_what_it_is(string file)
    {
        CorpusFiles.Capture capture = CorpusFiles.Captures.Single(c => c.File == file);
        Analysis result = Analyze(file);

        Assert.Equal(0, result.Malformed);
        Assert.True(result.Detections.All(d => d.Kinds != ScanKinds.None), $"{file}: a detection without a kind.\n{result.Report}");
        foreach (CorpusFiles.Expectation expect in capture.Expect)
        {
            ScanKinds reported = result.Detections.Where(d => d.Source == NetAddress.Parse(expect.Source)).Aggregate(ScanKinds.None, (k, d) => k | d.Kinds);
            Assert.True(reported != ScanKinds.None, $"{file} ({capture.Command}): {expect.Source} was not detected.\n{result.Report}");
            ScanKinds expected = expect.Kinds.Aggregate(ScanKinds.None, (k, name) => k | Parse(name));
            // The probe kinds must be exactly those labelled; the labelled shapes must be among those reported.
            Assert.True((reported & ~Shapes) == (expected & ~Shapes), $"{file}: {expect.Source} probe kinds differ: expected [{Names(expected & ~Shapes)}], reported [{Names(reported & ~Shapes)}].\n{result.Report}");
            Assert.True((reported & expected & Shapes) == (expected & Shapes), $"{file}: {expect.Source} shapes: expected at least [{Names(expected & Shapes)}], reported [{Names(reported & Shapes)}].\n{result.Report}");
        }
        var expectedSources = capture.Expect.Select(e => NetAddress.Parse(e.Source)).ToHashSet();
        Assert.True(result.Detections.All(d => expectedSources.Contains(d.Source)), $"{file}: a source that did not scan was reported.\n{result.Report}");
    }

    [Theory]
    [MemberData(nameof(Benign))]
    public void Benign_traffic_raises_nothing(string file)
    {
        Analysis result = Analyze(file);
        Assert.True(result.Packets > 0);
        Assert.True(result.Detections.Count == 0, $"{file}: {result.Report}");
    }

    private sealed record Reported(NetAddress Source, ScanKinds Kinds);

    private sealed record Analysis(long Packets, long Malformed, List<Reported> Detections, string Report);

    /// <summary>Runs <c>analyze --format json</c> on one capture and reads its output back.</summary>
    private static Analysis Analyze(string file)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int exit = AnalyzeCommand.Run([CorpusFiles.PathOf(file)], "json", config: null, overrides: [], output, errors);
        Assert.True(exit == 0, $"analyze {file} exited {exit}: {errors}");
        using JsonDocument doc = JsonDocument.Parse(output.ToString());
        JsonElement root = doc.RootElement;
        var detections = root.GetProperty("detections").EnumerateArray()
            .Select(d => new Reported(
                NetAddress.Parse(d.GetProperty("source").GetString()!),
                d.GetProperty("kinds").EnumerateArray().Aggregate(ScanKinds.None, (k, name) => k | Parse(name.GetString()!))))
            .ToList();
        return new Analysis(root.GetProperty("packets").GetInt64(), root.GetProperty("malformed").GetInt64(), detections, output.ToString());
    }

    private static ScanKinds Parse(string name) =>
        ScanKindNames.TryParse(name, out ScanKinds kind) ? kind : throw new InvalidOperationException($"labels.json names an unknown kind '{name}'");

    private static string Names(ScanKinds kinds) => string.Join(", ", ScanKindNames.Names(kinds));
}
