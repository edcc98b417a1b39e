using PortSentinel.Cli.Commands;

namespace PortSentinel.Tests.Cli;

/// <summary>
/// Every numeric setting has a range, checked when the configuration is read: a value outside it
/// (negative, zero where zero means nothing, absurdly large) stops the command with the key, the
/// value and the range allowed, before anything starts.
/// </summary>
public sealed class SettingRangesTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"ps-ranges-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll");

    [Theory]
    [InlineData("Capture:SnapLength=-1", "Capture:SnapLength is -1; give 64 to 262144 bytes")]
    [InlineData("Capture:SnapLength=0", "Capture:SnapLength is 0; give 64 to 262144 bytes")]
    [InlineData("Capture:SnapLength=1000000", "Capture:SnapLength is 1000000; give 64 to 262144 bytes")]
    [InlineData("Capture:ReadTimeoutMilliseconds=0", "Capture:ReadTimeoutMilliseconds is 0; give 1 to 1000 milliseconds")]
    [InlineData("Capture:BufferBytes=-5", "Capture:BufferBytes is -5; give 65536 to 1073741824 bytes")]
    [InlineData("Detection:WindowSeconds=0", "Detection:WindowSeconds is 0; give 1 to 86400 seconds")]
    [InlineData("Detection:SlowWindowSeconds=100000000", "Detection:SlowWindowSeconds is 100000000; give 2 to 604800 seconds")]
    [InlineData("Detection:VerticalPorts=70000", "Detection:VerticalPorts is 70000; give 1 to 65535")]
    [InlineData("Detection:SlowPorts=-2", "Detection:SlowPorts is -2; give 1 to 65535")]
    [InlineData("Detection:HorizontalHosts=0", "Detection:HorizontalHosts is 0; give 1 to 1000000")]
    [InlineData("Detection:IpProtocols=300", "Detection:IpProtocols is 300; give 1 to 255")]
    [InlineData("Detection:OutcomeTimeoutMilliseconds=-1", "Detection:OutcomeTimeoutMilliseconds is -1; give 1 to 600000 milliseconds")]
    [InlineData("Detection:IdleSeconds=0", "Detection:IdleSeconds is 0; give 1 to 604800 seconds")]
    [InlineData("Detection:DistributedSources=1000", "Detection:DistributedSources is 1000; give 2 to 256")]
    [InlineData("Detection:MaxTargetsPerDetection=0", "Detection:MaxTargetsPerDetection is 0; give 1 to 1000000")]
    [InlineData("Detection:MinProbesPerKind=0", "Detection:MinProbesPerKind is 0; give 1 to 65535")]
    [InlineData("Detection:PingSweepMaxPorts=100000", "Detection:PingSweepMaxPorts is 100000; give 1 to 65535")]
    [InlineData("Decide:EscalationFactor=Infinity", "Decide:EscalationFactor is Infinity; give 1 to 100")]
    [InlineData("Decide:MaxBanSeconds=2000000000", "Decide:MaxBanSeconds is 2000000000; give 1 to 31536000 seconds")]
    [InlineData("Decide:PermanentAfter=-1", "Decide:PermanentAfter is -1; give 0 to 1000")]
    [InlineData("Decide:MaxBansPerMinute=0", "Decide:MaxBansPerMinute is 0; give 1 to 100000")]
    [InlineData("AbuseIpDb:CacheHours=100000000", "AbuseIpDb:CacheHours is 100000000; give 1 to 8760 hours")]
    [InlineData("AbuseIpDb:ReportEveryHours=0", "AbuseIpDb:ReportEveryHours is 0; give 1 to 8760 hours")]
    [InlineData("AbuseIpDb:BanFactor=Infinity", "AbuseIpDb:BanFactor is Infinity; give 1 to 100")]
    [InlineData("AbuseIpDb:DailyQuota=0", "AbuseIpDb:DailyQuota is 0; give 1 to 10000000")]
    [InlineData("Blocklist:EveryHours=100000", "Blocklist:EveryHours is 100000; give 1 to 720 hours")]
    [InlineData("Blocklist:BanHours=0", "Blocklist:BanHours is 0; give 1 to 8760 hours")]
    [InlineData("EventLog:MaxBytes=100", "EventLog:MaxBytes is 100; give 4096 to 1099511627776 bytes")]
    public void A_number_outside_its_range_is_refused_with_the_key_the_value_and_the_range(string setting, string message)
    {
        var e = Assert.Throws<SettingsException>(() => SensorSettings.Load(new SettingsSources(null, [setting], "dry-run", null)));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Capture:SnapLength=64")]
    [InlineData("Capture:SnapLength=262144")]
    [InlineData("Detection:DistributedSources=256")]
    [InlineData("Decide:PermanentAfter=0")]
    [InlineData("Decide:MaxBanSeconds=31536000")]
    public void The_ends_of_a_range_are_accepted(string setting) =>
        Assert.NotNull(SensorSettings.Load(new SettingsSources(null, [setting], "dry-run", null)));

    [Fact]
    public void Run_refuses_a_negative_snap_length_before_it_opens_anything()
    {
        var (exit, output) = ProcessRunner.Run("dotnet", [Cli, "run", "--data-dir", _data, "--interface", "lo", "--firewall", "dry-run", "--no-dashboard", "--set", "Capture:SnapLength=-1"], TimeSpan.FromSeconds(60));
        Assert.Equal(ExitCodes.BadConfiguration, exit);
        Assert.Contains("Capture:SnapLength is -1; give 64 to 262144 bytes", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_data), "run made its data directory before refusing the configuration");
    }
}
