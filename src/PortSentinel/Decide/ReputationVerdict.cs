namespace PortSentinel.Decide;

/// <summary>How a reputation weighs on a decision: severity steps up, critical from a score, bans longer.</summary>
public sealed record ReputationVerdict(int Score, int Steps, bool Critical, double BanFactor)
{
    public Severity Apply(Severity severity) => Critical ? Severity.Critical : (Severity)Math.Min((int)severity + Steps, (int)Severity.Critical);
}
