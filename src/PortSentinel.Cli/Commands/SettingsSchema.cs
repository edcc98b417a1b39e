using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace PortSentinel.Cli.Commands;

/// <summary>
/// The keys the configuration may hold, read from the options they are bound to: the sections of
/// <see cref="SensorSettings"/>, each named by its options type's <c>Section</c> constant, and the
/// allowlist. A key no option binds would be ignored in silence and its default used, so it is
/// refused, with the known key closest to it.
/// </summary>
internal static class SettingsSchema
{
    /// <summary>The sections in the order of <see cref="SensorSettings"/>'s members, each with the type bound to it.</summary>
    public static readonly IReadOnlyList<(string Name, Type Type)> Sections = ReadSections();

    private static readonly Node _root = new(null, [.. Sections.Select(s => (s.Name, Node.Of(s.Type)))]);

    /// <summary>Null when <paramref name="path"/> (<c>Notify:Webhooks:0:Url</c>) is a key some option binds; else why not and the fix, naming <paramref name="origin"/> when given.</summary>
    public static string? Problem(string path, string? origin) => Problem(_root, "", path, origin);

    /// <summary>As <see cref="Problem(string, string)"/> for a key under <paramref name="section"/>, which binds onto <paramref name="options"/>.</summary>
    public static string? Problem(Type options, string section, string path, string origin) =>
        Problem(Node.Of(options), section, path[(section.Length + 1)..], origin);

    /// <summary>Every key of <paramref name="configuration"/> that no option binds, each with where it came from (<paramref name="origin"/>) and the fix.</summary>
    public static IReadOnlyList<string> Unknown(IConfiguration configuration, Func<string, string> origin)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        foreach (KeyValuePair<string, string?> pair in configuration.AsEnumerable().Where(p => p.Value is not null).OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
        {
            if (Problem(pair.Key, origin(pair.Key)) is { } problem && !problems.Contains(problem))
            {
                problems.Add(problem);
            }
        }
        return problems;
    }

    private static (string, Type)[] ReadSections()
    {
        var sections = new List<(string, Type)>();
        foreach (PropertyInfo property in typeof(SensorSettings).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.Name == nameof(SensorSettings.Allowed))
            {
                sections.Add((RunningSettings.AllowlistSection, typeof(string[])));
                continue;
            }
            FieldInfo field = property.PropertyType.GetField("Section", BindingFlags.Public | BindingFlags.Static)
                ?? throw new InvalidOperationException($"{property.PropertyType.Name}, bound to {nameof(SensorSettings)}.{property.Name}, has no Section constant naming its configuration section.");
            sections.Add(((string)field.GetRawConstantValue()!, property.PropertyType));
        }
        return [.. sections];
    }

    private static string? Problem(Node start, string prefix, string path, string? origin)
    {
        string[] segments = path.Split(':');
        Node node = start;
        for (int i = 0; i < segments.Length; i++)
        {
            string done = Join(prefix, string.Join(':', segments[..i]));
            if (node.Child(segments[i]) is { } child)
            {
                node = child;
                continue;
            }
            string given = Join(prefix, path);
            string what = origin is null ? $"{given} is not a setting" : $"{given} ({origin}) is not a setting";
            if (node.IsList)
            {
                return $"{what}: {done} is a list, give its items by index ({done}:0, {done}:1, …).";
            }
            if (node.Children.Count == 0)
            {
                return $"{what}: {done} takes a single value.";
            }
            string rest = string.Join(':', segments[(i + 1)..]);
            string? suggestion = Closest(node, segments[i]) is { } name ? Join(Join(done, name), rest)
                : i == 0 && start == _root ? Anywhere(segments[i], rest) : null;
            return suggestion is not null
                ? $"{what}; did you mean {suggestion}? (docs/configuration.md)"
                : $"{what}. Known {(node == _root ? "sections" : $"keys of {done}")}: {string.Join(", ", node.Children.Select(c => c.Name))}.";
        }
        return null;
    }

    /// <summary>The child of <paramref name="node"/> whose name is a small edit away from <paramref name="given"/> (a typo), or null.</summary>
    private static string? Closest(Node node, string given)
    {
        (string Name, int Distance) best = node.Children
            .Select(c => (c.Name, Distance: Distance(c.Name.ToUpperInvariant(), given.ToUpperInvariant())))
            .MinBy(c => c.Distance);
        return best.Name is not null && best.Distance <= Math.Max(1, given.Length / 3) ? best.Name : null;
    }

    /// <summary>A key given without its section (<c>VerticalPorts</c>): the full path of the key of that name, when exactly one section has it.</summary>
    private static string? Anywhere(string given, string rest)
    {
        string[] found = [.. _root.Children.Where(s => s.Node.Child(given) is not null).Select(s => $"{s.Name}:{s.Node.Children.First(c => c.Name.Equals(given, StringComparison.OrdinalIgnoreCase)).Name}")];
        return found.Length == 1 ? Join(found[0], rest) : null;
    }

    /// <summary>Edit distance (optimal string alignment): insertions, deletions, substitutions and swaps of neighbours, each one edit.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j], d[i, j - 1]) + 1, d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : key.Length == 0 ? path : $"{path}:{key}";

    /// <summary>
    /// What a configuration path may hold at one level, as the binder reads the options: a class
    /// by its settable properties, a list by index, a value nothing below it.
    /// </summary>
    private sealed class Node(Node? item, IReadOnlyList<(string Name, Node Node)> children)
    {
        public IReadOnlyList<(string Name, Node Node)> Children { get; } = children;

        public bool IsList => item is not null;

        public Node? Child(string segment) =>
            item is not null ? (int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? item : null)
                : Children.FirstOrDefault(c => c.Name.Equals(segment, StringComparison.OrdinalIgnoreCase)).Node;

        public static Node Of(Type type)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan))
            {
                return new Node(null, []);
            }
            Type? element = type.IsArray ? type.GetElementType()
                : type.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[0] : null;
            if (element is not null)
            {
                return new Node(Of(element), []);
            }
            return new Node(null, [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.SetMethod?.IsPublic == true)
                .OrderBy(p => p.MetadataToken)
                .Select(p => (p.Name, Of(p.PropertyType)))]);
        }
    }
}
