namespace PortSentinel.Record;

/// <summary>Who changed what, from where: every control action of the dashboard, the API and the CLI.</summary>
public interface IAuditLog
{
    /// <summary>Records one action: when, by whom (a user, a token or the CLI), what, on what, with what detail, from which address.</summary>
    void Audit(DateTimeOffset at, string actor, string action, string target, string detail, string remote);

    /// <summary>The audit log, newest first, a page at a time, and its length.</summary>
    (IReadOnlyList<AuditRecord> Page, long Total) AuditLog(int offset, int limit);
}
