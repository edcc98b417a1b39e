using System.Reflection;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Record;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace PortSentinel.Tests.Record;

/// <summary>
/// What every store must do, whatever keeps it: each store's tests derive from this and open their
/// own real store (for SQLite, a file in a directory of the test's own; for PostgreSQL, a database
/// of its own on the test run's server). Tests of one store's own matters (its file, its
/// migrations) stay in its class. A store that cannot run here says why in a public static
/// <c>Unavailable</c>, and its contract tests are skipped with that reason.
/// </summary>
public abstract class StoreContract
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Opens the test's store: the same one each time, so that a reopened store shows what was kept.</summary>
    protected abstract IStore Open();

    /// <summary>The schema version a store brought up to date has.</summary>
    protected abstract int SchemaVersion { get; }

    protected static BanRecord Ban(string network, int minutes, int offence = 1) =>
        new(NetPrefix.Parse(network), "tcp-syn,vertical", T0, minutes < 0 ? null : T0.AddMinutes(minutes), offence);

    protected static Detection Scan(string source, ScanKinds kinds = ScanKinds.TcpSyn | ScanKinds.Vertical, int ports = 200, bool final = false) => new()
    {
        Source = NetAddress.Parse(source),
        Kinds = kinds,
        Targets = [NetAddress.Parse("192.0.2.2"), NetAddress.Parse("192.0.2.3")],
        TargetCount = 2,
        Ports = ports,
        PortRanges = $"tcp 1-{ports}",
        Protocols = 0,
        Probes = ports,
        First = T0,
        Last = T0.AddSeconds(1),
        Trigger = "trw",
        Confidence = 0.99,
        Outcomes = new DetectionOutcomes(2, ports - 2, 0, 0, 0),
        Final = final,
    };

    [ContractFact]
    public void Unexpired_bans_survive_a_restart_and_expired_or_lifted_ones_do_not()
    {
        using (IStore store = Open())
        {
            store.AddBans([Ban("203.0.113.7", 60), Ban("203.0.113.8", 5), Ban("198.51.100.0/24", -1), Ban("2001:db8::66", 120), Ban("203.0.113.9", 60)]);
            Assert.Equal(1, store.LiftBans([NetPrefix.Parse("203.0.113.9"), NetPrefix.Parse("192.0.2.200")], T0.AddMinutes(1), "admin"));
        }
        using (IStore reopened = Open())
        {
            Assert.Equal(SchemaVersion, reopened.SchemaVersion);
            var active = reopened.ActiveBans(T0.AddMinutes(10));
            Assert.Equal(["203.0.113.7", "198.51.100.0/24", "2001:db8::66"], active.Select(b => b.Network.ToString()));
            Assert.Null(active.Single(b => !b.Network.IsHost).Expires);
            BanRecord lifted = Assert.Single(reopened.BansOf(NetPrefix.Parse("203.0.113.9")));
            Assert.Equal("admin", lifted.LiftedBy);
            Assert.Equal(T0.AddMinutes(1), lifted.Lifted);
        }
    }

    [ContractFact]
    public void Previous_bans_count_every_ban_of_the_network_for_escalation()
    {
        using IStore store = Open();
        store.AddBans([Ban("203.0.113.7", 60, 1)]);
        store.AddBans([Ban("203.0.113.7", 120, 2), Ban("203.0.113.8", 60)]);
        Assert.Equal(2, store.PreviousBans(NetPrefix.Parse("203.0.113.7")));
        Assert.Equal(0, store.PreviousBans(NetPrefix.Parse("203.0.113.70")));
    }

    [ContractFact]
    public void An_alert_raised_with_its_decision_is_completed_by_its_end()
    {
        using IStore store = Open();
        Detection early = Scan("203.0.113.7", ports: 10);
        var decision = new Decision(early, Severity.High, DecisionAction.Block, TimeSpan.FromHours(1), 1, "blocked: high");
        long id = store.RaiseAlert(early, decision, T0.AddSeconds(1));
        AlertRecord open = store.Alert(id)!;
        Assert.Null(open.Ended);
        Assert.Equal(10, open.Ports);
        Assert.Equal("high", open.Severity);

        store.EndAlerts([(id, Scan("203.0.113.7", ports: 300, final: true))], T0.AddMinutes(2));
        AlertRecord done = store.Alert(id)!;
        Assert.Equal(1, store.DetectionCount());
        Assert.Equal(300, done.Ports);
        Assert.Equal("high", done.Severity); // the decision stays
        Assert.Equal("block", done.Action);
        Assert.Equal("blocked: high", done.Reason);
        Assert.Equal(T0.AddSeconds(1), done.Raised);
        Assert.Equal(T0.AddMinutes(2), done.Ended);
        Assert.Equal(["tcp-syn", "vertical"], done.Kinds);
        Assert.Equal(298, done.Outcomes.Closed);
        Assert.Null(store.Alert(id + 1));
        Assert.Throws<StoreException>(() => store.EndAlerts([(id + 1, early)], T0));
    }

    [ContractFact]
    public void Alerts_are_found_by_time_source_kind_severity_blocked_and_text_newest_first()
    {
        using IStore store = Open();
        for (int i = 0; i < 30; i++)
        {
            Detection d = Scan($"203.0.113.{i % 3}", i % 2 == 0 ? ScanKinds.TcpSyn | ScanKinds.Vertical : ScanKinds.Udp | ScanKinds.Horizontal);
            Severity severity = i % 5 == 0 ? Severity.Critical : Severity.Medium;
            store.RaiseAlert(d, new Decision(d, severity, i % 4 == 0 ? DecisionAction.Block : DecisionAction.Log, null, 1, $"reason {i}"), T0.AddMinutes(i));
        }
        var (all, total) = store.Alerts(new AlertQuery { Limit = 10 });
        Assert.Equal(30, total);
        Assert.Equal(10, all.Count);
        Assert.Equal(T0.AddMinutes(29), all[0].Raised); // newest first
        Assert.Equal(T0.AddMinutes(20), all[9].Raised);
        Assert.Equal(T0.AddMinutes(19), store.Alerts(new AlertQuery { Offset = 10, Limit = 1 }).Page[0].Raised);

        Assert.Equal(15, store.Alerts(new AlertQuery { Kind = "udp" }).Total);
        Assert.Equal(0, store.Alerts(new AlertQuery { Kind = "tcp" }).Total); // names match whole
        Assert.Equal(10, store.Alerts(new AlertQuery { Source = "203.0.113.1" }).Total);
        Assert.Equal(6, store.Alerts(new AlertQuery { Severity = "critical" }).Total);
        Assert.Equal(8, store.Alerts(new AlertQuery { Blocked = true }).Total);
        Assert.Equal(22, store.Alerts(new AlertQuery { Blocked = false }).Total);
        Assert.Equal(10, store.Alerts(new AlertQuery { From = T0.AddMinutes(10), To = T0.AddMinutes(20) }).Total);
        Assert.Equal(1, store.Alerts(new AlertQuery { Text = "reason 17" }).Total);
        Assert.Equal(0, store.Alerts(new AlertQuery { Text = "100%" }).Total); // % is a character, not a wildcard
        Assert.Equal(4, store.Alerts(new AlertQuery { Source = "203.0.113.2", Kind = "tcp-syn", Severity = "medium" }).Total); // i = 2, 8, 14, 26

        var minutes = store.AlertsPerMinute(T0.AddMinutes(25));
        Assert.Equal(5, minutes.Count);
        Assert.All(minutes, m => Assert.Equal(1, m.Alerts));
        var top = store.TopSources(T0, 2);
        Assert.Equal(2, top.Count);
        Assert.Equal(10, top[0].Alerts);
    }

    [ContractFact]
    public void Users_are_added_once_locked_after_failures_and_removed()
    {
        using IStore store = Open();
        var alice = new UserRecord("alice", "admin", "hash", "stamp", T0, 0, null);
        Assert.True(store.AddUser(alice));
        Assert.False(store.AddUser(alice with { Name = "ALICE" })); // names are case-insensitive
        Assert.Equal("alice", store.User("Alice")!.Name);
        Assert.Equal(new LoginAttempt(true, null), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), T0));
        Assert.Equal(new LoginAttempt(true, null), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), T0));
        Assert.Equal(new LoginAttempt(true, T0.AddMinutes(15)), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), T0));
        Assert.Equal(T0.AddMinutes(15), store.User("alice")!.LockedUntil);
        // While locked: not admitted, not counted; after the lock: admitted, and counted from 1 again.
        Assert.Equal(new LoginAttempt(false, T0.AddMinutes(15)), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), T0.AddMinutes(1)));
        Assert.Equal(new LoginAttempt(true, null), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), T0.AddMinutes(15)));
        Assert.Equal(1, store.User("alice")!.Failures);
        store.LoginSucceeded("alice");
        Assert.Equal(0, store.User("alice")!.Failures);
        Assert.Equal(new LoginAttempt(true, null), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), T0.AddMinutes(16)));
        Assert.Equal(new LoginAttempt(true, null), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), T0.AddMinutes(16)));
        Assert.Equal(new LoginAttempt(true, T0.AddMinutes(31)), store.BeginLogin("alice", 3, TimeSpan.FromMinutes(15), T0.AddMinutes(16)));
        Assert.True(store.SetPassword("alice", "hash2", "stamp2"));
        UserRecord changed = store.User("alice")!;
        Assert.Null(changed.LockedUntil);
        Assert.Equal("stamp2", changed.Stamp);
        Assert.Equal(new LoginAttempt(false, null), store.BeginLogin("nobody", 3, TimeSpan.FromMinutes(15), T0));
        Assert.Equal(1, store.UserCount());
        Assert.True(store.RemoveUser("alice"));
        Assert.False(store.RemoveUser("alice"));
        Assert.Empty(store.Users());
    }

    [ContractFact]
    public void Tokens_are_found_by_hash_until_revoked_and_the_audit_log_pages_newest_first()
    {
        using IStore store = Open();
        long id = store.AddToken("backup", "viewer", "h1", "user:alice", T0);
        Assert.Equal(T0.AddHours(1), store.UseToken("h1", T0.AddHours(1))!.LastUsed);
        Assert.Null(store.UseToken("h2", T0));
        Assert.True(store.RevokeToken(id, T0.AddHours(2)));
        Assert.False(store.RevokeToken(id, T0.AddHours(2)));
        Assert.Null(store.UseToken("h1", T0.AddHours(3)));
        Assert.Equal(T0.AddHours(2), Assert.Single(store.Tokens()).Revoked);

        for (int i = 0; i < 5; i++)
        {
            store.Audit(T0.AddMinutes(i), "user:alice", "ban.add", $"203.0.113.{i}", "for 1h", "127.0.0.1");
        }
        var (page, total) = store.AuditLog(1, 2);
        Assert.Equal(5, total);
        Assert.Equal(["203.0.113.3", "203.0.113.2"], page.Select(a => a.Target));
    }
}

/// <summary>A contract test: run for each store that derives from <see cref="StoreContract"/>, skipped with the reason its class's <c>Unavailable</c> gives.</summary>
[XunitTestCaseDiscoverer("PortSentinel.Tests.Record.ContractFactDiscoverer", "PortSentinel.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class ContractFactAttribute : FactAttribute;

public sealed class ContractFactDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        ArgumentNullException.ThrowIfNull(discoveryOptions);
        ArgumentNullException.ThrowIfNull(testMethod);
        TestMethodDisplay display = discoveryOptions.MethodDisplayOrDefault();
        TestMethodDisplayOptions options = discoveryOptions.MethodDisplayOptionsOrDefault();
        PropertyInfo? unavailable = testMethod.TestClass.Class.ToRuntimeType().GetProperty("Unavailable", BindingFlags.Public | BindingFlags.Static);
        yield return unavailable?.GetValue(null) is string reason
            ? new XunitSkippedDataRowTestCase(diagnostics, display, options, testMethod, reason)
            : new XunitTestCase(diagnostics, display, options, testMethod);
    }
}
