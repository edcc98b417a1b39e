using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace PortSentinel.Cli.Commands;

/// <summary>
/// The changes made on the dashboard's Settings page, kept in DATA_DIR/settings.json in the shape
/// of the configuration file. They lie over the file and under the environment and --set. A list
/// given here replaces the file's list whole: configuration alone would merge the two by index.
/// </summary>
public static class SettingsOverlay
{
    public const string FileName = "settings.json";

    private static readonly JsonSerializerOptions _indented = new() { WriteIndented = true };

    // A JsonObject reads its properties only when first used, and a key given twice would then
    // throw ArgumentException far from here: refused while parsing, as the JSON error it is.
    private static readonly JsonDocumentOptions _strict = new() { AllowDuplicateProperties = false };

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    /// <summary>The overlay in <paramref name="path"/>; empty when there is none.</summary>
    public static JsonObject Read(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }
        try
        {
            return JsonNode.Parse(File.ReadAllText(path), documentOptions: _strict) as JsonObject
                ?? throw new SettingsException($"{path} is not a JSON object. It holds the changes made on the dashboard's Settings page: fix it, or delete it to drop them.");
        }
        catch (JsonException e)
        {
            throw new SettingsException($"{path} is not valid JSON ({e.Message}). It holds the changes made on the dashboard's Settings page: fix it, or delete it to drop them.");
        }
    }

    /// <summary>Replaces the file at once (a reader sees the old or the new one whole), readable by its owner only.</summary>
    public static void Write(string path, JsonObject overlay)
    {
        ArgumentNullException.ThrowIfNull(overlay);
        string temporary = path + ".new";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(JsonSerializer.SerializeToUtf8Bytes(overlay, _indented));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The keys and values of <paramref name="below"/> with <paramref name="overlay"/> laid over them.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> Over(IConfiguration below, JsonObject overlay)
    {
        ArgumentNullException.ThrowIfNull(below);
        string[] replaced = [.. Leaves(overlay, "")];
        IEnumerable<KeyValuePair<string, string?>> kept = below.AsEnumerable()
            .Where(pair => pair.Value is not null && !replaced.Any(path => Covers(path, pair.Key)));
        return kept.Concat(Flatten(overlay, ""));
    }

    /// <summary>True when <paramref name="key"/> is <paramref name="path"/> or lies under it (<c>Allowlist:3</c> under <c>Allowlist</c>).</summary>
    public static bool Covers(string path, string key) =>
        key.Equals(path, StringComparison.OrdinalIgnoreCase)
        || (key.Length > path.Length && key[path.Length] == ':' && key.StartsWith(path, StringComparison.OrdinalIgnoreCase));

    /// <summary>The value at a configuration path (<c>Decide:BanSeconds</c>), or null.</summary>
    public static JsonNode? Find(JsonObject overlay, string path)
    {
        JsonNode? node = overlay;
        foreach (string segment in path.Split(':'))
        {
            node = node is JsonObject o && TryGet(o, segment, out JsonNode? child) ? child : null;
        }
        return node;
    }

    /// <summary>Sets the value at a path, making the sections on the way; null removes it, and sections left empty.</summary>
    public static void Set(JsonObject overlay, string path, JsonNode? value)
    {
        ArgumentNullException.ThrowIfNull(overlay);
        string[] segments = path.Split(':');
        var trail = new List<(JsonObject Parent, string Key)>();
        JsonObject node = overlay;
        foreach (string segment in segments[..^1])
        {
            if (!TryGet(node, segment, out JsonNode? child) || child is not JsonObject section)
            {
                if (value is null)
                {
                    return;
                }
                section = [];
                Remove(node, segment);
                node[segment] = section;
            }
            trail.Add((node, segment));
            node = section;
        }
        Remove(node, segments[^1]);
        if (value is not null)
        {
            node[segments[^1]] = value.DeepClone();
            return;
        }
        for (int i = trail.Count - 1; i >= 0 && node.Count == 0; i--)
        {
            Remove(trail[i].Parent, trail[i].Key);
            node = trail[i].Parent;
        }
    }

    private static bool TryGet(JsonObject node, string key, out JsonNode? child)
    {
        foreach (KeyValuePair<string, JsonNode?> pair in node)
        {
            if (pair.Key.Equals(key, StringComparison.OrdinalIgnoreCase))
            {
                child = pair.Value;
                return true;
            }
        }
        child = null;
        return false;
    }

    private static void Remove(JsonObject node, string key)
    {
        foreach (string name in node.Select(p => p.Key).Where(k => k.Equals(key, StringComparison.OrdinalIgnoreCase)).ToList())
        {
            node.Remove(name);
        }
    }

    /// <summary>The paths the overlay sets: its values and its whole lists.</summary>
    private static IEnumerable<string> Leaves(JsonNode? node, string path) => node switch
    {
        JsonObject o => o.SelectMany(p => Leaves(p.Value, Join(path, p.Key))),
        null => [],
        _ => [path],
    };

    /// <summary>As the JSON configuration provider reads a file: Section:Key=value, List:0=value.</summary>
    private static IEnumerable<KeyValuePair<string, string?>> Flatten(JsonNode? node, string path) => node switch
    {
        JsonObject o => o.SelectMany(p => Flatten(p.Value, Join(path, p.Key))),
        JsonArray a => a.SelectMany((item, i) => Flatten(item, Join(path, i.ToString(CultureInfo.InvariantCulture)))),
        JsonValue v => [new(path, v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString())],
        _ => [],
    };

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}:{key}";
}
