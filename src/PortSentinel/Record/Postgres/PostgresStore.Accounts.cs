using Npgsql;

namespace PortSentinel.Record.Postgres;

public sealed partial class PostgresStore
{
    private const string UserColumns = "name, role, password_hash, stamp, created, failures, locked_until";
    private const string TokenColumns = "id, name, role, created, created_by, last_used, revoked";

    public IReadOnlyList<UserRecord> Users() => Read($"SELECT {UserColumns} FROM users ORDER BY name", ReadUser);

    public UserRecord? User(string name) => Read($"SELECT {UserColumns} FROM users WHERE lower(name) = lower(@name)", ReadUser, ("@name", name)) is [var user] ? user : null;

    public long UserCount() => Scalar<long>("SELECT count(*) FROM users");

    public bool AddUser(UserRecord user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return Change("INSERT INTO users (name, role, password_hash, stamp, created) VALUES (@name, @role, @hash, @stamp, @created) ON CONFLICT ((lower(name))) DO NOTHING",
            ("@name", user.Name), ("@role", user.Role), ("@hash", user.PasswordHash), ("@stamp", user.Stamp), ("@created", user.Created)) == 1;
    }

    public bool RemoveUser(string name) => Change("DELETE FROM users WHERE lower(name) = lower(@name)", ("@name", name)) == 1;

    public bool SetPassword(string name, string hash, string stamp) =>
        Change("UPDATE users SET password_hash = @hash, stamp = @stamp, failures = 0, locked_until = NULL WHERE lower(name) = lower(@name)", ("@name", name), ("@hash", hash), ("@stamp", stamp)) == 1;

    public bool SetRole(string name, string role) => Change("UPDATE users SET role = @role WHERE lower(name) = lower(@name)", ("@name", name), ("@role", role)) == 1;

    public LoginAttempt BeginLogin(string name, int lockAfter, TimeSpan lockFor, DateTimeOffset now)
    {
        List<DateTimeOffset?> admitted = Read(
            """
            UPDATE users SET
                failures = CASE WHEN failures + 1 >= @after THEN 0 ELSE failures + 1 END,
                locked_until = CASE WHEN failures + 1 >= @after THEN @until ELSE NULL END
            WHERE lower(name) = lower(@name) AND (locked_until IS NULL OR locked_until <= @now)
            RETURNING locked_until
            """,
            row => TimeOrNull(row, 0),
            ("@name", name), ("@after", lockAfter), ("@until", now + lockFor), ("@now", now));
        return admitted is [var locks] ? new LoginAttempt(true, locks) : new LoginAttempt(false, User(name)?.LockedUntil);
    }

    public void LoginSucceeded(string name) => Change("UPDATE users SET failures = 0, locked_until = NULL WHERE lower(name) = lower(@name)", ("@name", name));

    public long AddToken(string name, string role, string hash, string createdBy, DateTimeOffset created) =>
        Scalar<long>("INSERT INTO api_tokens (name, role, hash, created, created_by) VALUES (@name, @role, @hash, @created, @by) RETURNING id",
            ("@name", name), ("@role", role), ("@hash", hash), ("@created", created), ("@by", createdBy));

    public IReadOnlyList<TokenRecord> Tokens() => Read($"SELECT {TokenColumns} FROM api_tokens ORDER BY id", ReadToken);

    public TokenRecord? UseToken(string hash, DateTimeOffset now)
    {
        Change("UPDATE api_tokens SET last_used = @now WHERE hash = @hash AND revoked IS NULL AND (last_used IS NULL OR last_used <= @now - interval '1 minute')", ("@hash", hash), ("@now", now));
        return Read($"SELECT {TokenColumns} FROM api_tokens WHERE hash = @hash AND revoked IS NULL", ReadToken, ("@hash", hash)) is [var token] ? token : null;
    }

    public bool RevokeToken(long id, DateTimeOffset now) =>
        Change("UPDATE api_tokens SET revoked = @now WHERE id = @id AND revoked IS NULL", ("@id", id), ("@now", now)) == 1;

    public void Audit(DateTimeOffset at, string actor, string action, string target, string detail, string remote) =>
        Change("INSERT INTO audit (at, actor, action, target, detail, remote) VALUES (@at, @actor, @action, @target, @detail, @remote)",
            ("@at", at), ("@actor", actor), ("@action", action), ("@target", target), ("@detail", detail), ("@remote", remote));

    public (IReadOnlyList<AuditRecord> Page, long Total) AuditLog(int offset, int limit)
    {
        long total = Scalar<long>("SELECT count(*) FROM audit");
        IReadOnlyList<AuditRecord> page = Read("SELECT id, at, actor, action, target, detail, remote FROM audit ORDER BY at DESC, id DESC LIMIT @limit OFFSET @offset",
            row => new AuditRecord(row.GetInt64(0), Time(row, 1), row.GetString(2), row.GetString(3), row.GetString(4), row.GetString(5), row.GetString(6)),
            ("@limit", limit), ("@offset", offset));
        return (page, total);
    }

    private static UserRecord ReadUser(NpgsqlDataReader row) =>
        new(row.GetString(0), row.GetString(1), row.GetString(2), row.GetString(3), Time(row, 4), row.GetInt32(5), TimeOrNull(row, 6));

    private static TokenRecord ReadToken(NpgsqlDataReader row) =>
        new(row.GetInt64(0), row.GetString(1), row.GetString(2), Time(row, 3), row.GetString(4), TimeOrNull(row, 5), TimeOrNull(row, 6));
}
