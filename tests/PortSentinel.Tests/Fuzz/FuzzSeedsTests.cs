using PortSentinel.Cli.Commands;
using PortSentinel.Decode;
using PortSentinel.Fuzz;
using PortSentinel.Tests.Corpus;

namespace PortSentinel.Tests.Fuzz;

/// <summary>
/// What CI keeps of the fuzzing (docs/fuzzing.md): every seed, and every input that once broke a
/// target (tests/fuzz/crashes/TARGET), run once in process through the harness's own targets, so
/// the contract each target checks is the one the fuzzer checked. Neither afl-fuzz nor the
/// sharpfuzz tool is needed.
/// </summary>
public sealed class FuzzSeedsTests : IDisposable
{
    private readonly FuzzTargets _targets = new();

    public static TheoryData<string> Targets() => [.. FuzzTargets.Names];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_seed_keeps_the_targets_contract(string target)
    {
        IReadOnlyList<(string Name, byte[] Input)> seeds = FuzzSeeds.For(target, CorpusFiles.Root);
        Assert.NotEmpty(seeds);
        RunAll(target, seeds);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_input_that_once_broke_a_target_keeps_its_contract(string target) =>
        RunAll(target, FuzzSeeds.Crashes(target, CorpusFiles.Root));

    [Fact]
    public void The_decode_seeds_frame_ip_in_every_link_type()
    {
        var seen = FuzzSeeds.For("decode", CorpusFiles.Root).Select(s => FuzzTargets.LinkTypes[s.Input[0] % FuzzTargets.LinkTypes.Length]).ToHashSet();
        Assert.All(Enum.GetValues<LinkType>(), link => Assert.Contains(link, seen));
    }

    [Fact]
    public void The_settings_seeds_are_valid_settings()
    {
        // A seed that is refused only exercises the refusal; each should reach the whole of loading.
        foreach ((string name, byte[] input) in FuzzSeeds.For("settings", CorpusFiles.Root))
        {
            string path = Path.Combine(Path.GetTempPath(), $"portsentinel-seed-{Guid.NewGuid():N}.json");
            File.WriteAllBytes(path, input);
            try
            {
                var exception = Xunit.Record.Exception(() => SensorSettings.Load(new SettingsSources(new FileInfo(path), [], null, null)));
                Assert.True(exception is null, $"{name}: {exception?.Message}");
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    private void RunAll(string target, IReadOnlyList<(string Name, byte[] Input)> inputs)
    {
        foreach ((string name, byte[] input) in inputs)
        {
            var exception = Xunit.Record.Exception(() => _targets.Run(target, input));
            Assert.True(exception is null, $"{target}/{name}: {exception}");
        }
    }

    public void Dispose() => _targets.Dispose();
}
