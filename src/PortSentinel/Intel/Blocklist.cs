using System.Globalization;
using PortSentinel.Common;
using PortSentinel.Decode;

namespace PortSentinel.Intel;

/// <summary>
/// Pre-emptive bans from a list, bound from the <c>Blocklist</c> section: AbuseIPDB's blacklist
/// (needs <c>AbuseIpDb:ApiKey</c>) and/or a plain file of addresses and networks, imported at start
/// and every <see cref="EveryHours"/>, each ban lasting <see cref="BanHours"/>.
/// </summary>
public sealed class BlocklistOptions
{
    public const string Section = "Blocklist";

    /// <summary>Import AbuseIPDB's blacklist.</summary>
    public bool AbuseIpDb { get; set; }

    /// <summary>A file of addresses and networks, one a line; <c>#</c> starts a comment. Empty: none.</summary>
    public string File { get; set; } = "";

    public int EveryHours { get; set; } = 24;

    /// <summary>How long each ban lasts: a little longer than <see cref="EveryHours"/>, so the next import finds it in place.</summary>
    public int BanHours { get; set; } = 25;

    /// <summary>The blacklist's least confidence score (25–100).</summary>
    public int ConfidenceMinimum { get; set; } = 100;

    /// <summary>At most this many addresses from the blacklist (10,000 on the free plan).</summary>
    public int Limit { get; set; } = 10_000;

    public bool Enabled => AbuseIpDb || File.Length > 0;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        // The import's timer takes at most 2³² − 2 ms (49.7 days).
        OptionRange.Check(errors, $"{Section}:{nameof(EveryHours)}", EveryHours, 1, 720, "hours");
        OptionRange.Check(errors, $"{Section}:{nameof(BanHours)}", BanHours, 1, 8760, "hours");
        if (ConfidenceMinimum is < 25 or > 100)
        {
            errors.Add($"{Section}:{nameof(ConfidenceMinimum)} is {ConfidenceMinimum}; AbuseIPDB takes 25–100.");
        }
        if (Limit is < 1 or > 500_000)
        {
            errors.Add($"{Section}:{nameof(Limit)} is {Limit}; give 1–500000.");
        }
        if (File.Length > 0 && !System.IO.File.Exists(File))
        {
            errors.Add($"{Section}:{nameof(File)} is \"{File}\", which does not exist; give a file of addresses and networks, one a line.");
        }
        return errors;
    }
}

/// <summary>What an import banned.</summary>
public sealed record PreemptResult(int Banned, int AlreadyBanned, int Refused, int FirewallRefused);

/// <summary>
/// Imports the blocklists at start and on schedule, and hands each to <c>ban</c> (the sensor, which
/// leaves out the allowlisted, the too wide and those already banned). A list that cannot be had is
/// reported and tried again at the next turn; a file's bad lines are named and skipped.
/// </summary>
public sealed class BlocklistImport(BlocklistOptions options, AbuseIpDbOptions abuse, Func<IReadOnlyList<NetPrefix>, TimeSpan, string, Task<PreemptResult>> ban, SensorLog log, TimeProvider? time = null) : IDisposable
{
    private Periodic? _loop;

    /// <summary>Imports now, then every <c>EveryHours</c>.</summary>
    public void Start()
    {
        _loop ??= new Periodic((turn, _) => turn == 0 ? TimeSpan.Zero : TimeSpan.FromHours(options.EveryHours), ImportAsync, time ?? TimeProvider.System);
        _loop.Start();
    }

    /// <summary>One import of every configured list.</summary>
    public async Task ImportAsync(CancellationToken cancellation)
    {
        TimeSpan length = TimeSpan.FromHours(options.BanHours);
        if (options.File.Length > 0)
        {
            IReadOnlyList<NetPrefix> networks = ReadFile(options.File, log);
            await ban(networks, length, $"blocklist: {options.File}").ConfigureAwait(false);
        }
        if (options.AbuseIpDb)
        {
            using var client = new AbuseIpDbClient(abuse);
            var (networks, problem) = await client.BlacklistAsync(options.ConfidenceMinimum, options.Limit, cancellation).ConfigureAwait(false);
            if (problem is not null)
            {
                log($"WARNING blocklist: {problem}; trying again in {options.EveryHours}h");
                return;
            }
            await ban(networks, length, $"blocklist: AbuseIPDB confidence {options.ConfidenceMinimum}+").ConfigureAwait(false);
        }
    }

    /// <summary>The addresses and networks of a file; bad lines are logged with their numbers and skipped.</summary>
    public static IReadOnlyList<NetPrefix> ReadFile(string path, SensorLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var networks = new List<NetPrefix>();
        var bad = new List<string>();
        string[] lines;
        try
        {
            lines = System.IO.File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log($"WARNING blocklist: {path} cannot be read: {e.Message}");
            return [];
        }
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            string text = (hash >= 0 ? line[..hash] : line).Trim();
            if (text.Length == 0)
            {
                continue;
            }
            if (NetPrefix.TryParse(text, out NetPrefix? network))
            {
                networks.Add(network.Value);
            }
            else
            {
                bad.Add(string.Create(CultureInfo.InvariantCulture, $"line {i + 1} \"{text}\""));
            }
        }
        if (bad.Count > 0)
        {
            log($"WARNING blocklist: {path}: {bad.Count} lines are not addresses or networks and were skipped: {string.Join(", ", bad.Take(5))}{(bad.Count > 5 ? ", …" : "")}");
        }
        return networks;
    }

    public void Dispose() => _loop?.Dispose();
}
