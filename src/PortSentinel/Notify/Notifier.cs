using PortSentinel.Common;
using PortSentinel.Decide;
using PortSentinel.Intel;
using PortSentinel.Record;

namespace PortSentinel.Notify;

/// <summary>How a channel fares, for health.</summary>
public sealed record ChannelStatus(string Name, long Sent, long Failed, int Waiting, DateTimeOffset? LastSent, string? LastError);

/// <summary>
/// Delivers alerts to the channels: it reads the sensor's feed on a task of its own (the sensor
/// never waits for it), keeps for each channel the alerts at or above its severity, and every
/// <c>DigestSeconds</c> sends them as one digest, retried 1 s, 2 s, 4 s … apart up to
/// <c>Attempts</c> times. Each channel has its own task: a slow or dead one delays no other. An
/// alert decided again before its digest goes (its reputation came) replaces the first decision;
/// a reputation that comes before the digest goes is sent with it.
/// </summary>
public sealed class Notifier : IDisposable
{
    private readonly NotifyOptions _options;
    private readonly SensorLog _log;
    private readonly TimeProvider _time;
    private readonly SensorFeed.Subscription _subscription;
    private readonly List<Worker> _workers;
    private readonly Task _reader;
    private readonly List<Periodic> _deliveries;

    public Notifier(NotifyOptions options, IReadOnlyList<INotifyChannel> channels, SensorFeed feed, SensorLog log, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(feed);
        _options = options;
        _log = log;
        _time = time ?? TimeProvider.System;
        _workers = [.. channels.Select(c => new Worker(c))];
        _subscription = feed.Subscribe(65_536);
        _reader = Task.Run(ReadAsync);
        TimeSpan every = TimeSpan.FromSeconds(options.DigestSeconds);
        _deliveries = [.. _workers.Select(w => new Periodic((_, _) => every, stop => w.Take() is { } digest ? SendAsync(w, digest, stop) : Task.CompletedTask, _time))];
        _deliveries.ForEach(d => d.Start());
    }

    /// <summary>The channels the options describe.</summary>
    public static IReadOnlyList<INotifyChannel> Channels(NotifyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var timeout = TimeSpan.FromSeconds(10);
        var channels = new List<INotifyChannel>(options.Webhooks.Select(w => new WebhookChannel(w, timeout)));
        if (options.Syslog.Enabled)
        {
            channels.Add(new SyslogChannel(options.Syslog));
        }
        if (options.Email.Enabled)
        {
            channels.Add(new EmailChannel(options.Email, timeout));
        }
        return channels;
    }

    public IReadOnlyList<ChannelStatus> Status() => [.. _workers.Select(w => w.Status())];

    private async Task ReadAsync()
    {
        await foreach (SensorEvent e in _subscription.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (e is AlertEvent { Ended: false, Alert: { Severity: { } s } alert } raised && Enum.TryParse(s, ignoreCase: true, out Severity severity))
            {
                foreach (Worker worker in _workers.Where(w => severity >= w.Channel.MinSeverity))
                {
                    worker.Add(alert, raised.Reputation, e.At);
                }
            }
            else if (e is ReputationEvent known)
            {
                foreach (Worker worker in _workers)
                {
                    worker.Learn(known.Reputation);
                }
            }
        }
    }

    /// <summary>Sends with retries; what cannot be delivered is logged and given up.</summary>
    private async Task SendAsync(Worker worker, Digest digest, CancellationToken stop)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await worker.Channel.SendAsync(digest, stop).ConfigureAwait(false);
                worker.Sent(_time.GetUtcNow());
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                worker.Failed(e.Message);
                if (attempt >= _options.Attempts)
                {
                    _log($"ERROR notify {worker.Channel.Name}: {e.Message}; gave up after {attempt} attempts, {digest.Count} alerts not delivered");
                    return;
                }
                TimeSpan wait = Backoff.After(attempt, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
                _log($"WARNING notify {worker.Channel.Name}: {e.Message}; trying again in {wait.TotalSeconds:0}s");
                await Task.Delay(wait, _time, stop).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends one made-up alert to every channel at once, for <c>portsentinel notify test</c>: each channel's problem, or null.</summary>
    public static async Task<IReadOnlyList<(string Channel, string? Problem)>> TestAsync(IReadOnlyList<INotifyChannel> channels, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(channels);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var sample = new AlertRecord(0, "203.0.113.7", ["tcp-syn", "vertical"], now.AddSeconds(-2), now, now, null, 1, ["192.0.2.1"], 1000, "tcp 1-1000", 0, 1000,
            "trw", 0.999, "critical", "block", "a test alert from portsentinel notify test: nothing was scanned", new Detect.DetectionOutcomes(3, 997, 0, 0, 0));
        var digest = new Digest([sample], 1, new Dictionary<string, int> { ["critical"] = 1 }, now, now);
        var results = new List<(string, string?)>();
        foreach (INotifyChannel channel in channels)
        {
            try
            {
                await channel.SendAsync(digest, cancellation).ConfigureAwait(false);
                results.Add((channel.Name, null));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                results.Add((channel.Name, e.Message));
            }
        }
        return results;
    }

    /// <summary>Stops reading, sends what waits (one attempt each), and closes the channels.</summary>
    public void Dispose()
    {
        _subscription.Dispose();
        _reader.Wait(TimeSpan.FromSeconds(5));
        _deliveries.ForEach(d => d.Dispose());
        foreach (Worker worker in _workers)
        {
            if (worker.Take() is { } digest)
            {
                try
                {
                    worker.Channel.SendAsync(digest, CancellationToken.None).Wait(TimeSpan.FromSeconds(5));
                }
                catch (AggregateException e)
                {
                    _log($"ERROR notify {worker.Channel.Name}: {e.InnerException?.Message}; {digest.Count} alerts not delivered at stop");
                }
            }
            worker.Channel.Dispose();
        }
    }

    /// <summary>A channel and the alerts waiting for it.</summary>
    private sealed class Worker(INotifyChannel channel)
    {
        private readonly Lock _gate = new();
        private readonly List<AlertRecord> _listed = [];
        private readonly Dictionary<long, string> _severityOf = []; // every alert counted, by id
        private readonly Dictionary<string, int> _bySeverity = [];
        private readonly Dictionary<string, Reputation> _reputations = []; // of listed sources
        private int _count;
        private DateTimeOffset _from;
        private DateTimeOffset _to;
        private long _sent;
        private long _failed;
        private DateTimeOffset? _lastSent;
        private string? _lastError;

        public INotifyChannel Channel { get; } = channel;

        public void Add(AlertRecord alert, Reputation? reputation, DateTimeOffset at)
        {
            lock (_gate)
            {
                if (_count == 0)
                {
                    _from = at;
                }
                _to = at;
                if (_severityOf.Remove(alert.Id, out string? before))
                {
                    // Decided again: the new decision replaces the first, counted once.
                    _bySeverity[before]--;
                    _count--;
                    _listed.RemoveAll(a => a.Id == alert.Id);
                }
                _severityOf[alert.Id] = alert.Severity!;
                _count++;
                _bySeverity[alert.Severity!] = _bySeverity.GetValueOrDefault(alert.Severity!) + 1;
                if (_listed.Count < Digest.ListedMost)
                {
                    _listed.Add(alert);
                    if (reputation is not null)
                    {
                        _reputations[alert.Source] = reputation;
                    }
                }
            }
        }

        /// <summary>Keeps the reputation of a listed source for the digest.</summary>
        public void Learn(Reputation reputation)
        {
            lock (_gate)
            {
                if (_listed.Exists(a => a.Source == reputation.Address))
                {
                    _reputations[reputation.Address] = reputation;
                }
            }
        }

        public Digest? Take()
        {
            lock (_gate)
            {
                if (_count == 0)
                {
                    return null;
                }
                var digest = new Digest([.. _listed], _count, _bySeverity.Where(p => p.Value > 0).ToDictionary(), _from, _to, new Dictionary<string, Reputation>(_reputations));
                _listed.Clear();
                _severityOf.Clear();
                _bySeverity.Clear();
                _reputations.Clear();
                _count = 0;
                return digest;
            }
        }

        public void Sent(DateTimeOffset at)
        {
            lock (_gate)
            {
                _sent++;
                _lastSent = at;
                _lastError = null;
            }
        }

        public void Failed(string error)
        {
            lock (_gate)
            {
                _failed++;
                _lastError = error;
            }
        }

        public ChannelStatus Status()
        {
            lock (_gate)
            {
                return new ChannelStatus(Channel.Name, _sent, _failed, _count, _lastSent, _lastError);
            }
        }
    }
}
