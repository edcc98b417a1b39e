using System.Globalization;

namespace PortSentinel.Common;

/// <summary>
/// The range check of a numeric option, with one message for all: the key, the value given and
/// the range allowed, e.g. "Capture:SnapLength is -1; give 64 to 262144 bytes."
/// </summary>
public static class OptionRange
{
    public static void Check(ICollection<string> errors, string key, long value, long min, long max, string unit = "", string why = "")
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (value < min || value > max)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key} is {value}; give {min} to {max}{Unit(unit)}{Why(why)}."));
        }
    }

    /// <summary>As the integer check; NaN is outside every range.</summary>
    public static void Check(ICollection<string> errors, string key, double value, double min, double max, string unit = "", string why = "")
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!(value >= min && value <= max))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key} is {value}; give {min} to {max}{Unit(unit)}{Why(why)}."));
        }
    }

    private static string Unit(string unit) => unit.Length == 0 ? "" : " " + unit;

    private static string Why(string why) => why.Length == 0 ? "" : $" ({why})";
}
