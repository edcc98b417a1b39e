using BenchmarkDotNet.Running;

namespace PortSentinel.Benchmarks;

/// <summary>
/// The capture path's benchmarks: <c>dotnet run -c Release --project bench/PortSentinel.Benchmarks -- --filter '*'</c>
/// (add <c>--job short</c> for a quick look). Every benchmark here must show 0 B allocated per
/// operation: capture, decode and detect allocate nothing per packet (STYLE.md, rule 2).
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
