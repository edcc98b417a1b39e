using PortSentinel.Cli.Commands;
using PortSentinel.Record.Sqlite;
using PortSentinel.Web.Accounts;

namespace PortSentinel.Tests.Cli;

/// <summary><c>portsentinel users</c>, run as the real program with the password on standard input.</summary>
public sealed class UsersCommandTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"ps-users-{Guid.NewGuid():N}");

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "PortSentinel.Cli.dll");

    private (int Exit, string Output, string Errors) Users(string? password, params string[] arguments) =>
        ProcessRunner.RunWithInput("dotnet", [Cli, "users", .. arguments, "--data-dir", _data], password, TimeSpan.FromSeconds(60));

    [Fact]
    public void The_first_admin_is_added_listed_given_a_new_password_and_removed_last()
    {
        var (exit, output, _) = Users(null, "list");
        Assert.Equal(0, exit);
        Assert.Contains("No accounts. Add the first admin: portsentinel users add NAME --role admin", output);

        (exit, output, _) = Users("a long secret 9\n", "add", "alice", "--role", "admin");
        Assert.Equal(0, exit);
        Assert.Equal("Added alice (admin).", output.Trim());
        (exit, _, string errors) = Users("short\n", "add", "bob");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("the password is too short", errors);
        (exit, _, errors) = Users("a long secret 9\n", "add", "alice");
        Assert.Contains("a user called alice exists already", errors);
        Assert.Equal(0, Users("another secret 8\n", "add", "bob").Exit);

        (exit, output, _) = Users(null, "list");
        Assert.Matches(@"alice\s+admin\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+active", output);
        Assert.Matches(@"bob\s+viewer", output);

        Assert.Equal(0, Users("a third secret 7\n", "passwd", "bob").Exit);
        Assert.Contains("there is no user called carol", Users("a third secret 7\n", "passwd", "carol").Errors);
        Assert.Contains("alice is the last admin", Users(null, "remove", "alice").Errors);
        Assert.Equal(0, Users(null, "remove", "bob").Exit);

        using SqliteStore store = SqliteStore.Open(_data);
        Assert.True(Passwords.Matches(store.User("alice"), "a long secret 9"));
        Assert.Null(store.User("bob"));
        Assert.Equal(["user.remove", "user.password", "user.add", "user.add"], store.AuditLog(0, 10).Page.Select(a => a.Action));
        Assert.All(store.AuditLog(0, 10).Page, a => Assert.StartsWith("cli:", a.Actor, StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_password_on_standard_input_is_named()
    {
        var (exit, _, errors) = Users("", "add", "alice", "--role", "admin");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("no password on standard input", errors);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }
}
