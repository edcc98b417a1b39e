namespace PortSentinel.Intel;

/// <summary>
/// Where reputations and reports are kept between lookups (the store implements it): the cache
/// that saves AbuseIPDB's quota, and when each scanner was last reported.
/// </summary>
public interface IReputationCache
{
    /// <summary>The reputation last looked up for <paramref name="address"/>, however old; null when never.</summary>
    Reputation? Reputation(string address);

    void SaveReputation(Reputation reputation);

    /// <summary>The reputations last looked up for these addresses (those never looked up are absent), by address, in one query.</summary>
    IReadOnlyDictionary<string, Reputation> Reputations(IReadOnlyCollection<string> addresses);

    /// <summary>When <paramref name="address"/> was last reported to AbuseIPDB; null when never.</summary>
    DateTimeOffset? LastReported(string address);

    void Reported(string address, DateTimeOffset at);
}
