using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using PortSentinel.Cli.Output;
using PortSentinel.Decide;
using PortSentinel.Decode;
using PortSentinel.Record;
using PortSentinel.Respond;

namespace PortSentinel.Cli.Commands;

/// <summary><c>portsentinel bans list|add|remove|flush</c>: the bans in force, by hand.</summary>
public static class BansCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "Where the database lives.", DefaultValueFactory = _ => RunCommand.DefaultDataDirectory, Recursive = true };
        Option<string?> firewall = Firewalls.Option();
        firewall.Recursive = true;
        var format = new Option<string>("--format") { Description = "table (default) or json.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var network = new Argument<string>("address") { Description = "An address or network, e.g. 203.0.113.7 or 198.51.100.0/24." };
        var duration = new Option<string?>("--for") { Description = "How long: 90s, 30m, 12h, 7d or permanent (default: Decide:BanSeconds)." };
        var reason = new Option<string>("--reason") { Description = "Why, for the record.", DefaultValueFactory = _ => "manual" };

        var list = new Command("list", "The bans in force.") { format };
        list.SetAction(p => Execute(p, dataDir, firewall, (store, _, _, o) => List(store, p.GetValue(format) ?? "table", o)));
        var add = new Command("add", "Ban an address or network now.") { network, duration, reason };
        add.SetAction(p => Execute(p, dataDir, firewall, (store, fw, decider, o) => Add(store, fw, decider, p.GetValue(network)!, p.GetValue(duration), p.GetValue(reason) ?? "manual", o)));
        var remove = new Command("remove", "Lift the ban of an address or network.") { network };
        remove.SetAction(p => Execute(p, dataDir, firewall, (store, fw, _, o) => Remove(store, fw, [p.GetValue(network)!], o)));
        var flush = new Command("flush", "Lift every ban in force.");
        flush.SetAction(p => Execute(p, dataDir, firewall, (store, fw, _, o) => Flush(store, fw, o)));

        var command = new Command("bans", "List, add and lift bans.") { dataDir, firewall, list, add, remove, flush };
        // --name: the bans it writes are the sensor's of that name, which need not apply them again.
        StoreSelection.AddTo(command, name: true);
        return command;
    }

    private delegate int Action(IStore store, IFirewall firewall, Decider decider, TextWriter output);

    private static int Execute(ParseResult parse, Option<string> dataDir, Option<string?> firewallName, Action action)
    {
        Decider decider;
        FirewallOptions firewallOptions;
        IConfiguration configuration;
        string dataDirectory = parse.GetValue(dataDir) ?? RunCommand.DefaultDataDirectory;
        try
        {
            configuration = new SettingsSources(parse.GetValue(Settings.ConfigOption), StoreSelection.Overrides(parse), null, dataDirectory).Configuration();
            var options = Settings.Bind<DecideOptions>(configuration, DecideOptions.Section, o => o.Validate());
            decider = new Decider(new Allowlist(HostFacts.Read(), Settings.Allowlist(configuration, options)), options);
            firewallOptions = Firewalls.Options(configuration, parse.GetValue(firewallName));
        }
        catch (SettingsException e)
        {
            Console.Error.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadConfiguration;
        }
        try
        {
            using IStore store = StoreSelection.Open(configuration, dataDirectory);
            using IFirewall firewall = FirewallBackends.Create(firewallOptions);
            return action(store, firewall, decider, Console.Out);
        }
        catch (Exception e) when (e is FirewallException or StoreException)
        {
            Console.Error.WriteLine($"portsentinel: {e.Message}");
            return ExitCodes.BadInput;
        }
    }

    public static int List(IBanStore store, string format, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(output);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        IReadOnlyList<BanRecord> bans = store.ActiveBans(now);
        if (format == "json")
        {
            output.WriteLine(DetectionJson.Serialize(json =>
            {
                json.WriteStartArray();
                foreach (BanRecord ban in bans)
                {
                    json.WriteStartObject();
                    json.WriteString("address", ban.Network.ToString());
                    json.WriteString("reason", ban.Reason);
                    json.WriteString("created", DetectionJson.Iso(ban.Created));
                    if (ban.Expires is { } expires)
                    {
                        json.WriteString("expires", DetectionJson.Iso(expires));
                    }
                    else
                    {
                        json.WriteNull("expires");
                    }
                    json.WriteNumber("offence", ban.Offence);
                    json.WriteBoolean("hold", ban.Hold);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }, indented: true));
            return ExitCodes.Ok;
        }
        if (bans.Count == 0)
        {
            output.WriteLine("No bans in force.");
            return ExitCodes.Ok;
        }
        output.WriteLine($"{"ADDRESS",-22} {"REMAINING",-10} {"OFFENCE",-7} REASON");
        foreach (BanRecord ban in bans)
        {
            string remaining = ban.Expires is { } e ? Format(e - now) : "permanent";
            // A hold (a source not verified at its address) is no offence.
            output.WriteLine($"{ban.Network,-22} {remaining,-10} {(ban.Hold ? "hold" : ban.Offence.ToString(CultureInfo.InvariantCulture)),-7} {ban.Reason}");
        }
        return ExitCodes.Ok;
    }

    public static int Add(IStore store, IFirewall firewall, Decider decider, string text, string? duration, string reason, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(firewall);
        ArgumentNullException.ThrowIfNull(decider);
        ArgumentNullException.ThrowIfNull(output);
        if (!NetPrefix.TryParse(text, out NetPrefix? parsed))
        {
            Console.Error.WriteLine($"portsentinel: \"{text}\" is not an address or network; give e.g. 203.0.113.7 or 198.51.100.0/24.");
            return ExitCodes.BadInput;
        }
        TimeSpan? length;
        if (duration is null)
        {
            length = decider.BanLength(1);
        }
        else if (!ManualBans.TryParseDuration(duration, out length, out string? problem))
        {
            Console.Error.WriteLine($"portsentinel: --for {duration} {problem}");
            return ExitCodes.BadConfiguration;
        }
        Prepare(store, firewall);
        var (ban, refusal) = ManualBans.Block(store, firewall, decider, parsed.Value, length, reason, DateTimeOffset.UtcNow);
        if (ban is null)
        {
            Console.Error.WriteLine($"portsentinel: {refusal}");
            return ExitCodes.BadInput;
        }
        output.WriteLine($"Banned {ban.Network} {(length is { } l ? $"for {Format(l)}" : "permanently")} in {firewall.Name}.");
        return ExitCodes.Ok;
    }

    public static int Remove(IStore store, IFirewall firewall, IReadOnlyList<string> texts, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(firewall);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(output);
        var networks = new List<NetPrefix>();
        foreach (string text in texts)
        {
            if (!NetPrefix.TryParse(text, out NetPrefix? network))
            {
                Console.Error.WriteLine($"portsentinel: \"{text}\" is not an address or network.");
                return ExitCodes.BadInput;
            }
            networks.Add(network.Value);
        }
        Prepare(store, firewall);
        var (lifted, failures) = ManualBans.Unblock(store, firewall, networks, $"cli:{Environment.UserName}", DateTimeOffset.UtcNow);
        foreach (FirewallFailure failure in failures)
        {
            Console.Error.WriteLine($"portsentinel: {firewall.Name} refused to lift {failure.Network}: {failure.ReasonLine}");
        }
        output.WriteLine($"Lifted {lifted} ban{(lifted == 1 ? "" : "s")}.");
        return failures.Count == 0 ? ExitCodes.Ok : ExitCodes.BadInput;
    }

    /// <summary>Lifts every ban in force.</summary>
    public static int Flush(IStore store, IFirewall firewall, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(store);
        return Remove(store, firewall, [.. store.ActiveBans(DateTimeOffset.UtcNow).Select(b => b.Network.ToString())], output);
    }

    /// <summary>Sets the firewall up and, as the sensor would, lifts bans that ran out on a firewall without timeouts.</summary>
    private static void Prepare(IStore store, IFirewall firewall)
    {
        firewall.Initialize();
        BanExpiry.Lift(store, firewall, DateTimeOffset.UtcNow, line => Console.Error.WriteLine($"portsentinel: {line}"));
    }

    private static string Format(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{(int)t.TotalDays}d{t.Hours}h" : t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes}m" : $"{(int)Math.Max(0, t.TotalSeconds)}s";
}
