using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using PortSentinel.Record;

namespace PortSentinel.Web.Accounts;

/// <summary>
/// Accounts and their secrets, for the CLI and the dashboard alike: names and passwords checked
/// at the edge, passwords hashed with ASP.NET Core's <see cref="PasswordHasher{TUser}"/>
/// (PBKDF2), API tokens stored as their SHA-256 only.
/// </summary>
public static partial class Passwords
{
    public const int MinimumLength = 12;

    private static readonly PasswordHasher<string> _hasher = new();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
    private static partial Regex NamePattern();

    /// <summary>Why <paramref name="name"/> cannot be a user name, or null.</summary>
    public static string? CheckName(string? name) =>
        name is not null && NamePattern().IsMatch(name) ? null : $"the user name \"{name}\" is not allowed; use 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit.";

    /// <summary>Why <paramref name="password"/> is not good enough for <paramref name="name"/>, or null.</summary>
    public static string? CheckPassword(string name, string? password)
    {
        if (password is null || password.Length < MinimumLength)
        {
            return $"the password is too short; give at least {MinimumLength} characters.";
        }
        if (password.Contains(name, StringComparison.OrdinalIgnoreCase))
        {
            return "the password contains the user name; choose another.";
        }
        return null;
    }

    public static string Hash(string password) => _hasher.HashPassword("", password);

    public static bool Verify(string hash, string password) =>
        _hasher.VerifyHashedPassword("", hash, password) != PasswordVerificationResult.Failed;

    // Verified against for an unknown name, so that a wrong name costs as long as a wrong password.
    private static readonly string _decoy = Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));

    /// <summary>The user, when <paramref name="password"/> is theirs; the same work either way.</summary>
    public static bool Matches(UserRecord? user, string password) => Verify(user?.PasswordHash ?? _decoy, password) && user is not null;

    /// <summary>A new random stamp: sessions carry it, and end when it changes.</summary>
    public static string NewStamp() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    /// <summary>Adds a user; returns why not, or null.</summary>
    public static string? AddUser(IAccountStore store, string name, string role, string password, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(store);
        string? problem = CheckName(name)
            ?? (Roles.IsKnown(role) ? null : $"the role \"{role}\" is unknown; give {Roles.Admin} or {Roles.Viewer}.")
            ?? CheckPassword(name, password);
        if (problem is not null)
        {
            return problem;
        }
        return store.AddUser(new UserRecord(name, role, Hash(password), NewStamp(), now, 0, null)) ? null : $"a user called {name} exists already.";
    }

    /// <summary>Sets a user's password; returns why not, or null.</summary>
    public static string? SetPassword(IAccountStore store, string name, string password)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (CheckPassword(name, password) is { } problem)
        {
            return problem;
        }
        return store.SetPassword(name, Hash(password), NewStamp()) ? null : $"there is no user called {name}.";
    }

    /// <summary>Removes a user, unless it is the last admin; returns why not, or null.</summary>
    public static string? RemoveUser(IAccountStore store, string name)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (store.User(name) is not { } user)
        {
            return $"there is no user called {name}.";
        }
        if (user.Role == Roles.Admin && store.Users().Count(u => u.Role == Roles.Admin) == 1)
        {
            return $"{user.Name} is the last admin; add another admin first.";
        }
        return store.RemoveUser(name) ? null : $"there is no user called {name}.";
    }

    public const string TokenPrefix = "pst_";

    /// <summary>A new API token: 32 random bytes, shown once, stored as <see cref="TokenHash"/>.</summary>
    public static string NewToken() => TokenPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>SHA-256 suffices for tokens: 256 random bits cannot be guessed, unlike a password.</summary>
    public static string TokenHash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
