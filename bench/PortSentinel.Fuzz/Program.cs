using SharpFuzz;

namespace PortSentinel.Fuzz;

/// <summary>
/// The fuzzing harness, run by bench/fuzz.sh under afl-fuzz (docs/fuzzing.md):
/// <c>PortSentinel.Fuzz decode|pcap|settings</c> reads each input from stdin through SharpFuzz;
/// <c>PortSentinel.Fuzz seeds TARGET ROOT DIR</c> writes the target's seeds from the repository at
/// ROOT into DIR; <c>PortSentinel.Fuzz replay TARGET FILE…</c> runs files once each and names
/// the exception of each that fails.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["seeds", string seedTarget, string root, string directory])
        {
            Directory.CreateDirectory(directory);
            foreach ((string name, byte[] input) in FuzzSeeds.For(seedTarget, root))
            {
                File.WriteAllBytes(Path.Combine(directory, name), input);
            }
            return 0;
        }
        if (args is ["replay", string replayTarget, .. string[] files])
        {
            return Replay(replayTarget, files);
        }
        if (args is [string target] && FuzzTargets.Names.Contains(target))
        {
            // Made on the first input: instrumented code that runs before SharpFuzz maps afl's
            // coverage memory writes through a null pointer.
            FuzzTargets? targets = null;
            var buffer = new MemoryStream();
            void Once(Stream stream)
            {
                targets ??= new FuzzTargets();
                buffer.SetLength(0);
                stream.CopyTo(buffer);
                targets.Run(target, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
            }
            if (target == "pcap")
            {
                // libpcap is native code: a fault there would kill an in-process fork server, so
                // the pcap target runs in a child process that SharpFuzz restarts when it dies.
                Fuzzer.OutOfProcess.Run(Once);
            }
            else
            {
                Fuzzer.Run(Once);
            }
            targets?.Dispose();
            return 0;
        }
        Console.Error.WriteLine($"usage: PortSentinel.Fuzz {string.Join("|", FuzzTargets.Names)}  (input on stdin, under afl-fuzz)");
        Console.Error.WriteLine("       PortSentinel.Fuzz seeds TARGET REPOSITORY_ROOT DIR");
        Console.Error.WriteLine("       PortSentinel.Fuzz replay TARGET FILE...");
        return 2;
    }

    private static int Replay(string target, string[] files)
    {
        using var targets = new FuzzTargets();
        int failed = 0;
        foreach (string file in files)
        {
            try
            {
                targets.Run(target, File.ReadAllBytes(file));
                Console.WriteLine($"ok      {file}");
            }
#pragma warning disable CA1031 // Replay reports whatever a crash input throws.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failed++;
                Console.WriteLine($"FAILED  {file}: {e.GetType().Name}: {e.Message}");
                Console.WriteLine(e.StackTrace);
            }
        }
        return failed == 0 ? 0 : 1;
    }
}
