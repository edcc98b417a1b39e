using System.Collections.Concurrent;
using System.Diagnostics;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests;

/// <summary>
/// <c>portsentinel run</c> as a real process inside a namespace of the test's own, capturing on
/// its end of the veth pair, its output kept line by line.
/// </summary>
internal sealed class SensorProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    public SensorProcess(string ns, string dataDirectory, string firewall = "nftables", string[]? wrapper = null, string[]? extra = null)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "netns", "exec", ns }.Concat(wrapper ?? []).Concat(["dotnet", Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll"),
            "run", "--interface", NamespacePair.TargetDevice, "--data-dir", dataDirectory, "--firewall", firewall, .. extra ?? []]))
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output => string.Join('\n', _lines);

    public void WaitFor(string text)
    {
        var clock = Stopwatch.StartNew();
        while (!_lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited)
            {
                Assert.Fail($"the sensor exited ({_process.ExitCode}):\n{Output}");
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"no \"{text}\" within a minute:\n{Output}");
            Thread.Sleep(50);
        }
    }

    /// <summary>SIGHUP: read the configuration again.</summary>
    public void HangUp() => Signal("HUP");

    /// <summary>SIGSTOP: the process stops running until <see cref="Resume"/>.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>SIGCONT.</summary>
    public void Resume() => Signal("CONT");

    /// <summary>SIGTERM, then the exit code.</summary>
    public int Terminate()
    {
        Assert.False(_process.HasExited, $"the sensor stopped by itself (exit {(_process.HasExited ? _process.ExitCode : 0)}):\n{Output}");
        Signal("TERM");
        Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(30)), $"the sensor did not stop on SIGTERM:\n{Output}");
        _process.WaitForExit(); // flush the output handlers
        return _process.ExitCode;
    }

    /// <summary>SIGINT, then whether the process ended within <paramref name="within"/>.</summary>
    public bool Interrupt(TimeSpan within)
    {
        Assert.False(_process.HasExited, $"the sensor stopped by itself:\n{Output}");
        Signal("INT");
        bool ended = _process.WaitForExit(within);
        if (ended)
        {
            _process.WaitForExit(); // flush the output handlers
        }
        return ended;
    }

    private void Signal(string name)
    {
        using Process kill = Process.Start("kill", [$"-{name}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
        }
    }
}
