using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Tests.Decide;

public class DeciderTests
{
    private static readonly DateTimeOffset _t0 = new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);
    private static readonly HostFacts _host = new([NetAddress.Parse("192.0.2.10")], [NetAddress.Parse("192.0.2.1")], []);

    // Verified unless told: most of these are about the ban policy, which a source not verified at
    // its address meets only when Decide:BanUnverified is set.
    private static Detection Scan(string source, ScanKinds kinds, int ports = 50, int targets = 1, long probes = 50, double seconds = 10, bool verified = true) => new()
    {
        Source = NetAddress.Parse(source),
        Kinds = kinds,
        Targets = [NetAddress.Parse("192.0.2.10")],
        TargetCount = targets,
        Ports = ports,
        PortRanges = "",
        Protocols = 0,
        Probes = probes,
        First = _t0,
        Last = _t0.AddSeconds(seconds),
        Trigger = "trw",
        Confidence = 0.99,
        Outcomes = new DetectionOutcomes(0, ports, 0, 0, 0),
        Final = false,
        Verified = verified,
    };

    private static Decider Decider(DecideOptions? options = null, params string[] allowed) =>
        new(new Allowlist(_host, allowed.Select(NetPrefix.Parse)), options ?? new DecideOptions());

    [Fact]
    public void An_allowlisted_scanner_is_decided_allowlisted_however_bad()
    {
        var decider = Decider(allowed: "203.0.113.0/24");
        foreach (string source in new[] { "192.0.2.1", "192.0.2.10", "127.0.0.1", "203.0.113.5" })
        {
            Decision d = decider.Decide(Scan(source, ScanKinds.Tripwire | ScanKinds.TcpSyn), previousBans: 3, _t0);
            Assert.Equal(DecisionAction.Allowlisted, d.Action);
            Assert.Null(d.BanFor);
            Assert.StartsWith("allowlisted", d.Reason);
        }
    }

    [Theory]
    [InlineData(ScanKinds.IcmpSweep | ScanKinds.Horizontal, 0, 30, 30, 10.0, 0, Severity.Low)]
    [InlineData(ScanKinds.TcpSyn | ScanKinds.Vertical, 50, 1, 50, 10.0, 0, Severity.Medium)]
    [InlineData(ScanKinds.TcpSyn | ScanKinds.Vertical, 50, 1, 50, 10.0, 1, Severity.High)]
    [InlineData(ScanKinds.TcpSyn | ScanKinds.Vertical, 1000, 1, 1000, 0.2, 0, Severity.Critical)]
    [InlineData(ScanKinds.TcpXmas | ScanKinds.Vertical, 50, 1, 50, 10.0, 0, Severity.High)]
    [InlineData(ScanKinds.TcpPingSweep | ScanKinds.Horizontal, 1, 300, 300, 60.0, 0, Severity.Medium)]
    [InlineData(ScanKinds.Tripwire, 1, 1, 1, 0.0, 0, Severity.Critical)]
    public void Severity_follows_kind_breadth_speed_and_repeat(ScanKinds kinds, int ports, int targets, long probes, double seconds, int previous, Severity expected)
    {
        Assert.Equal(expected, SeverityRules.Of(Scan("198.51.100.7", kinds, ports, targets, probes, seconds), previous));
    }

    [Fact]
    public void Below_the_blocking_severity_only_logs()
    {
        Decision d = Decider(new DecideOptions { BlockAt = Severity.High }).Decide(Scan("198.51.100.7", ScanKinds.TcpSyn | ScanKinds.Vertical), 0, _t0);
        Assert.Equal(DecisionAction.Log, d.Action);
        Assert.Contains("Decide:BlockAt", d.Reason);
    }

    [Fact]
    public void Each_offence_bans_longer_up_to_the_maximum()
    {
        var decider = Decider(new DecideOptions { BanSeconds = 600, EscalationFactor = 3, MaxBanSeconds = 10_000 });
        var lengths = Enumerable.Range(0, 5).Select(previous => decider.Decide(Scan("198.51.100.7", ScanKinds.TcpSyn), previous, _t0.AddMinutes(previous * 2)).BanFor).ToList();
        Assert.Equal([TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(1800), TimeSpan.FromSeconds(5400), TimeSpan.FromSeconds(10_000), TimeSpan.FromSeconds(10_000)], lengths);
    }

    [Fact]
    public void Bans_become_permanent_from_the_configured_offence()
    {
        var decider = Decider(new DecideOptions { PermanentAfter = 3 });
        Assert.NotNull(decider.Decide(Scan("198.51.100.7", ScanKinds.TcpSyn), previousBans: 1, _t0).BanFor);
        Decision third = decider.Decide(Scan("198.51.100.7", ScanKinds.TcpSyn), previousBans: 2, _t0.AddMinutes(2));
        Assert.Equal(DecisionAction.Block, third.Action);
        Assert.Null(third.BanFor);
        Assert.Contains("until lifted by hand", third.Reason);
    }

    [Fact]
    public void A_scanner_that_has_shown_its_address_is_banned_though_a_storm_of_others_filled_the_cap()
    {
        var decider = Decider(new DecideOptions { MaxBansPerMinute = 10, BanUnverified = true });
        for (int i = 1; i <= 10; i++)
        {
            Assert.Equal(DecisionAction.Block, decider.Decide(Scan($"203.0.113.{i}", ScanKinds.TcpSyn, verified: false), 0, _t0.AddSeconds(i)).Action);
        }
        Assert.Equal(DecisionAction.OverCap, decider.Decide(Scan("198.51.100.7", ScanKinds.TcpSyn, verified: false), 0, _t0.AddSeconds(11)).Action);
        Assert.Equal(DecisionAction.Block, decider.Decide(Scan("198.51.100.7", ScanKinds.TcpSyn), 0, _t0.AddSeconds(12)).Action);
        // Its ban counts: a minute after the first ten, the cap has room for ten less the one it made.
        Assert.False(decider.HasRoom(Scan("198.51.100.8", ScanKinds.TcpSyn, verified: false), _t0.AddSeconds(60.5)));
    }

    [Fact]
    public void A_storm_of_sources_is_capped_per_minute_and_the_rest_are_logged_not_dropped()
    {
        var decider = Decider(new DecideOptions { MaxBansPerMinute = 10, BanUnverified = true });
        var decisions = Enumerable.Range(1, 25)
            .Select(i => decider.Decide(Scan($"203.0.113.{i}", ScanKinds.TcpSyn, verified: false), 0, _t0.AddSeconds(i)))
            .ToList();
        Assert.Equal(10, decisions.Count(d => d.Action == DecisionAction.Block));
        Assert.Equal(15, decisions.Count(d => d.Action == DecisionAction.OverCap));
        Assert.All(decisions.Where(d => d.Action == DecisionAction.OverCap), d => Assert.Contains("Decide:MaxBansPerMinute", d.Reason));
        // A minute after the first bans, there is room again.
        Assert.Equal(DecisionAction.Block, decider.Decide(Scan("203.0.113.99", ScanKinds.TcpSyn, verified: false), 0, _t0.AddSeconds(61)).Action);
    }

    [Fact]
    public void A_source_not_verified_at_its_address_is_held_briefly_whatever_its_record_never_banned()
    {
        var decider = Decider(new DecideOptions { BanSeconds = 7200, PermanentAfter = 2 });
        foreach (int previous in new[] { 0, 1, 5 })
        {
            Decision held = decider.Decide(Scan("203.0.113.9", ScanKinds.TcpXmas, verified: false), previous, _t0.AddMinutes(previous));
            Assert.Equal(DecisionAction.Hold, held.Action);
            Assert.Equal(TimeSpan.FromSeconds(600), held.BanFor);
            Assert.Contains("not verified at its address", held.Reason);
            Assert.Contains("Decide:BanUnverified", held.Reason);
        }
        Decision banned = decider.Decide(Scan("203.0.113.9", ScanKinds.TcpXmas), 0, _t0.AddMinutes(9));
        Assert.Equal((DecisionAction.Block, TimeSpan.FromSeconds(7200)), (banned.Action, banned.BanFor));
        // Below the blocking severity, or allowlisted, it is what it always was.
        Assert.Equal(DecisionAction.Log, decider.Decide(Scan("203.0.113.9", ScanKinds.IcmpSweep, verified: false), 0, _t0.AddMinutes(10)).Action);
        Assert.Equal(DecisionAction.Allowlisted, decider.Decide(Scan("192.0.2.1", ScanKinds.TcpXmas, verified: false), 0, _t0.AddMinutes(10)).Action);
    }

    [Fact]
    public void Holds_are_bounded_and_spend_none_of_the_ban_budget_that_verified_scanners_need()
    {
        var decider = Decider(new DecideOptions { MaxHolds = 3, HoldSeconds = 60, MaxBansPerMinute = 1 });
        for (int i = 1; i <= 3; i++)
        {
            Assert.Equal(DecisionAction.Hold, decider.Decide(Scan($"203.0.113.{i}", ScanKinds.TcpSyn, verified: false), 0, _t0.AddSeconds(i)).Action);
        }
        Decision full = decider.Decide(Scan("203.0.113.4", ScanKinds.TcpSyn, verified: false), 0, _t0.AddSeconds(4));
        Assert.Equal(DecisionAction.OverCap, full.Action);
        Assert.Contains("3 holds in force reach Decide:MaxHolds", full.Reason);
        Assert.False(decider.HasRoom(Scan("203.0.113.4", ScanKinds.TcpSyn, verified: false), _t0.AddSeconds(60.5)));
        Assert.Equal(DecisionAction.Block, decider.Decide(Scan("198.51.100.7", ScanKinds.TcpSyn), 0, _t0.AddSeconds(5)).Action);
        Assert.Equal(DecisionAction.Block, decider.Decide(Scan("198.51.100.8", ScanKinds.TcpSyn), 0, _t0.AddSeconds(6)).Action);
        // The first hold runs out at 61 s: room for one, and it survives a reload.
        decider = decider.Reconfigured(decider.Allowlist, decider.Options);
        Assert.True(decider.HasRoom(Scan("203.0.113.4", ScanKinds.TcpSyn, verified: false), _t0.AddSeconds(61)));
        Assert.Equal(DecisionAction.Hold, decider.Decide(Scan("203.0.113.4", ScanKinds.TcpSyn, verified: false), 0, _t0.AddSeconds(61)).Action);
        Assert.Equal(DecisionAction.OverCap, decider.Decide(Scan("203.0.113.5", ScanKinds.TcpSyn, verified: false), 0, _t0.AddSeconds(61)).Action);
    }

    [Fact]
    public void Bad_options_name_their_key()
    {
        var errors = new DecideOptions { BanSeconds = 0, EscalationFactor = 0.5, MaxBansPerMinute = 0, PermanentAfter = -1, HoldSeconds = 7200, MaxHolds = 0 }.Validate();
        foreach (string key in new[] { "Decide:BanSeconds", "Decide:EscalationFactor", "Decide:MaxBansPerMinute", "Decide:PermanentAfter", "Decide:HoldSeconds", "Decide:MaxHolds" })
        {
            Assert.Contains(errors, e => e.Contains(key, StringComparison.Ordinal));
        }
        Assert.Throws<ArgumentException>(() => Decider(new DecideOptions { BanSeconds = 0 }));
    }
}
