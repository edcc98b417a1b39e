using System.Security.Cryptography;
using System.Text;
using PortSentinel.Common;
using PortSentinel.Record;

namespace PortSentinel.Web;

/// <summary>What every part of the dashboard shares: the sensor it shows and steers, its own store connection, its options, the log.</summary>
public sealed class DashboardContext(Sensor sensor, IStore store, string dataDirectory, DashboardOptions options, SensorLog log, TimeProvider? time = null)
{
    public Sensor Sensor { get; } = sensor;

    /// <summary>The dashboard's own connection to the database, apart from the sensor's.</summary>
    public IStore Store { get; } = store;

    /// <summary>The sensor's data directory: the session keys are kept there.</summary>
    public string DataDirectory { get; } = dataDirectory;

    public DashboardOptions Options { get; } = options;

    public SensorLog Log { get; } = log;

    public TimeProvider Time { get; } = time ?? TimeProvider.System;

    /// <summary>Where the daily reports are (DATA_DIR/reports); null: none.</summary>
    public string? ReportsDirectory { get; init; }

    /// <summary>The alert notifications, for health; null when no channel is configured.</summary>
    public Notify.Notifier? Notifier { get; init; }

    /// <summary>The configuration the Settings page shows and changes; null: the page says it is unavailable.</summary>
    public ISettingsControl? Settings { get; init; }

    private string? _setupToken;

    /// <summary>
    /// When no account exists yet: a one-time token, printed in the log, that lets whoever reads it
    /// create the first admin from the browser. Null once an account exists.
    /// </summary>
    public string? OpenSetup()
    {
        if (Store.UserCount() > 0)
        {
            return null;
        }
        _setupToken ??= Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        return _setupToken;
    }

    /// <summary>True once, for the right token while no account exists; the token is spent then.</summary>
    public bool SpendSetupToken(string? token)
    {
        string? expected = Interlocked.CompareExchange(ref _setupToken, null, null);
        if (expected is null || token is null || Store.UserCount() > 0
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(token)))
        {
            return false;
        }
        return Interlocked.CompareExchange(ref _setupToken, null, expected) == expected;
    }
}
