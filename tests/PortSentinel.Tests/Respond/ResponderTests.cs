using System.Collections.Concurrent;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Intel;
using PortSentinel.Record;
using PortSentinel.Record.Sqlite;
using PortSentinel.Respond;
using PortSentinel.Respond.HostsDeny;

namespace PortSentinel.Tests.Respond;

/// <summary>The respond stage on its own, without a capture or a worker thread: a real SQLite file, a real file-backed firewall, a clock the test moves.</summary>
public sealed class ResponderTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("ps-respond-").FullName;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly ManualClock _clock = new();
    private readonly SqliteStore _store;

    public ResponderTests() => _store = SqliteStore.Open(_data);

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public void A_detection_is_decided_blocked_recorded_and_published()
    {
        var firewall = new DryRunFirewall(_clock);
        var (context, responder) = Stage(firewall);
        using var feed = context.Feed.Subscribe(10);

        responder.Respond(Scans.Vertical("203.0.113.9", ports: 30));

        Assert.Equal(NetPrefix.Parse("203.0.113.9"), Assert.Single(firewall.List()).Network);
        Assert.Equal((1, 1), (_store.DetectionCount(), _store.BanCount()));
        Assert.Contains(_log, l => l.StartsWith("BANNED 203.0.113.9 for 3600s offence=1 firewall=dry-run", StringComparison.Ordinal));
        Assert.True(feed.Reader.TryRead(out var alert) && alert is AlertEvent { Ended: false });
        Assert.True(feed.Reader.TryRead(out var ban) && ban is BanEvent { Lifted: false });
        Assert.Equal(1, context.Counters.BansAdded);

        // A second offence is read from the record: the ban escalates.
        responder.Respond(Scans.Vertical("203.0.113.9", ports: 30));
        Assert.Contains(_log, l => l.StartsWith("BANNED 203.0.113.9 for ", StringComparison.Ordinal) && l.Contains("offence=2", StringComparison.Ordinal));
    }

    [Fact]
    public void A_ban_the_firewall_refuses_is_tried_again_with_backoff_and_recorded_once_it_holds()
    {
        string missing = Path.Combine(_data, "etc");
        var firewall = new HostsDenyFirewall(new FirewallOptions { HostsDenyPath = Path.Combine(missing, "hosts.deny") });
        var (context, responder) = Stage(firewall);
        BanRetries retries = responder.Retries;

        responder.Respond(Scans.Vertical("203.0.113.9", ports: 30));
        Assert.Contains(_log, l => l.StartsWith("ERROR hosts-deny refused to block 203.0.113.9: ", StringComparison.Ordinal) && l.EndsWith("trying again in 1s", StringComparison.Ordinal));
        Assert.Equal(0, _store.BanCount());

        retries.RetryDue(); // not due yet
        Assert.DoesNotContain(_log, l => l.Contains("again (2 attempts)", StringComparison.Ordinal));

        _clock.Advance(TimeSpan.FromSeconds(1));
        retries.RetryDue(); // still refused: the file's folder is missing
        Assert.Contains(_log, l => l.StartsWith("ERROR hosts-deny refused to block 203.0.113.9 again (2 attempts): ", StringComparison.Ordinal) && l.EndsWith("trying again in 2s", StringComparison.Ordinal));
        Assert.Equal(2, context.Counters.FirewallErrors);

        Directory.CreateDirectory(missing);
        _clock.Advance(TimeSpan.FromSeconds(1));
        retries.RetryDue(); // due only 2 s after the second attempt
        Assert.Equal(0, _store.BanCount());

        _clock.Advance(TimeSpan.FromSeconds(1));
        retries.RetryDue();
        Assert.Equal(1, _store.BanCount());
        Assert.Contains(_log, l => l.StartsWith("BANNED 203.0.113.9 for 3597s offence=1 firewall=hosts-deny after 3 attempts", StringComparison.Ordinal));
        Assert.Contains("203.0.113.9", File.ReadAllText(Path.Combine(missing, "hosts.deny")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manual_ban_of_an_allowlisted_network_is_refused_and_a_blocklist_leaves_out_what_is_banned_already()
    {
        var firewall = new DryRunFirewall(_clock);
        var (context, responder) = Stage(firewall, allowed: [NetPrefix.Parse("198.51.100.0/24")]);
        using var worker = new RespondWorker(responder);
        worker.Start("respond test");
        var manual = new ManualCommands(worker, responder);

        var (ban, refusal) = await manual.Block(NetPrefix.Parse("198.51.100.7"), null, "test", "alice");
        Assert.Null(ban);
        Assert.Contains("which is never blocked", refusal, StringComparison.Ordinal);
        Assert.Contains(_log, l => l.StartsWith("REFUSED manual ban of 198.51.100.7 by alice", StringComparison.Ordinal));

        Assert.NotNull((await manual.Block(NetPrefix.Parse("203.0.113.1"), TimeSpan.FromHours(1), "test", "alice")).Ban);
        PreemptResult preempt = await manual.Preempt([NetPrefix.Parse("203.0.113.1"), NetPrefix.Parse("203.0.113.2"), NetPrefix.Parse("198.51.100.9")], TimeSpan.FromHours(1), "list");
        Assert.Equal(new PreemptResult(Banned: 1, AlreadyBanned: 1, Refused: 1, FirewallRefused: 0), preempt);
        Assert.Equal(2, firewall.List().Count);
        Assert.Equal(2, context.Counters.BansAdded);

        var (lifted, failures) = await manual.Unblock([NetPrefix.Parse("203.0.113.1")], "alice");
        Assert.Equal((1, 0), (lifted, failures.Count));
        Assert.Equal([NetPrefix.Parse("203.0.113.2")], firewall.List().Select(e => e.Network));
    }

    [Fact]
    public void A_scanner_the_ban_cap_refused_is_decided_again_as_soon_as_the_cap_has_room()
    {
        var firewall = new DryRunFirewall(_clock);
        var (_, responder) = Stage(firewall, decide: new DecideOptions { MaxBansPerMinute = 1, BanUnverified = true });
        responder.Respond(Scans.Vertical("203.0.113.1", ports: 30, verified: false) with { Final = false });
        responder.Respond(Scans.Vertical("203.0.113.2", ports: 30, verified: false) with { Final = false });
        Assert.Contains(_log, l => l.StartsWith("DETECTED 203.0.113.2 ", StringComparison.Ordinal) && l.Contains("action=overcap", StringComparison.Ordinal));
        Assert.Equal([NetPrefix.Parse("203.0.113.1")], firewall.List().Select(e => e.Network));

        responder.RedecideOverCap(); // the cap is still full
        Assert.Single(firewall.List());
        _clock.Advance(TimeSpan.FromSeconds(61));
        responder.RedecideOverCap();
        Assert.Equal(2, firewall.List().Count);
        Assert.Contains(_log, l => l.StartsWith("BANNED 203.0.113.2 for 3600s", StringComparison.Ordinal));
        Assert.Equal(2, _store.DetectionCount()); // decided again on its own alert, not a new one
        responder.RedecideOverCap(); // nothing waits any more
        Assert.Single(_log, l => l.StartsWith("BANNED 203.0.113.2 ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_refused_scan_that_ends_is_decided_once_more_with_its_whole_evidence()
    {
        var firewall = new DryRunFirewall(_clock);
        var (_, responder) = Stage(firewall, decide: new DecideOptions { MaxBansPerMinute = 1, BanUnverified = true });
        responder.Respond(Scans.Vertical("203.0.113.1", ports: 30, verified: false) with { Final = false });
        responder.Respond(Scans.Vertical("203.0.113.2", ports: 30, verified: false) with { Final = false });
        _clock.Advance(TimeSpan.FromSeconds(61));
        responder.RecordEnded([responder.Ending(Scans.Vertical("203.0.113.2", ports: 300, verified: false))]);
        Assert.Contains(_log, l => l.StartsWith("BANNED 203.0.113.2 ", StringComparison.Ordinal));
        Assert.Equal(2, _store.DetectionCount());
    }

    [Fact]
    public void A_source_not_verified_is_held_briefly_as_no_offence_and_banned_once_it_shows_its_address()
    {
        var firewall = new DryRunFirewall(_clock);
        var (context, responder) = Stage(firewall);
        var held = Scans.Vertical("203.0.113.9", ports: 30, verified: false) with { Final = false };
        responder.Respond(held);

        Assert.Contains(_log, l => l.StartsWith("DETECTED 203.0.113.9 ", StringComparison.Ordinal) && l.Contains("action=hold", StringComparison.Ordinal) && l.Contains("verified=no", StringComparison.Ordinal));
        Assert.Contains(_log, l => l.StartsWith("HELD 203.0.113.9 for 600s firewall=dry-run reaction=", StringComparison.Ordinal));
        Assert.DoesNotContain(_log, l => l.StartsWith("BANNED", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromSeconds(600), Assert.Single(firewall.List()).Remaining);
        BanRecord hold = Assert.Single(_store.ActiveBans(_clock.GetUtcNow()));
        Assert.True(hold.Hold);
        Assert.Equal(0, _store.PreviousBans(NetPrefix.Parse("203.0.113.9"))); // a hold is no offence
        Assert.Equal(("hold", false), Alert());

        // A handshake later in the same scan: decided again on the same alert, and banned.
        _clock.Advance(TimeSpan.FromSeconds(5));
        responder.Verified(held with { Verified = true });
        Assert.Contains(_log, l => l.StartsWith("BANNED 203.0.113.9 for 3600s offence=1 firewall=dry-run", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromSeconds(3600), Assert.Single(firewall.List()).Remaining);
        Assert.Equal(1, _store.DetectionCount());
        Assert.Equal(("block", true), Alert());
        Assert.Equal(2, context.Counters.BansAdded);

        // Told again (another contact verified), it is not decided a third time.
        responder.Verified(held with { Verified = true });
        Assert.Single(_log, l => l.StartsWith("BANNED", StringComparison.Ordinal));

        (string?, bool) Alert() => _store.Alerts(new AlertQuery()).Page is [var a] ? (a.Action, a.Verified) : throw new InvalidOperationException("one alert expected");
    }

    [Fact]
    public void Holds_beyond_the_bound_are_refused_and_decided_again_when_a_hold_runs_out()
    {
        var firewall = new DryRunFirewall(_clock);
        var (_, responder) = Stage(firewall, decide: new DecideOptions { MaxHolds = 1, HoldSeconds = 30 });
        responder.Respond(Scans.Vertical("203.0.113.1", ports: 30, verified: false) with { Final = false });
        responder.Respond(Scans.Vertical("203.0.113.2", ports: 30, verified: false) with { Final = false });
        Assert.Contains(_log, l => l.StartsWith("DETECTED 203.0.113.2 ", StringComparison.Ordinal) && l.Contains("action=overcap", StringComparison.Ordinal) && l.Contains("Decide:MaxHolds", StringComparison.Ordinal));
        responder.RedecideOverCap();
        Assert.DoesNotContain(_log, l => l.StartsWith("HELD 203.0.113.2 ", StringComparison.Ordinal));
        _clock.Advance(TimeSpan.FromSeconds(30));
        responder.RedecideOverCap();
        Assert.Contains(_log, l => l.StartsWith("HELD 203.0.113.2 for 30s", StringComparison.Ordinal));
    }

    private (RespondContext Context, Responder Responder) Stage(IFirewall firewall, IReadOnlyList<NetPrefix>? allowed = null, DecideOptions? decide = null)
    {
        var context = new RespondContext(firewall, _store, new SensorFeed(), _log.Enqueue, _clock);
        var responder = new Responder(context, new Decider(new Allowlist(HostFacts.Read(), allowed ?? []), decide ?? new DecideOptions()), new FirewallOptions());
        return (context, responder);
    }

    /// <summary>A clock that moves only when the test says, for both the wall clock and timestamps.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;

        public void Advance(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;

        public override long GetTimestamp() => _now.UtcTicks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }
}
