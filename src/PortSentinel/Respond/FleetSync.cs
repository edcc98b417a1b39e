using PortSentinel.Decode;
using PortSentinel.Record;

namespace PortSentinel.Respond;

/// <summary>
/// The fleet's blocklist kept in this sensor's firewall, and its allowlist in this sensor's: a
/// thread listens for the changes that other sensors, dashboards and the CLI make to the shared
/// store, reads where each changed network now stands, and has the respond thread ban or lift it
/// (unless this sensor's allowlist or the width rule refuses, as for a ban by hand). It listens
/// first and catches up after, on start and after every lost connection, from the last change it
/// applied, so that none is missed. What the firewall refuses is logged and counted, not retried:
/// the network's next change, or the restore at the next start, puts it right.
/// </summary>
public sealed class FleetSync(IFleetStore fleet, RespondWorker worker, Responder responder) : IDisposable
{
    // Lines per network in one batch; beyond, a summary (a blocklist import is thousands).
    private const int LinesPerBatch = 20;

    private static readonly TimeSpan _firstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan _lastRetry = TimeSpan.FromSeconds(30);

    // How long one wait for an announcement lasts: how soon a stop is seen.
    private static readonly TimeSpan _poll = TimeSpan.FromMilliseconds(250);

    // How often at most the place reached is recorded (sensors.applied): each record is a commit,
    // and a hundred sensors following 20 bans a second would otherwise write 2,000 a second. A
    // sensor that stops unexpectedly catches up from a place a second older, applying again what
    // it had, which changes nothing.
    private static readonly TimeSpan _recordEvery = TimeSpan.FromSeconds(1);

    private readonly RespondContext _context = responder.Context;
    private readonly ManualResetEventSlim _stopping = new();
    private Thread? _thread;
    private IFleetListener? _first; // opened by FindPlace, taken by the thread
    private long _applied;
    private long _recorded; // the place last recorded (the fleet thread's)
    private long _recordedAt; // when, in Environment.TickCount64 ms
    private IReadOnlyList<(NetPrefix Network, string Comment)> _allowed = []; // the fleet thread's (and Start's) only

    /// <summary>The change the firewall is known to hold everything up to.</summary>
    public long Applied => Interlocked.Read(ref _applied);

    /// <summary>
    /// Before the firewall's setup puts back the bans in force and arms the guard, and before the
    /// respond thread starts: listens (which claims this sensor's name: a second sensor of the
    /// name is refused here, with a <see cref="StoreException"/>), takes in the fleet-wide
    /// allowlist, and finds the change to follow on from, the last this sensor applied, or for a
    /// sensor new to the fleet the latest (the restore puts in all before it).
    /// </summary>
    public void FindPlace()
    {
        _first = fleet.Listen();
        _allowed = Allowed();
        responder.AllowFleetWide(_allowed, rearm: false);
        if (_allowed.Count > 0)
        {
            _context.Log(AllowlistLine());
        }
        long? last = fleet.LastApplied();
        _applied = last ?? fleet.LatestChange();
        // A sensor new to the fleet records its place at once: stopped before any change, it
        // would otherwise start again from the latest, past the lifts made meanwhile.
        _recorded = last ?? -1;
    }

    /// <summary>Starts following the fleet's blocklist after the place found.</summary>
    public void Start()
    {
        _thread = new Thread(Follow) { Name = "fleet", IsBackground = true };
        _thread.Start();
    }

    public void Stop()
    {
        _stopping.Set();
        _thread?.Join();
    }

    public void Dispose()
    {
        Stop();
        Interlocked.Exchange(ref _first, null)?.Dispose();
        _stopping.Dispose();
    }

    private void Follow()
    {
        TimeSpan retry = _firstRetry;
        bool lost = false;
        while (!_stopping.IsSet)
        {
            try
            {
                using IFleetListener listener = Interlocked.Exchange(ref _first, null) ?? fleet.Listen();
                if (lost)
                {
                    _context.Log($"FLEET blocklist reachable again; catching up after change {Applied}");
                    lost = false;
                }
                FollowAllowlist();
                CatchUp();
                retry = _firstRetry;
                while (!_stopping.IsSet)
                {
                    FleetNews news = listener.Wait(_poll);
                    if (news.HasFlag(FleetNews.Allowlist))
                    {
                        FollowAllowlist();
                    }
                    if (news.HasFlag(FleetNews.Bans))
                    {
                        CatchUp();
                    }
                    RecordPlace(force: false);
                }
                RecordPlace(force: true);
            }
#pragma warning disable CA1031 // whatever failed (the store, a full queue, the firewall) is reported and tried again: this thread must not end the sensor
            catch (Exception e)
#pragma warning restore CA1031
            {
                if (_stopping.IsSet)
                {
                    return;
                }
                _context.Log($"WARNING the fleet's blocklist cannot be followed: {e.Message.TrimEnd('.')}; trying again in {retry.TotalSeconds:0}s (bans made here still apply here)");
                lost = true;
                _stopping.Wait(retry);
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, _lastRetry.Ticks));
            }
        }
    }

    /// <summary>Reads the fleet-wide allowlist and, when it changed, has the respond thread decide with it.</summary>
    private void FollowAllowlist()
    {
        IReadOnlyList<(NetPrefix Network, string Comment)> allowed = Allowed();
        if (allowed.SequenceEqual(_allowed))
        {
            return;
        }
        _allowed = allowed;
        worker.Run(() =>
        {
            responder.AllowFleetWide(allowed);
            return true;
        }).GetAwaiter().GetResult();
        _context.Log(AllowlistLine());
    }

    private List<(NetPrefix Network, string Comment)> Allowed() => [.. fleet.FleetAllowlist().Select(a => (a.Network, a.Comment))];

    private string AllowlistLine() => _allowed.Count == 0
        ? "FLEET ALLOWLIST empty"
        : $"FLEET ALLOWLIST {_allowed.Count} entries never blocked here: {string.Join(", ", _allowed.Take(LinesPerBatch).Select(a => $"{a.Network} ({a.Comment})"))}{(_allowed.Count > LinesPerBatch ? ", …" : "")}";

    /// <summary>Applies every change after the last one applied.</summary>
    private void CatchUp()
    {
        FleetChanges changes = fleet.ChangesAfter(Applied, _context.Time.GetUtcNow());
        if (changes.Latest == Applied)
        {
            return;
        }
        if (changes.Unreadable is [var first, ..] unreadable)
        {
            _context.Log($"WARNING {unreadable.Count} bans of the fleet's record name no network (e.g. \"{first[..Math.Min(first.Length, 80)]}\"): skipped; a row written by hand or damaged, to remove from the bans table");
        }
        // Those this sensor wrote last are in its firewall already.
        List<BanChange> theirs = [.. changes.Networks.Where(c => c.By != fleet.Writer)];
        if (theirs.Count > 0)
        {
            worker.Run(() => Apply(theirs)).GetAwaiter().GetResult();
        }
        Interlocked.Exchange(ref _applied, changes.Latest);
    }

    /// <summary>Records the place reached when it moved, at most every second unless <paramref name="force"/>d (at stop).</summary>
    private void RecordPlace(bool force)
    {
        long applied = Applied;
        if (applied != _recorded && (force || Environment.TickCount64 - _recordedAt >= _recordEvery.TotalMilliseconds))
        {
            fleet.Applied(applied);
            _recorded = applied;
            _recordedAt = Environment.TickCount64;
        }
    }

    /// <summary>On the respond thread: bans and lifts the changed networks in one firewall batch each.</summary>
    private bool Apply(List<BanChange> changes)
    {
        DateTimeOffset now = _context.Time.GetUtcNow();
        var bans = new List<BanChange>();
        int refused = 0;
        foreach (BanChange change in changes.Where(c => c.Active))
        {
            if (responder.Decider.RefuseManual(change.Network) is { } refusal)
            {
                if (refused++ < LinesPerBatch)
                {
                    _context.Log($"REFUSED fleet ban of {change.Network} by {change.By}: {refusal}");
                }
            }
            else
            {
                bans.Add(change);
            }
        }
        if (refused > LinesPerBatch)
        {
            _context.Log($"REFUSED {refused - LinesPerBatch} more fleet bans (allowlisted or too wide)");
        }
        List<BanChange> lifts = [.. changes.Where(c => !c.Active)];
        IFirewall firewall = _context.Firewall;
        // A ban that ran out on its way gets a second: no timeout at all would make it permanent.
        Report(bans, bans.Count == 0 ? [] : firewall.Block([.. bans.Select(c => new FirewallEntry(c.Network, c.Expires is { } e ? Max(e - now, TimeSpan.FromSeconds(1)) : null, Mode: "fleet"))]), now, lifted: false);
        Report(lifts, lifts.Count == 0 ? [] : firewall.Unblock([.. lifts.Select(c => c.Network)]), now, lifted: true);
        return true;
    }

    /// <summary>Tells the watchers and the log what the firewall took, and what it refused.</summary>
    private void Report(List<BanChange> changes, IReadOnlyList<FirewallFailure> failures, DateTimeOffset now, bool lifted)
    {
        HashSet<NetPrefix> failed = [.. failures.Select(f => f.Network)];
        int lines = 0;
        foreach (BanChange change in changes.Where(c => !failed.Contains(c.Network)))
        {
            _context.Feed.Publish(new BanEvent(now, new BanRecord(change.Network, change.Reason, now, change.Expires, 0, lifted ? now : null, lifted ? change.By : null), lifted, change.By));
            if (lines++ < LinesPerBatch)
            {
                _context.Log(lifted
                    ? $"FLEET UNBANNED {change.Network} by {change.By}"
                    : $"FLEET BANNED {change.Network} for {RespondContext.Length(change.Expires - now)} firewall={_context.Firewall.Name} by {change.By}: {change.Reason}");
            }
        }
        if (lines > LinesPerBatch)
        {
            _context.Log($"FLEET {(lifted ? "UNBANNED" : "BANNED")} {lines - LinesPerBatch} more networks");
        }
        if (failures.Count > 0)
        {
            _context.Counters.FirewallFailed(failures.Count);
            _context.Log($"ERROR {_context.Firewall.Name} refused to {(lifted ? "lift" : "apply")} {failures.Count} fleet bans, e.g. {failures[0].Network}: {failures[0].ReasonLine}");
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
