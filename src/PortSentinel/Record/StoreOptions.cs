using Npgsql;

namespace PortSentinel.Record;

/// <summary>
/// Where the record is kept, bound from the <c>Store</c> section: SQLite in the data directory by
/// default; PostgreSQL when <see cref="ConnectionString"/> is given, which sensors of a fleet share.
/// The password is never in the connection string (which is logged, shown and kept in files): it
/// comes from <see cref="PasswordFile"/> or from the environment (<c>PGPASSWORD</c>, <c>PGPASSFILE</c>).
/// </summary>
public sealed class StoreOptions
{
    public const string Section = "Store";

    /// <summary>A PostgreSQL connection string (<c>Host=…;Database=…;Username=…</c>); empty: SQLite in the data directory.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>A file that holds the database password (its first line); empty: PGPASSWORD, PGPASSFILE or ~/.pgpass.</summary>
    public string PasswordFile { get; set; } = "";

    /// <summary>
    /// How far this host's clock may be from the PostgreSQL server's, in seconds, before a sensor
    /// or command is refused: every time it records (bans' ends, alerts) would be off for the fleet.
    /// </summary>
    public int MaxClockSkewSeconds { get; set; } = 5;

    public bool IsPostgres => ConnectionString.Length > 0;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxClockSkewSeconds is < 1 or > 3600)
        {
            errors.Add($"{Section}:{nameof(MaxClockSkewSeconds)} is {MaxClockSkewSeconds}; give 1 to 3600 seconds.");
        }
        if (!IsPostgres)
        {
            if (PasswordFile.Length > 0)
            {
                errors.Add($"{Section}:{nameof(PasswordFile)} is set, but {Section}:{nameof(ConnectionString)} is empty: give the PostgreSQL connection string too (--store), or remove the password file's setting.");
            }
            return errors;
        }
        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(ConnectionString);
        }
        catch (ArgumentException e)
        {
            errors.Add($"{Section}:{nameof(ConnectionString)} is not a PostgreSQL connection string ({e.Message}); give one like Host=db.example;Database=portsentinel;Username=sensor.");
            return errors;
        }
        if (!string.IsNullOrEmpty(parsed.Password))
        {
            errors.Add($"{Section}:{nameof(ConnectionString)} holds a password, which would be shown wherever the connection string is: remove Password= and put the password in a file named by {Section}:{nameof(PasswordFile)}, or in PGPASSWORD.");
        }
        if (string.IsNullOrEmpty(parsed.Host))
        {
            errors.Add($"{Section}:{nameof(ConnectionString)} names no Host; give the server, e.g. Host=db.example;Database=portsentinel;Username=sensor.");
        }
        if (PasswordFile.Length > 0 && !File.Exists(PasswordFile))
        {
            errors.Add($"{Section}:{nameof(PasswordFile)} is {PasswordFile}, which does not exist; give the file that holds the database password.");
        }
        return errors;
    }
}
