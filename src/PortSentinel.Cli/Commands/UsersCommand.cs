using System.CommandLine;
using System.Globalization;
using PortSentinel.Record;
using PortSentinel.Web.Accounts;

namespace PortSentinel.Cli.Commands;

/// <summary>
/// <c>portsentinel users list|add|remove|passwd</c>: the dashboard's accounts, from the machine
/// itself. There is no default account: the first admin is made here (or with the setup token
/// that <c>run</c> prints). Passwords are read from a prompt without echo, or from standard input
/// when it is not a terminal (one line), never from the command line, where others could read them.
/// </summary>
public static class UsersCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "Where the database lives.", DefaultValueFactory = _ => RunCommand.DefaultDataDirectory, Recursive = true };
        var name = new Argument<string>("name") { Description = "The user name." };
        var role = new Option<string>("--role") { Description = "admin (everything) or viewer (read only).", DefaultValueFactory = _ => Roles.Viewer };
        role.AcceptOnlyFromAmong(Roles.Admin, Roles.Viewer);

        var list = new Command("list", "The accounts and their roles.");
        list.SetAction(p => WithStore(p, dataDir, store => List(store, Console.Out)));
        var add = new Command("add", "Add an account; the password is asked for (or read from standard input).") { name, role };
        add.SetAction(p => WithStore(p, dataDir, store => Add(store, p.GetValue(name)!, p.GetValue(role)!, ReadPassword(), Console.Out)));
        var remove = new Command("remove", "Remove an account (not the last admin).") { name };
        remove.SetAction(p => WithStore(p, dataDir, store => Report(Passwords.RemoveUser(store, p.GetValue(name)!), $"Removed {p.GetValue(name)}.", store, "user.remove", p.GetValue(name)!, "")));
        var passwd = new Command("passwd", "Set an account's password (this also unlocks it and ends its sessions).") { name };
        passwd.SetAction(p => WithStore(p, dataDir, store => Report(Passwords.SetPassword(store, p.GetValue(name)!, ReadPassword()), $"New password set for {p.GetValue(name)}.", store, "user.password", p.GetValue(name)!, "")));

        var command = new Command("users", "List, add and remove dashboard accounts; set passwords.") { dataDir, list, add, remove, passwd };
        StoreSelection.AddTo(command);
        return command;
    }

    private static int WithStore(ParseResult parse, Option<string> dataDir, Func<IStore, int> action) =>
        StoreSelection.WithStore(parse, parse.GetValue(dataDir) ?? RunCommand.DefaultDataDirectory, store =>
        {
            try
            {
                return action(store);
            }
            catch (PasswordException e)
            {
                Console.Error.WriteLine($"portsentinel: {e.Message}");
                return ExitCodes.BadInput;
            }
        });

    public static int List(IAccountStore store, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(output);
        IReadOnlyList<UserRecord> users = store.Users();
        if (users.Count == 0)
        {
            output.WriteLine("No accounts. Add the first admin: portsentinel users add NAME --role admin");
            return ExitCodes.Ok;
        }
        output.WriteLine($"{"NAME",-24} {"ROLE",-7} {"CREATED (UTC)",-17} STATE");
        DateTimeOffset now = DateTimeOffset.UtcNow;
        foreach (UserRecord user in users)
        {
            string state = user.LockedUntil > now ? $"locked until {user.LockedUntil:yyyy-MM-dd HH:mm} UTC" : "active";
            output.WriteLine($"{user.Name,-24} {user.Role,-7} {user.Created.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),-17} {state}");
        }
        return ExitCodes.Ok;
    }

    public static int Add(IStore store, string name, string role, string password, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return Report(Passwords.AddUser(store, name, role, password, DateTimeOffset.UtcNow), $"Added {name} ({role}).", store, "user.add", name, $"role {role}", output);
    }

    /// <summary>Prints the problem, or the success line and an audit entry for the CLI user.</summary>
    private static int Report(string? problem, string done, IAuditLog store, string action, string target, string detail, TextWriter? output = null)
    {
        if (problem is not null)
        {
            Console.Error.WriteLine($"portsentinel: {problem}");
            return ExitCodes.BadInput;
        }
        store.Audit(DateTimeOffset.UtcNow, $"cli:{Environment.UserName}", action, target, detail, "local");
        (output ?? Console.Out).WriteLine(done);
        return ExitCodes.Ok;
    }

    /// <summary>From standard input when it is redirected (one line), else asked for twice without echo.</summary>
    private static string ReadPassword()
    {
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine() ?? throw new PasswordException("no password on standard input; give it on one line.");
        }
        string first = Prompt("Password: ");
        if (Prompt("Again: ") != first)
        {
            throw new PasswordException("the two passwords differ; nothing changed.");
        }
        return first;
    }

    private static string Prompt(string label)
    {
        Console.Error.Write(label);
        var text = new System.Text.StringBuilder();
        while (Console.ReadKey(intercept: true) is var key && key.Key != ConsoleKey.Enter)
        {
            if (key.Key == ConsoleKey.Backspace)
            {
                text.Length = Math.Max(0, text.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }
        Console.Error.WriteLine();
        return text.ToString();
    }

    private sealed class PasswordException(string message) : Exception(message)
    {
        public PasswordException()
            : this("no password")
        {
        }

        public PasswordException(string message, Exception inner)
            : this(message + " " + inner.Message)
        {
        }
    }
}
