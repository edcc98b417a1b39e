using System.Text.Json;
using PortSentinel.Cli.Commands;

namespace PortSentinel.Tests.Synthetic;

/// <summary>The bench command end to end on the smallest capture; no timing is asserted.</summary>
public class BenchCommandTests
{
    [Fact]
    public void Bench_reports_every_planted_scanner_found_and_keeps_a_named_file_for_reuse()
    {
        using var file = new TempFile();
        var output = new StringWriter();
        var errors = new StringWriter();

        int code = BenchCommand.Run(new BenchSettings(100_000, file.Path, Runs: 1, Seed: 1, Format: "json"), output, errors);

        Assert.True(code == 0, errors.ToString() + output);
        Assert.True(File.Exists(file.Path));
        using (JsonDocument json = JsonDocument.Parse(output.ToString()))
        {
            JsonElement root = json.RootElement;
            Assert.Equal(100_000, root.GetProperty("packets").GetInt64());
            Assert.True(root.GetProperty("capture").GetProperty("generated").GetBoolean());
            Assert.True(root.GetProperty("bare").GetProperty("packetsPerSecond").GetDouble() > 0);
            Assert.True(root.GetProperty("full").GetProperty("packetsPerSecond").GetDouble() > 0);
            Assert.Equal(0, root.GetProperty("malformed").GetInt64());
            Assert.Equal(6, root.GetProperty("planted").GetArrayLength());
            Assert.All(root.GetProperty("planted").EnumerateArray(), p => Assert.True(p.GetProperty("found").GetBoolean(), p.ToString()));
            Assert.Equal(0, root.GetProperty("unexpected").GetArrayLength());
        }

        // A second run reads the kept file instead of writing one.
        var table = new StringWriter();
        code = BenchCommand.Run(new BenchSettings(100_000, file.Path, Runs: 1, Seed: 1, Format: "table"), table, errors);
        Assert.Equal(0, code);
        Assert.Contains("existing file", table.ToString());
        Assert.Contains("other sources detected: none", table.ToString());
    }

    [Fact]
    public void A_file_that_is_not_a_capture_is_bad_input()
    {
        using var file = new TempFile();
        File.WriteAllText(file.Path, "not a capture");
        var errors = new StringWriter();

        int code = BenchCommand.Run(new BenchSettings(100_000, file.Path, Runs: 1, Seed: 1, Format: "table"), new StringWriter(), errors);

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(file.Path, errors.ToString());
    }

    [Theory]
    [InlineData("--packets", "10")]
    [InlineData("--runs", "0")]
    [InlineData("--format", "xml")]
    public void Invalid_options_are_rejected_before_anything_runs(string option, string value)
    {
        var result = PortSentinel.Cli.Program.BuildRoot().Parse(["bench", option, value]);
        Assert.NotEmpty(result.Errors);
    }
}
