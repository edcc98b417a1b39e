namespace PortSentinel.Record;

/// <summary>The dashboard's and the API's accounts: users, their logins and lockouts, and API tokens.</summary>
public interface IAccountStore
{
    /// <summary>Every user, by name.</summary>
    IReadOnlyList<UserRecord> Users();

    /// <summary>The user called <paramref name="name"/> (case-insensitive), or null.</summary>
    UserRecord? User(string name);

    /// <summary>How many users there are (none: the first start asks for an administrator).</summary>
    long UserCount();

    /// <summary>Adds a user; false when the name is taken.</summary>
    bool AddUser(UserRecord user);

    /// <summary>Removes a user; false when there is none of that name.</summary>
    bool RemoveUser(string name);

    /// <summary>Sets a new password (and stamp) and clears a lockout; false when there is no such user.</summary>
    bool SetPassword(string name, string hash, string stamp);

    /// <summary>Gives a user another role; false when there is no such user.</summary>
    bool SetRole(string name, string role);

    /// <summary>
    /// Admits a login attempt and counts it as failed before its password is checked, in one
    /// statement: parallel attempts cannot all pass the lock check before any of them is counted (100
    /// at once had 6 passwords checked against a lockout after 5). The <paramref name="lockAfter"/>th
    /// in a row sets the lock, until <paramref name="now"/> + <paramref name="lockFor"/>, and starts the
    /// count again; <see cref="LoginSucceeded"/> clears both when the password was right. An attempt
    /// while the lock holds is not admitted and not counted.
    /// </summary>
    LoginAttempt BeginLogin(string name, int lockAfter, TimeSpan lockFor, DateTimeOffset now);

    /// <summary>The password was right: the count of failures in a row and any lock are cleared.</summary>
    void LoginSucceeded(string name);

    /// <summary>Records an API token by the hash of its secret, with its name and role; returns its id.</summary>
    long AddToken(string name, string role, string hash, string createdBy, DateTimeOffset created);

    /// <summary>Every token, revoked ones too, by id.</summary>
    IReadOnlyList<TokenRecord> Tokens();

    /// <summary>
    /// The token, not revoked, whose hash is <paramref name="hash"/>; marks it used at
    /// <paramref name="now"/>, to the minute (a write per request would slow a busy script down).
    /// </summary>
    TokenRecord? UseToken(string hash, DateTimeOffset now);

    /// <summary>Revokes a token; false when there is no such token in use.</summary>
    bool RevokeToken(long id, DateTimeOffset now);
}
