using PortSentinel.Common;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Intel;
using PortSentinel.Notify;
using PortSentinel.Record;
using PortSentinel.Report;
using PortSentinel.Respond;

namespace PortSentinel;

/// <summary>Everything the running sensor and what surrounds it read from configuration.</summary>
public sealed record SensorConfiguration
{
    /// <summary>Where the database, the reports and the warm-up's scratch files live.</summary>
    public required string DataDirectory { get; init; }

    public SensorOptions Sensor { get; init; } = new();

    public DecideOptions Decide { get; init; } = new();

    /// <summary>Addresses and networks never blocked, besides the host's own.</summary>
    public IReadOnlyList<NetPrefix> Allowed { get; init; } = [];

    public AbuseIpDbOptions AbuseIpDb { get; init; } = new();

    public BlocklistOptions Blocklist { get; init; } = new();

    public EventLogOptions EventLog { get; init; } = new();

    public NotifyOptions Notify { get; init; } = new();

    public ReportsOptions Reports { get; init; } = new();

    /// <summary>Where the record is kept: SQLite in <see cref="DataDirectory"/> unless a PostgreSQL server is named.</summary>
    public StoreOptions Store { get; init; } = new();

    /// <summary>The sensor's name in a fleet's store (Sensor:Name, else the host name).</summary>
    public string Name { get; init; } = Environment.MachineName;
}

/// <summary>
/// The one place where the live sensor and everything around it are made and wired: the
/// firewall, the store, the feed and its watchers (event log, notifications), reputation, the
/// sensor, and once it runs the daily reports and the blocklist import. It owns each part and
/// disposes them in the reverse order of their making, so that a part outlives every part that
/// uses it: the sensor stops (and publishes its last events) before its watchers close, and
/// before the store and the firewall. A part that the caller adds (<see cref="Own"/>, the
/// dashboard) is disposed first.
/// </summary>
public sealed class SensorHost : IDisposable
{
    private readonly Stack<IDisposable> _parts = new();
    private readonly SensorConfiguration _configuration;
    private readonly SensorLog _log;
    private readonly Allowlist _allowlist;

    private SensorHost(SensorConfiguration configuration, SensorLog log)
    {
        _configuration = configuration;
        _log = log;
        try
        {
            Firewall = Own(FirewallBackends.Create(configuration.Sensor.Firewall));
            Stores.CreateDataDirectory(configuration.DataDirectory);
            Store = Own(OpenStore());
            var feed = new SensorFeed();
            // Before the sensor, so that nothing it does is missing from them.
            if (configuration.EventLog.Enabled)
            {
                Own(new EventLog(configuration.EventLog, feed, log));
            }
            Notifier = configuration.Notify.Enabled ? Own(new Notifier(configuration.Notify, Notifier.Channels(configuration.Notify), feed, log)) : null;
            Reputation = configuration.AbuseIpDb.Enabled ? Own(new ReputationService(configuration.AbuseIpDb, Store, log)) : null;
            _allowlist = new Allowlist(HostFacts.Read(), configuration.Allowed);
            Sensor = Own(new Sensor(configuration.Sensor, new Decider(_allowlist, configuration.Decide), Firewall, Store, log, feed) { Reputation = Reputation, WarmUpDirectory = configuration.DataDirectory });
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Makes every part; nothing runs before <see cref="Start"/>. Throws what a part threw (<see cref="Capture.CaptureException"/>, <see cref="FirewallException"/>, <see cref="StoreException"/>), having disposed what was made.</summary>
    public static SensorHost Create(SensorConfiguration configuration, SensorLog log)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(log);
        return new SensorHost(configuration, log);
    }

    public Sensor Sensor { get; }

    public IFirewall Firewall { get; }

    /// <summary>The sensor's connection to the database.</summary>
    public IStore Store { get; }

    public string DataDirectory => _configuration.DataDirectory;

    /// <summary>Opens another connection to the sensor's store (the dashboard's own, so that its queries never wait on the sensor's writes).</summary>
    public IStore OpenStore() => Stores.Open(_configuration.Store, _configuration.DataDirectory, _configuration.Name);

    /// <summary>Where the daily reports are written (DATA_DIR/reports).</summary>
    public string ReportsDirectory => Path.Combine(DataDirectory, "reports");

    /// <summary>The alert notifications; null when no channel is configured.</summary>
    public Notifier? Notifier { get; }

    /// <summary>AbuseIPDB lookups; null without an API key.</summary>
    public ReputationService? Reputation { get; }

    /// <summary>Takes <paramref name="part"/> to dispose before every part made so far.</summary>
    public T Own<T>(T part)
        where T : IDisposable
    {
        _parts.Push(part);
        return part;
    }

    /// <summary>Starts the sensor, then the daily reports and the blocklist import, and says it is running.</summary>
    public void Start()
    {
        Sensor.Start();
        if (_configuration.Reports.Enabled)
        {
            Own(new DailyReports(_configuration.Reports, _configuration.Notify.Email, Store, ReportsDirectory, Health, _log)).Start();
        }
        if (_configuration.Blocklist.Enabled)
        {
            Own(new BlocklistImport(_configuration.Blocklist, _configuration.AbuseIpDb, Sensor.Preempt, _log)).Start();
        }
        _log($"RUNNING with {Firewall.Name}, data in {Store.Location}, sensor {_configuration.Name}, {_allowlist.Entries.Count()} allowlist entries, reputation {(Reputation is null ? $"off (no {AbuseIpDbOptions.Section}:{nameof(AbuseIpDbOptions.ApiKey)})" : $"from {_configuration.AbuseIpDb.BaseUrl}")}");
    }

    /// <summary>The capture's figures for the daily report.</summary>
    private ActivityReport.SensorHealth Health()
    {
        SensorStatistics stats = Sensor.Statistics();
        return new ActivityReport.SensorHealth(Sensor.FirewallName, (DateTimeOffset.UtcNow - stats.Started).TotalSeconds,
            stats.Interfaces.Sum(i => i.Received), stats.Interfaces.Sum(i => i.Dropped + i.InterfaceDropped), stats.FirewallErrors);
    }

    public void Dispose()
    {
        while (_parts.TryPop(out IDisposable? part))
        {
            part.Dispose();
        }
    }
}
