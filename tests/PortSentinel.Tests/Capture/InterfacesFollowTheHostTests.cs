using System.Diagnostics;
using System.Net;
using System.Text.Json;
using PortSentinel.Respond.Nftables;
using PortSentinel.Tests.Web;
using Xunit.Abstractions;

namespace PortSentinel.Tests.Capture;

/// <summary>
/// The sensor captures on every interface as it comes, goes and comes back, as a real host's do
/// (at boot, a VPN, a hot-plugged NIC): a veth pair made, taken down, deleted and made again
/// while the sensor runs in its namespace.
/// </summary>
public sealed class InterfacesFollowTheHostTests(ITestOutputHelper output)
{
    [NamespaceFact]
    public async Task An_interface_that_appears_after_start_is_captured_released_when_it_goes_and_captured_again_when_it_returns()
    {
        using var pair = new NamespacePair(linked: false);
        await using DashboardHost host = DashboardHost.Start(sensing: new DashboardHost.Sensing([], () => new NftablesFirewall(), pair.Target));
        using DashboardHost.Client viewer = await host.LogIn("viewer");
        Assert.Contains(host.Log, l => l.Contains("WARNING no interface is up besides loopback: capturing on each as it comes up", StringComparison.Ordinal));
        Assert.Empty((await Health(viewer)).EnumerateArray());

        var clock = Stopwatch.StartNew();
        pair.Link();
        await Until(host, "CAPTURING on ps-target");
        output.WriteLine($"captured {clock.ElapsedMilliseconds} ms after the link was made");
        Assert.Equal("capturing", (await Capture(viewer)).GetProperty("state").GetString());

        // A scan the moment the interface is there is seen from its first probe.
        var (exit, scan) = NamespacePair.Exec(pair.Scanner, TimeSpan.FromSeconds(60),
            "nmap", "-n", "-Pn", "-sM", "-p", "1-200", "--max-retries", "1", "--host-timeout", "30s", NamespacePair.TargetAddress);
        Assert.True(exit == 0, scan);
        await Until(host, $"HELD {NamespacePair.ScannerAddress}");

        pair.SetTargetLink(up: false);
        await Until(host, "RELEASED ps-target: it is down");
        Assert.Equal("waiting", (await Capture(viewer)).GetProperty("state").GetString());
        pair.SetTargetLink(up: true);
        await Until(host, "CAPTURING on ps-target", times: 2);

        pair.Unlink();
        await Until(host, "RELEASED ps-target: it is gone");
        JsonElement gone = await Capture(viewer);
        Assert.Equal("gone", gone.GetProperty("state").GetString());
        long before = gone.GetProperty("received").GetInt64();
        Assert.True(before > 200, $"the counts of the captures that ended are kept: {gone}");
        string metrics = await (await viewer.Get("/metrics")).Content.ReadAsStringAsync();
        Assert.Contains("portsentinel_interface_state{interface=\"ps-target\",state=\"gone\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("portsentinel_interface_state{interface=\"ps-target\",state=\"capturing\"} 0", metrics, StringComparison.Ordinal);

        clock.Restart();
        pair.Link();
        await Until(host, "CAPTURING on ps-target", times: 3);
        output.WriteLine($"captured again {clock.ElapsedMilliseconds} ms after the link was made again");
        var (pinged, why) = NamespacePair.Exec(pair.Scanner, TimeSpan.FromSeconds(30), "ping", "-c", "3", "-i", "0.2", NamespacePair.TargetAddress);
        output.WriteLine(why);
        Assert.True(pinged is 0 or 1, why); // the scanner is banned: the replies may not come, the requests are seen
        long after = 0;
        for (int i = 0; i < 50 && after <= before; i++)
        {
            await Task.Delay(100);
            after = (await Capture(viewer)).GetProperty("received").GetInt64();
        }
        Assert.True(after > before, $"nothing counted after the interface came back: {before} then {after}");
    }

    private static async Task<JsonElement> Health(DashboardHost.Client viewer) =>
        (await viewer.Get("/api/v1/health").Expect(HttpStatusCode.OK)).GetProperty("captures");

    private static async Task<JsonElement> Capture(DashboardHost.Client viewer) =>
        Assert.Single((await Health(viewer)).EnumerateArray(), c => c.GetProperty("device").GetString() == NamespacePair.TargetDevice);

    // Waits for the sensor's log to hold a line with text <paramref name="times"/> times.
    private static async Task Until(DashboardHost host, string text, int times = 1)
    {
        var clock = Stopwatch.StartNew();
        while (host.Log.Count(l => l.Contains(text, StringComparison.Ordinal)) < times)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"no \"{text}\" ({times}) within 30 s:\n{string.Join('\n', host.Log)}");
            await Task.Delay(20);
        }
    }
}
