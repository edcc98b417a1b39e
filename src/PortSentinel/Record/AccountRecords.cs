namespace PortSentinel.Record;

/// <summary>A dashboard account. <see cref="Stamp"/> changes with the password, which ends the sessions made before.</summary>
public sealed record UserRecord(string Name, string Role, string PasswordHash, string Stamp, DateTimeOffset Created, int Failures, DateTimeOffset? LockedUntil);

/// <summary>
/// A login attempt as the store saw it before the password was checked: <see cref="Admitted"/> (and
/// counted as failed until the password proves right), with <see cref="LockedUntil"/> the lock this
/// attempt set, if it was the one that reached the limit; or not admitted, with <see cref="LockedUntil"/>
/// the lock in force (null: no such user).
/// </summary>
public readonly record struct LoginAttempt(bool Admitted, DateTimeOffset? LockedUntil);

/// <summary>An API token as stored: its hash only; the token itself was shown once.</summary>
public sealed record TokenRecord(long Id, string Name, string Role, DateTimeOffset Created, string CreatedBy, DateTimeOffset? LastUsed, DateTimeOffset? Revoked);

/// <summary>A manual action: who, when, what, on what, from where.</summary>
public sealed record AuditRecord(long Id, DateTimeOffset At, string Actor, string Action, string Target, string Detail, string Remote);
