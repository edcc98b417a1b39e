namespace PortSentinel.Record;

/// <summary>A dashboard account. <see cref="Stamp"/> changes with the password, which ends the sessions made before.</summary>
public sealed record UserRecord(string Name, string Role, string PasswordHash, string Stamp, DateTimeOffset Created, int Failures, DateTimeOffset? LockedUntil);

/// <summary>An API token as stored: its hash only; the token itself was shown once.</summary>
public sealed record TokenRecord(long Id, string Name, string Role, DateTimeOffset Created, string CreatedBy, DateTimeOffset? LastUsed, DateTimeOffset? Revoked);

/// <summary>A manual action: who, when, what, on what, from where.</summary>
public sealed record AuditRecord(long Id, DateTimeOffset At, string Actor, string Action, string Target, string Detail, string Remote);
