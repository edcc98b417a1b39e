using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using PortSentinel.Common;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Intel;

/// <summary>Where lookups stand, for health: <c>ok</c>, or <c>paused</c> (with why and until when).</summary>
public sealed record ReputationStatus(string State, string? Problem, DateTimeOffset? PausedUntil, long Lookups, long Failures, int LookupsToday, int DailyQuota, long Reported);

/// <summary>
/// Looks scanners up at AbuseIPDB off the packet path: one worker, a bounded queue of addresses, a
/// cache in the store, the daily quota counted, and a 429, an error or a timeout met with a pause
/// (detection and blocking go on without reputation meanwhile, and health says so). Only public
/// addresses are looked up. The sensor asks <see cref="Known"/> as it decides and <see cref="Request"/>
/// when nothing is known; each lookup done is handed to <see cref="Looked"/>.
/// </summary>
public sealed class ReputationService : IDisposable
{
    private const int Attempts = 3;
    // After a failure: 1 s, then 2, 4, … up to 5 minutes.
    private static readonly TimeSpan _firstPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan _longestPause = TimeSpan.FromMinutes(5);

    private readonly AbuseIpDbOptions _options;
    private readonly IReputationCache _store;
    private readonly SensorLog _log;
    private readonly TimeProvider _time;
    private readonly AbuseIpDbClient _client;
    private readonly Channel<NetAddress> _queue = Channel.CreateBounded<NetAddress>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly ConcurrentDictionary<NetAddress, byte> _pending = new();
    private readonly Channel<(NetAddress Source, string Comment)> _reports = Channel.CreateBounded<(NetAddress, string)>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly ConcurrentDictionary<NetAddress, byte> _reporting = new();
    private Task? _reporter;
    private long _reported;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Task? _worker;
    private string? _problem;
    private DateTimeOffset? _pausedUntil;
    private long _lookups;
    private long _failures;
    private int _failuresInARow;
    private int _today;
    private DateOnly _day;

    public ReputationService(AbuseIpDbOptions options, IReputationCache store, SensorLog log, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _store = store;
        _log = log;
        _time = time ?? TimeProvider.System;
        _client = new AbuseIpDbClient(options);
    }

    /// <summary>Called on the worker when a lookup is done (the sensor moves it onto its respond thread).</summary>
    public Action<Reputation>? Looked { get; set; }

    public void Start()
    {
        _worker ??= Task.Run(() => WorkAsync(_stop.Token));
        _reporter ??= _options.Report ? Task.Run(() => ReportAsync(_stop.Token)) : null;
    }

    /// <summary>
    /// Queues a report of a scanner the sensor blocked (when <c>Report</c> is on, for a public
    /// address not reported within <c>ReportEveryHours</c>); never waits. The comment is made of
    /// the evidence and names no address of this network.
    /// </summary>
    public bool Report(Detection detection)
    {
        ArgumentNullException.ThrowIfNull(detection);
        if (!_options.Report || !PublicAddresses.IsPublic(detection.Source)
            || _store.LastReported(detection.Source.ToString()) is { } last && _time.GetUtcNow() - last < TimeSpan.FromHours(_options.ReportEveryHours)
            || !_reporting.TryAdd(detection.Source, 0))
        {
            return false;
        }
        if (_reports.Writer.TryWrite((detection.Source, Comment(detection))))
        {
            return true;
        }
        _reporting.TryRemove(detection.Source, out _);
        return false;
    }

    /// <summary>What the report says: the kinds, ports, probes and time of the scan; never the targets, which are this network's.</summary>
    public static string Comment(Detection detection)
    {
        ArgumentNullException.ThrowIfNull(detection);
        string text = string.Create(CultureInfo.InvariantCulture,
            $"Port scan blocked by PortSentinel: {string.Join(',', ScanKindNames.Names(detection.Kinds))}, {detection.Probes} probes to {detection.Ports} ports ({detection.PortRanges}) on {detection.TargetCount} host(s), {detection.First:yyyy-MM-dd HH:mm:ss} to {detection.Last:HH:mm:ss} UTC");
        return text.Length <= 1024 ? text : text[..1021] + "...";
    }

    private async Task ReportAsync(CancellationToken stop)
    {
        try
        {
            await foreach ((NetAddress source, string comment) in _reports.Reader.ReadAllAsync(stop).ConfigureAwait(false))
            {
                (string? problem, TimeSpan? retryAfter) = await _client.ReportAsync(source, comment, stop).ConfigureAwait(false);
                _reporting.TryRemove(source, out _);
                if (problem is null)
                {
                    _store.Reported(source.ToString(), _time.GetUtcNow());
                    Interlocked.Increment(ref _reported);
                    _log($"REPORTED {source} to AbuseIPDB (category {AbuseIpDbClient.PortScanCategory}, Port Scan)");
                    continue;
                }
                _log($"WARNING reputation: {problem}; {source} is not reported" + (retryAfter is { } wait ? $", reports paused for {wait.TotalSeconds:0}s" : ""));
                if (retryAfter is { } pause && pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause, _time, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>The reputation of <paramref name="address"/> if it was looked up within <c>CacheHours</c>.</summary>
    public Reputation? Known(NetAddress address) =>
        PublicAddresses.IsPublic(address) && _store.Reputation(address.ToString()) is { } known && _time.GetUtcNow() - known.CheckedAt < TimeSpan.FromHours(_options.CacheHours)
            ? known : null;

    /// <summary>Queues a lookup of a public address not known or queued yet; never waits. False when it is not queued.</summary>
    public bool Request(NetAddress address)
    {
        if (!PublicAddresses.IsPublic(address) || !_pending.TryAdd(address, 0))
        {
            return false;
        }
        if (_queue.Writer.TryWrite(address))
        {
            return true;
        }
        _pending.TryRemove(address, out _);
        return false;
    }

    public ReputationVerdict Verdict(Reputation reputation)
    {
        ArgumentNullException.ThrowIfNull(reputation);
        bool raise = reputation.Score >= _options.RaiseAtScore;
        return new ReputationVerdict(reputation.Score, raise ? 1 : 0, reputation.Score >= _options.CriticalAtScore, raise ? _options.BanFactor : 1);
    }

    public ReputationStatus Status()
    {
        lock (_gate)
        {
            bool paused = _pausedUntil > _time.GetUtcNow();
            return new ReputationStatus(paused ? "paused" : "ok", _problem, paused ? _pausedUntil : null, _lookups, _failures, _today, _options.DailyQuota, Interlocked.Read(ref _reported));
        }
    }

    private async Task WorkAsync(CancellationToken stop)
    {
        try
        {
            await foreach (NetAddress address in _queue.Reader.ReadAllAsync(stop).ConfigureAwait(false))
            {
                for (int attempt = 1; attempt <= Attempts && !stop.IsCancellationRequested; attempt++)
                {
                    await WaitWhilePausedAsync(stop).ConfigureAwait(false);
                    if (await LookUpAsync(address, stop).ConfigureAwait(false))
                    {
                        break;
                    }
                }
                _pending.TryRemove(address, out _);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task WaitWhilePausedAsync(CancellationToken stop)
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (_gate)
        {
            if (DateOnly.FromDateTime(now.UtcDateTime) != _day)
            {
                _day = DateOnly.FromDateTime(now.UtcDateTime);
                _today = 0;
            }
            if (_today >= _options.DailyQuota && !(_pausedUntil > now))
            {
                Pause(now, NextUtcMidnight(now), $"the daily quota of {_options.DailyQuota} lookups ({AbuseIpDbOptions.Section}:{nameof(AbuseIpDbOptions.DailyQuota)}) is used up");
            }
        }
        if (Status().PausedUntil is { } until && until > now)
        {
            await Task.Delay(until - now, _time, stop).ConfigureAwait(false);
        }
    }

    /// <summary>One lookup; true when it is done with (known, or not worth trying again).</summary>
    private async Task<bool> LookUpAsync(NetAddress address, CancellationToken stop)
    {
        CheckResult result = await _client.CheckAsync(address, _time.GetUtcNow(), stop).ConfigureAwait(false);
        DateTimeOffset now = _time.GetUtcNow();
        if (result.Reputation is { } reputation)
        {
            bool resumed;
            lock (_gate)
            {
                _lookups++;
                _today++;
                resumed = _problem is not null;
                _problem = null;
                _failuresInARow = 0;
                _pausedUntil = null;
                if (result.Remaining == 0)
                {
                    Pause(now, NextUtcMidnight(now), "AbuseIPDB says no lookups are left today");
                }
            }
            if (resumed)
            {
                _log("REPUTATION lookups work again");
            }
            _store.SaveReputation(reputation);
            Looked?.Invoke(reputation);
            return true;
        }
        lock (_gate)
        {
            _failures++;
            _failuresInARow++;
            _today += result.RetryAfter is null ? 1 : 0;
            TimeSpan pause = result.RetryAfter ?? Backoff.After(_failuresInARow, _firstPause, _longestPause);
            Pause(now, now + pause, result.Problem ?? "the lookup failed");
        }
        return false;
    }

    /// <summary>Pauses lookups (under the lock) and says so once per pause.</summary>
    private void Pause(DateTimeOffset now, DateTimeOffset until, string why)
    {
        bool already = _pausedUntil > now && _problem == why;
        _problem = why;
        _pausedUntil = until;
        if (!already)
        {
            _log($"WARNING reputation: {why}; lookups paused until {until:yyyy-MM-dd HH:mm:ss} UTC, alerts go on without reputation");
        }
    }

    private static DateTimeOffset NextUtcMidnight(DateTimeOffset now) => new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1);

    public void Dispose()
    {
        _stop.Cancel();
        _queue.Writer.TryComplete();
        _reports.Writer.TryComplete();
        try
        {
            Task.WaitAll([.. new[] { _worker, _reporter }.OfType<Task>()], TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _client.Dispose();
        _stop.Dispose();
    }
}
