using PortSentinel.Record.Postgres;
using PortSentinel.Record.Sqlite;

namespace PortSentinel.Record;

/// <summary>Opens the store the configuration names: PostgreSQL when a connection string is given, else SQLite in the data directory.</summary>
public static class Stores
{
    /// <summary>Opens (creating and migrating when needed) the store; <paramref name="sensor"/> names who writes to a shared one.</summary>
    public static IStore Open(StoreOptions options, string dataDirectory, string sensor)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.IsPostgres ? PostgresStore.Open(options, sensor) : SqliteStore.Open(dataDirectory);
    }

    /// <summary>Makes the data directory when it is not there (the sensor keeps its scratch files, reports and keys in it, whichever the store).</summary>
    public static void CreateDataDirectory(string dataDirectory)
    {
        try
        {
            Directory.CreateDirectory(dataDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"the data directory {dataDirectory} cannot be created: {e.Message}; choose another with --data-dir or fix its permissions.", e);
        }
    }
}
