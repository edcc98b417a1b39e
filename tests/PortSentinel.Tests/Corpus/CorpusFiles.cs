using System.Text.Json;

namespace PortSentinel.Tests.Corpus;

/// <summary>The captures in tests/corpus and their labels (tests/corpus/labels.json).</summary>
public static class CorpusFiles
{
    public static string Root { get; } = FindRepositoryRoot();

    public static string Directory => Path.Combine(Root, "tests", "corpus");

    public static string PathOf(string file) => Path.Combine(Directory, file);

    public static IReadOnlyList<Capture> Captures { get; } = Load();

    public static IEnumerable<string> CaptureFiles => Captures.Select(c => PathOf(c.File));

    public sealed record Expectation(string Source, string[] Kinds);

    public sealed record Capture(string File, string Command, bool Benign, Expectation[] Expect);

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PortSentinel.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"PortSentinel.slnx not found above {AppContext.BaseDirectory}");
    }

    private static List<Capture> Load()
    {
        using JsonDocument labels = JsonDocument.Parse(File.ReadAllText(PathOf("labels.json")));
        var captures = new List<Capture>();
        foreach (JsonElement c in labels.RootElement.GetProperty("captures").EnumerateArray())
        {
            var expect = c.GetProperty("expect").EnumerateArray()
                .Select(e => new Expectation(
                    e.GetProperty("source").GetString()!,
                    [.. e.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()!)]))
                .ToArray();
            captures.Add(new Capture(c.GetProperty("file").GetString()!, c.GetProperty("command").GetString()!, c.GetProperty("benign").GetBoolean(), expect));
        }
        return captures;
    }
}
