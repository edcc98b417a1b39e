using System.Text.RegularExpressions;
using PortSentinel.Tests.Corpus;

namespace PortSentinel.Tests;

/// <summary>
/// The library's folders are the pipeline's stages (and a floor of small shared types): each may
/// use the ones before it, never one that uses it back, and none uses the root namespace, which
/// only wires them together. Read from the sources' using lines and qualified names, so that the
/// layout cannot drift back into cycles.
/// </summary>
public sealed partial class StageLayoutTests
{
    private static readonly string _library = Path.Combine(CorpusFiles.Root, "src", "PortSentinel");

    [Fact]
    public void No_stage_folder_of_the_library_depends_on_a_folder_that_depends_on_it()
    {
        var edges = StageGraph.Read(_library);
        Assert.True(edges.Keys.Count >= 10, $"expected the library's stage folders, found {string.Join(", ", edges.Keys)}");

        List<string> cycles = StageGraph.Cycles(edges);
        Assert.True(cycles.Count == 0, string.Join(Environment.NewLine, cycles));
    }

    [Fact]
    public void No_stage_folder_uses_a_type_of_the_root_namespace()
    {
        var edges = StageGraph.Read(_library);

        string[] uses = [.. edges.SelectMany(e => e.Value.Where(d => d.Key == StageGraph.Root).Select(d => $"{e.Key} uses the root namespace: {d.Value}"))];
        Assert.True(uses.Length == 0, string.Join(Environment.NewLine, uses));
    }

    [Fact]
    public void The_check_finds_a_cycle_through_using_lines_qualified_names_and_the_root_namespace()
    {
        string tree = Directory.CreateTempSubdirectory("ps-layout-").FullName;
        try
        {
            Write(tree, "Decide/Decider.cs", "using PortSentinel.Detect;\nnamespace PortSentinel.Decide;\npublic sealed class Decider { public Intel.Verdict? V; }");
            Write(tree, "Intel/Verdict.cs", "using PortSentinel.Decide;\nnamespace PortSentinel.Intel;\npublic sealed record Verdict(Severity S);");
            Write(tree, "Detect/Detector.cs", "namespace PortSentinel.Detect;\n// Record.cs is a comment, not a use\npublic sealed class Detector { Helper h; string s = \"Record.X\"; }");
            Write(tree, "Record/Store.cs", "namespace PortSentinel.Record;\n/// <summary>Kept by <see cref=\"Helper\"/>.</summary>\npublic sealed class Store;");
            Write(tree, "Helper.cs", "namespace PortSentinel;\npublic sealed class Helper;");

            var edges = StageGraph.Read(tree);

            Assert.StartsWith("Decide → Intel → Decide (Decide/Decider.cs: Intel.V; Intel/Verdict.cs: using PortSentinel.Decide", Assert.Single(StageGraph.Cycles(edges)), StringComparison.Ordinal);
            Assert.Equal("Detect/Detector.cs: Helper", edges["Detect"][StageGraph.Root]);
            Assert.False(edges["Detect"].ContainsKey("Record"), "a comment or a string counted as a use");
            Assert.Equal("Record/Store.cs: Helper", edges["Record"][StageGraph.Root]);
        }
        finally
        {
            Directory.Delete(tree, recursive: true);
        }
    }

    private static void Write(string root, string file, string text)
    {
        string path = Path.Combine(root, file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>Which folder of the library uses which: folder → (folder it uses → the first file and name that shows it).</summary>
    private static partial class StageGraph
    {
        public const string Root = "(root namespace)";

        public static Dictionary<string, Dictionary<string, string>> Read(string library)
        {
            string[] folders = [.. Directory.GetDirectories(library).Select(Path.GetFileName).OfType<string>().Where(f => f is not ("bin" or "obj"))];
            string[] rootTypes = [.. Directory.GetFiles(library, "*.cs").SelectMany(f => TypeDeclaration().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value))];
            var qualified = new Regex($@"(?<![\w.])(?:PortSentinel\.)?({string.Join('|', folders)})\.[A-Z]");
            Regex? root = rootTypes.Length == 0 ? null : new Regex($@"(?<![\w.])({string.Join('|', rootTypes)})\b");
            var edges = folders.ToDictionary(f => f, _ => new Dictionary<string, string>());
            foreach (string folder in folders)
            {
                foreach (string file in Directory.GetFiles(Path.Combine(library, folder), "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    string name = Path.GetRelativePath(library, file).Replace('\\', '/');
                    if (name.Split('/').Any(part => part is "bin" or "obj"))
                    {
                        continue;
                    }
                    string code = Code(File.ReadAllText(file));
                    foreach (Match use in UsingLine().Matches(code).Concat(qualified.Matches(code)))
                    {
                        if (use.Groups[1].Value != folder && folders.Contains(use.Groups[1].Value))
                        {
                            edges[folder].TryAdd(use.Groups[1].Value, $"{name}: {use.Value.Trim()}");
                        }
                    }
                    if (root?.Match(code) is { Success: true } type)
                    {
                        edges[folder].TryAdd(Root, $"{name}: {type.Value}");
                    }
                }
            }
            return edges;
        }

        /// <summary>Each cycle once, as "A → B → A", starting from its first folder in order.</summary>
        public static List<string> Cycles(Dictionary<string, Dictionary<string, string>> edges)
        {
            var cycles = new SortedSet<string>(StringComparer.Ordinal);
            foreach (string start in edges.Keys.Order(StringComparer.Ordinal))
            {
                var path = new List<string> { start };
                void Walk(string at)
                {
                    foreach (string next in edges.GetValueOrDefault(at)?.Keys.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>())
                    {
                        if (next == start)
                        {
                            cycles.Add(string.Join(" → ", path.Append(start)));
                        }
                        else if (!path.Contains(next) && string.CompareOrdinal(next, start) > 0)
                        {
                            path.Add(next);
                            Walk(next);
                            path.RemoveAt(path.Count - 1);
                        }
                    }
                }
                Walk(start);
            }
            return [.. cycles.Select(c => $"{c} ({string.Join("; ", Pairs(c).Select(p => edges[p.From][p.To]))})")];
        }

        private static IEnumerable<(string From, string To)> Pairs(string cycle)
        {
            string[] stages = cycle.Split(" → ");
            return stages.Zip(stages.Skip(1));
        }

        /// <summary>The code without comments that are not documentation, and without string literals' contents (but with the names that documentation refers to).</summary>
        private static string Code(string text) => StringLiteral().Replace(Cref().Replace(LineComment().Replace(text, ""), "cref=$1 "), "\"\"");

        [GeneratedRegex(@"cref=""([^""]*)""")]
        private static partial Regex Cref();

        [GeneratedRegex(@"^\s*using (?:static )?PortSentinel\.(\w+)", RegexOptions.Multiline)]
        private static partial Regex UsingLine();

        [GeneratedRegex(@"(?<!/)//(?!/).*$", RegexOptions.Multiline)]
        private static partial Regex LineComment();

        [GeneratedRegex(@"""(?:[^""\\\n]|\\.)*""")]
        private static partial Regex StringLiteral();

        [GeneratedRegex(@"^\s*(?:public |internal )?(?:sealed |static |abstract |readonly |partial |ref )*(?:class|record|struct|interface|enum|delegate \w+) (\w+)", RegexOptions.Multiline)]
        private static partial Regex TypeDeclaration();
    }
}
