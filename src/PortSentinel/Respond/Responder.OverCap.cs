using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Respond;

/// <summary>Deciding again, as soon as the caps allow (bans a minute, holds in force), the scanners they refused.</summary>
public sealed partial class Responder
{
    private const int OverCapMost = 4096;

    // The scans the cap refused that go on, oldest first, each with its alert. Respond thread only.
    private readonly Dictionary<NetAddress, (Detection Detection, long Alert)> _overCap = [];

    /// <summary>Keeps, or forgets, a detection the cap refused (at most <see cref="OverCapMost"/>, the first ones).</summary>
    private void NoteOverCap(Detection detection, Decision decision, long alert)
    {
        if (decision.Action != DecisionAction.OverCap)
        {
            _overCap.Remove(detection.Source);
        }
        else if (_overCap.Count < OverCapMost || _overCap.ContainsKey(detection.Source))
        {
            _overCap[detection.Source] = (detection, alert);
        }
    }

    /// <summary>
    /// On the respond thread, every second: the scanners the cap refused are decided again, oldest
    /// first, while the cap has room; before, a refused scanner was not decided again while its
    /// scan went on, however long, so a second scan minutes later went unbanned too.
    /// </summary>
    public void RedecideOverCap()
    {
        if (_overCap.Count == 0)
        {
            return;
        }
        foreach (var (source, (detection, alert)) in _overCap.ToList())
        {
            if (!_decider.HasRoom(detection, _context.Time.GetUtcNow()))
            {
                return;
            }
            RespondWorker.Guarded(_context.Log, $"deciding again on {source}", () => Respond(detection, alert));
        }
    }

    // A scan the cap refused has ended: decided once more, with its whole evidence, if the cap has room now.
    private void EndOverCap(Detection ended)
    {
        if (_overCap.Remove(ended.Source, out var refused) && _decider.HasRoom(ended, _context.Time.GetUtcNow()))
        {
            Respond(ended, refused.Alert);
        }
    }
}
