using System.Text.RegularExpressions;

namespace PortSentinel;

/// <summary>Who this sensor is, bound from the <c>Sensor</c> section: the name under which a fleet's store keeps its bans and alerts.</summary>
public sealed partial class SensorIdentityOptions
{
    public const string Section = "Sensor";

    /// <summary>The sensor's name (letters, digits, '.', '-', '_'; at most 63); empty: the host name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The name in use: <see cref="Name"/>, or the host name when none is given.</summary>
    public string Resolved => Name.Length > 0 ? Name : Environment.MachineName;

    public IReadOnlyList<string> Validate() =>
        Name.Length == 0 || ValidName().IsMatch(Name)
            ? []
            : [$"{Section}:{nameof(Name)} is \"{Name}\"; give 1–63 letters, digits, '.', '-' or '_', starting with a letter or digit (e.g. web-01), or leave it empty for the host name."];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex ValidName();
}
