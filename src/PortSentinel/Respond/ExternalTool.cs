using System.ComponentModel;
using System.Diagnostics;

namespace PortSentinel.Respond;

/// <summary>Runs a firewall tool (ipset, iptables…) with arguments and optional input, bounded in time.</summary>
internal static class ExternalTool
{
    public static (int Exit, string Output) Run(string file, IEnumerable<string> arguments, string? input = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            throw new FirewallException($"{file} cannot be run ({e.Message}); install it (deploy/install-deps.sh lists the packages).", e);
        }
        using (process)
        {
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> errors = process.StandardError.ReadToEndAsync();
            if (input is not null)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new FirewallException($"{file} {string.Join(' ', arguments)} did not finish within a minute.");
            }
            return (process.ExitCode, (output.Result + errors.Result).Trim());
        }
    }

    /// <summary>
    /// Makes sure <paramref name="chain"/> exists in the raw table of <paramref name="tables"/>
    /// (iptables or ip6tables) and is jumped to first from PREROUTING, once.
    /// </summary>
    public static void RequireRawChain(string backend, string tables, string chain)
    {
        if (Run(tables, ["-w", "-t", "raw", "-n", "-L", chain]).Exit != 0)
        {
            Require(backend, tables, ["-w", "-t", "raw", "-N", chain]);
        }
        if (!JumpsTo(tables, chain))
        {
            Require(backend, tables, ["-w", "-t", "raw", "-I", "PREROUTING", "-j", chain]);
        }
    }

    /// <summary>Whether PREROUTING of <paramref name="tables"/>' raw table still jumps to <paramref name="chain"/> (a reload of the rules removes it).</summary>
    public static bool JumpsTo(string tables, string chain) => Run(tables, ["-w", "-t", "raw", "-C", "PREROUTING", "-j", chain]).Exit == 0;

    /// <summary>Runs a set-up step that must succeed; throws naming the backend, the step and, when it is one, the missing capability.</summary>
    public static void Require(string backend, string file, string[] arguments)
    {
        var (exit, output) = Run(file, arguments);
        if (exit != 0)
        {
            throw new FirewallException($"{backend} backend: {file} {string.Join(' ', arguments)} failed: {output}"
                + (output.Contains("Permission denied", StringComparison.OrdinalIgnoreCase) || output.Contains("not permitted", StringComparison.OrdinalIgnoreCase)
                    ? " (changing the firewall needs CAP_NET_ADMIN)" : ""));
        }
    }
}
