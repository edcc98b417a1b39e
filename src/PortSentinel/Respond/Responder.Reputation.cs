using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Detect;
using PortSentinel.Intel;
using PortSentinel.Record;

namespace PortSentinel.Respond;

/// <summary>Deciding again when a source's reputation comes after its detection was decided without it.</summary>
public sealed partial class Responder
{
    private const int AwaitingMost = 4096;

    private readonly Dictionary<NetAddress, (Detection Detection, long Alert)> _awaiting = []; // respond thread only

    /// <summary>
    /// Asks for the reputation of a public source not known yet; a source only logged is kept
    /// (the latest detection of each, at most <see cref="AwaitingMost"/>) to be decided again when
    /// it comes: a known-bad scanner is then blocked.
    /// </summary>
    private void AwaitReputation(ReputationService reputation, Detection detection, Decision decision, long alert)
    {
        reputation.Request(detection.Source);
        if (decision.Action == DecisionAction.Log && PublicAddresses.IsPublic(detection.Source)
            && (_awaiting.Count < AwaitingMost || _awaiting.ContainsKey(detection.Source)))
        {
            _awaiting[detection.Source] = (detection, alert);
        }
    }

    /// <summary>On the respond thread: a lookup is done; the watchers are told, a source waiting for it is decided again.</summary>
    public void OnReputation(Reputation reputation)
    {
        ArgumentNullException.ThrowIfNull(reputation);
        _context.Log($"REPUTATION {reputation.Address} score={reputation.Score} reports={reputation.TotalReports} country={reputation.CountryCode ?? "-"} isp={reputation.Isp ?? "-"}");
        _context.Feed.Publish(new ReputationEvent(_context.Time.GetUtcNow(), reputation));
        if (_awaiting.Remove(NetAddress.Parse(reputation.Address), out var waiting))
        {
            ApplyReconfiguration();
            RespondWorker.Guarded(_context.Log, $"deciding again on {waiting.Detection.Source}", () => Respond(waiting.Detection, waiting.Alert));
        }
    }
}
