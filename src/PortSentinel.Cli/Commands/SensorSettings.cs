using Microsoft.Extensions.Configuration;
using PortSentinel.Capture;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Respond;
using PortSentinel.Web;

namespace PortSentinel.Cli.Commands;

/// <summary>Everything <c>run</c> reads from configuration, read and validated together.</summary>
internal sealed record SensorSettings(DetectorOptions Detection, DecideOptions Decide, LiveCaptureOptions Capture, TrapOptions Trap, IReadOnlyList<NetPrefix> Allowed, FirewallOptions Firewall, DashboardOptions Dashboard)
{
    public static SensorSettings Load(FileInfo? config, string[] overrides, string? firewallName)
    {
        IConfiguration configuration = Settings.Load(config, overrides);
        return new SensorSettings(
            Settings.Detection(configuration),
            Settings.Bind<DecideOptions>(configuration, DecideOptions.Section, o => o.Validate()),
            Settings.Bind<LiveCaptureOptions>(configuration, LiveCaptureOptions.Section),
            Settings.Bind<TrapOptions>(configuration, TrapOptions.Section, o => o.Validate()),
            Settings.Allowlist(configuration),
            Firewalls.Options(configuration, firewallName),
            Settings.Bind<DashboardOptions>(configuration, DashboardOptions.Section, o => o.Validate()));
    }
}
