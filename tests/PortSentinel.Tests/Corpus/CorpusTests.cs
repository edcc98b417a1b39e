using PortSentinel.Analysis;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Tests.Corpus;

/// <summary>
/// Real nmap scans and benign traffic recorded between two network namespaces
/// (tests/corpus/generate.sh): every scan is labelled correctly, every benign capture is silent.
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
        AnalysisResult result = OfflineAnalysis.Run([CorpusFiles.PathOf(file)], new DetectorOptions());
        string report = Describe(result);

        Assert.Equal(0, result.Malformed);
        foreach (CorpusFiles.Expectation expect in capture.Expect)
        {
            var source = NetAddress.Parse(expect.Source);
            ScanKinds reported = result.Detections.Where(d => d.Source == source).Aggregate(ScanKinds.None, (k, d) => k | d.Kinds);
            Assert.True(reported != ScanKinds.None, $"{file} ({capture.Command}): {expect.Source} was not detected.\n{report}");
            ScanKinds expected = expect.Kinds.Aggregate(ScanKinds.None, (k, name) => k | Parse(name));
            // The probe kinds must be exactly those labelled; the labelled shapes must be among those reported.
            Assert.True((reported & ~Shapes) == (expected & ~Shapes), $"{file}: {expect.Source} probe kinds differ: expected [{Names(expected & ~Shapes)}], reported [{Names(reported & ~Shapes)}].\n{report}");
            Assert.True((reported & expected & Shapes) == (expected & Shapes), $"{file}: {expect.Source} shapes: expected at least [{Names(expected & Shapes)}], reported [{Names(reported & Shapes)}].\n{report}");
        }
        var expectedSources = capture.Expect.Select(e => NetAddress.Parse(e.Source)).ToHashSet();
        Assert.True(result.Detections.All(d => expectedSources.Contains(d.Source)), $"{file}: a source that did not scan was reported.\n{report}");
    }

    [Theory]
    [MemberData(nameof(Benign))]
    public void Benign_traffic_raises_nothing(string file)
    {
        AnalysisResult result = OfflineAnalysis.Run([CorpusFiles.PathOf(file)], new DetectorOptions());
        Assert.True(result.Packets > 0);
        Assert.True(result.Detections.Count == 0, $"{file}: {Describe(result)}");
    }

    private static ScanKinds Parse(string name) =>
        ScanKindNames.TryParse(name, out ScanKinds kind) ? kind : throw new InvalidOperationException($"labels.json names an unknown kind '{name}'");

    private static string Names(ScanKinds kinds) => string.Join(", ", ScanKindNames.Names(kinds));

    private static string Describe(AnalysisResult result) =>
        $"{result.Packets} packets, {result.Detections.Count} detections:\n" + string.Join("\n", result.Detections.Select(d =>
            $"  {d.Source} [{Names(d.Kinds)}] targets={d.TargetCount} ports={d.Ports} probes={d.Probes} trigger={d.Trigger} outcomes={d.Outcomes}"));
}
