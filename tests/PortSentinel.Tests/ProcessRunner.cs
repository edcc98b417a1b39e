using System.Diagnostics;

namespace PortSentinel.Tests;

/// <summary>Runs a program to completion, bounded in time, and returns its exit code and output.</summary>
internal static class ProcessRunner
{
    public static (int Exit, string Output) Run(string file, IEnumerable<string> arguments, TimeSpan limit, params (string Name, string Value)[] environment)
    {
        var (exit, output, errors) = RunApart(file, arguments, limit, environment);
        return (exit, output + errors);
    }

    /// <summary>As <see cref="Run"/>, with standard output and standard error apart.</summary>
    public static (int Exit, string Output, string Errors) RunApart(string file, IEnumerable<string> arguments, TimeSpan limit, params (string Name, string Value)[] environment) =>
        RunWithInput(file, arguments, null, limit, environment);

    /// <summary>As <see cref="RunApart"/>, with <paramref name="input"/> (when not null) on standard input, which is then closed.</summary>
    public static (int Exit, string Output, string Errors) RunWithInput(string file, IEnumerable<string> arguments, string? input, TimeSpan limit, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using Process process = Process.Start(start)!;
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} ran past {limit}");
        }
        return (process.ExitCode, output.Result, errors.Result);
    }
}
