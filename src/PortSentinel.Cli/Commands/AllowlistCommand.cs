using System.CommandLine;
using System.Globalization;
using PortSentinel.Decode;
using PortSentinel.Record;

namespace PortSentinel.Cli.Commands;

/// <summary>
/// <c>portsentinel allowlist list|add|remove --store …</c>: the fleet-wide allowlist, which every
/// sensor of the fleet adds to its own at once (one sensor's own is its configuration's
/// <c>Allowlist</c>). Each change is audited.
/// </summary>
public static class AllowlistCommand
{
    // Wider than these is refused: an entry that covers a good part of the Internet is a typo, and
    // would quietly stop the whole fleet from blocking.
    private const int WidestV4 = 8;
    private const int WidestV6 = 16;

    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "Where the sensor's data lives.", DefaultValueFactory = _ => RunCommand.DefaultDataDirectory, Recursive = true };
        var network = new Argument<string>("network") { Description = "An address or network, e.g. 198.51.100.7 or 198.51.100.0/24." };
        var comment = new Option<string>("--comment") { Description = "What it is, for whoever reads the list (1-200 characters).", DefaultValueFactory = _ => "added with the CLI" };

        var list = new Command("list", "The fleet-wide allowlist.");
        list.SetAction(p => WithFleet(p, dataDir, (fleet, _) => List(fleet, Console.Out)));
        var add = new Command("add", "Never block this network on any sensor of the fleet.") { network, comment };
        add.SetAction(p => WithFleet(p, dataDir, (fleet, audit) => Add(fleet, audit, p.GetValue(network)!, p.GetValue(comment)!, Console.Out)));
        var remove = new Command("remove", "Take a network off the fleet-wide allowlist.") { network };
        remove.SetAction(p => WithFleet(p, dataDir, (fleet, audit) => Remove(fleet, audit, p.GetValue(network)!, Console.Out)));

        var command = new Command("allowlist", "List, add and remove entries of a fleet's allowlist (needs --store).") { dataDir, list, add, remove };
        StoreSelection.AddTo(command);
        return command;
    }

    private static int WithFleet(ParseResult parse, Option<string> dataDir, Func<IFleetStore, IAuditLog, int> action) =>
        StoreSelection.WithStore(parse, parse.GetValue(dataDir) ?? RunCommand.DefaultDataDirectory, store =>
        {
            if (store is not IFleetStore fleet)
            {
                Console.Error.WriteLine($"portsentinel: {store.Location} is one sensor's store; a fleet-wide allowlist needs a fleet's (--store or {StoreOptions.Section}:{nameof(StoreOptions.ConnectionString)}). One sensor's allowlist is the Allowlist key of its configuration.");
                return ExitCodes.BadInput;
            }
            return action(fleet, store);
        });

    public static int List(IFleetStore fleet, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(output);
        IReadOnlyList<FleetAllowed> entries = fleet.FleetAllowlist();
        if (entries.Count == 0)
        {
            output.WriteLine("The fleet-wide allowlist is empty. Add to it: portsentinel allowlist add NETWORK --comment TEXT");
            return ExitCodes.Ok;
        }
        output.WriteLine($"{"NETWORK",-22} {"ADDED (UTC)",-17} {"BY",-16} COMMENT");
        foreach (FleetAllowed entry in entries)
        {
            output.WriteLine($"{entry.Network,-22} {entry.Added.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),-17} {entry.AddedBy,-16} {entry.Comment}");
        }
        return ExitCodes.Ok;
    }

    public static int Add(IFleetStore fleet, IAuditLog audit, string text, string comment, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(audit);
        ArgumentNullException.ThrowIfNull(comment);
        ArgumentNullException.ThrowIfNull(output);
        if (Parse(text) is not { } network)
        {
            return ExitCodes.BadInput;
        }
        int widest = network.Address.IsV4 ? WidestV4 : WidestV6;
        if (network.Length < widest)
        {
            Console.Error.WriteLine($"portsentinel: {network} is wider than /{widest}, and would stop the fleet from blocking a good part of the Internet; give a smaller network.");
            return ExitCodes.BadInput;
        }
        if (comment.Length is 0 or > 200 || comment.Any(char.IsControl))
        {
            Console.Error.WriteLine("portsentinel: --comment must be 1 to 200 characters without control characters.");
            return ExitCodes.BadInput;
        }
        string by = $"cli:{Environment.UserName}";
        bool added = fleet.Allow(network, comment, by, DateTimeOffset.UtcNow);
        audit.Audit(DateTimeOffset.UtcNow, by, "allowlist.add", network.ToString(), comment, "local");
        output.WriteLine(added
            ? $"Added {network} to the fleet-wide allowlist: no sensor of the fleet blocks it from now on."
            : $"{network} was on the fleet-wide allowlist already; its comment is now: {comment}");
        return ExitCodes.Ok;
    }

    public static int Remove(IFleetStore fleet, IAuditLog audit, string text, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(audit);
        ArgumentNullException.ThrowIfNull(output);
        if (Parse(text) is not { } network)
        {
            return ExitCodes.BadInput;
        }
        if (!fleet.Disallow(network))
        {
            Console.Error.WriteLine($"portsentinel: {network} is not on the fleet-wide allowlist (portsentinel allowlist list shows it).");
            return ExitCodes.BadInput;
        }
        audit.Audit(DateTimeOffset.UtcNow, $"cli:{Environment.UserName}", "allowlist.remove", network.ToString(), "", "local");
        output.WriteLine($"Removed {network} from the fleet-wide allowlist.");
        return ExitCodes.Ok;
    }

    private static NetPrefix? Parse(string text)
    {
        if (NetPrefix.TryParse(text, out NetPrefix? network))
        {
            return network;
        }
        Console.Error.WriteLine($"portsentinel: \"{text}\" is not an address or network; give e.g. 198.51.100.7 or 198.51.100.0/24.");
        return null;
    }
}
