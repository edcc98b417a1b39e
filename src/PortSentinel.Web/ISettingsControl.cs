using System.Text.Json.Nodes;

namespace PortSentinel.Web;

/// <summary>
/// The running sensor's configuration as the Settings page shows and changes it. The program that
/// owns the configuration (the <c>run</c> command) implements it; the dashboard only passes
/// requests through and records who made them.
/// </summary>
public interface ISettingsControl
{
    /// <summary>The configuration in force, every key with its value (secrets masked).</summary>
    SettingsView View();

    /// <summary>
    /// Validates, applies and then persists changes, all or none: configuration path (<c>Decide:BanSeconds</c>,
    /// <c>Allowlist</c>) to its new value, null to go back to the file's value or the default.
    /// Throws <see cref="SettingsRejectedException"/> naming the key and the fix;
    /// <see cref="InvalidOperationException"/> when the sensor could not apply valid changes, and
    /// <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> when they could not be
    /// kept (then the sensor is put back as it was): in each case nothing changed.
    /// </summary>
    SettingsView Change(IReadOnlyDictionary<string, JsonNode?> changes, string actor);
}

/// <summary>The configuration in force, by section, and where it comes from.</summary>
public sealed record SettingsView(IReadOnlyList<SettingsSection> Sections, string? ConfigFile, string OverlayFile);

/// <summary>A configuration section; <paramref name="Editable"/>: admins may change it while the sensor runs.</summary>
public sealed record SettingsSection(string Name, bool Editable, IReadOnlyList<SettingsField> Fields);

/// <summary>
/// One key. <paramref name="Type"/> is integer, number, boolean, text, choice (one of
/// <paramref name="Choices"/>), integers (a list) or networks (a list of addresses and CIDRs).
/// <paramref name="Changed"/>: set from the dashboard; <paramref name="PinnedBy"/>: set by the
/// environment or the command line, which the dashboard cannot override.
/// </summary>
public sealed record SettingsField(string Path, string Type, JsonNode? Value, bool Changed, string? PinnedBy, bool Secret, IReadOnlyList<string>? Choices);

/// <summary>A change refused, with what to do instead; <see cref="Conflict"/>: the key is pinned elsewhere.</summary>
public sealed class SettingsRejectedException : Exception
{
    public SettingsRejectedException(string message, bool conflict = false)
        : base(message)
    {
        Conflict = conflict;
    }

    public SettingsRejectedException()
    {
    }

    public SettingsRejectedException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public bool Conflict { get; }
}
