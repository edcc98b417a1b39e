using Microsoft.Data.Sqlite;

namespace PortSentinel.Record.Sqlite;

/// <summary>
/// The default store: one SQLite file (<c>portsentinel.db</c>) in the data directory, in WAL mode
/// so that readers (the dashboard) never wait for the writer. Writes come in batches, each one
/// transaction, from one writer thread (the recorder). Times are stored as Unix milliseconds.
/// </summary>
public sealed partial class SqliteStore : IStore
{
    public const string FileName = "portsentinel.db";

    private readonly SqliteConnection _connection;

    // One connection, one caller at a time: the sensor and the dashboard each open their own
    // store, so the sensor never waits behind a page's query (WAL lets readers and the writer
    // work side by side), and each store serialises its own callers.
    private readonly Lock _gate = new();
    private SqliteCommand? _previousBans;

    private SqliteStore(string path, SqliteConnection connection)
    {
        Path = path;
        _connection = connection;
    }

    public string Path { get; }

    public string Location => Path;

    /// <summary>Opens (creating when needed) the store in <paramref name="dataDirectory"/> and brings its schema up to date.</summary>
    public static SqliteStore Open(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        string path = System.IO.Path.Combine(dataDirectory, FileName);
        Stores.CreateDataDirectory(dataDirectory);
        SQLitePCL.Batteries_V2.Init();
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;");
            Migrate(connection, path);
            return new SqliteStore(path, connection);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            if (NotWritable(dataDirectory, path) is { } problem)
            {
                throw new StoreException($"{problem} (SQLite: {e.Message})", e);
            }
            throw new StoreException($"{path}: {e.Message} (SQLite error {e.SqliteErrorCode}). If the file is damaged or not a PortSentinel database, move it aside and start again: a new one is created.", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    // PRAGMA user_version.
    public int SchemaVersion
    {
        get
        {
            lock (_gate)
            {
                return Convert.ToInt32(Scalar(_connection, "PRAGMA user_version"));
            }
        }
    }

    // Its write-ahead log included.
    public long SizeBytes => FileBytes(Path) + FileBytes(Path + "-wal");

    private static long FileBytes(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    public void Dispose()
    {
        lock (_gate)
        {
            _previousBans?.Dispose();
            _connection.Dispose();
        }
    }

    private static void Migrate(SqliteConnection connection, string path)
    {
        int version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"));
        if (version > Migrations.Steps.Length)
        {
            throw new StoreException($"{path}: schema version {version} is newer than this PortSentinel knows ({Migrations.Steps.Length}); upgrade PortSentinel, or start with another --data-dir.");
        }
        for (int step = version; step < Migrations.Steps.Length; step++)
        {
            using SqliteTransaction tx = connection.BeginTransaction();
            Execute(connection, Migrations.Steps[step], tx);
            Execute(connection, $"PRAGMA user_version = {step + 1}", tx);
            tx.Commit();
        }
    }

    /// <summary>Runs a query and maps each row.</summary>
    private List<T> Read<T>(string sql, Func<SqliteDataReader, T> map, params (string Name, object Value)[] parameters)
    {
        lock (_gate)
        {
            using SqliteCommand query = _connection.CreateCommand();
            query.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                query.Parameters.AddWithValue(name, value);
            }
            var rows = new List<T>();
            using SqliteDataReader row = query.ExecuteReader();
            while (row.Read())
            {
                rows.Add(map(row));
            }
            return rows;
        }
    }

    /// <summary>Runs a statement; returns the rows changed.</summary>
    private int Change(string sql, params (string Name, object Value)[] parameters)
    {
        lock (_gate)
        {
            using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }
            return command.ExecuteNonQuery();
        }
    }

    private static long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    private static object Ms(DateTimeOffset? t) => t is { } v ? v.ToUnixTimeMilliseconds() : DBNull.Value;

    private static DateTimeOffset Time(SqliteDataReader row, int column) => DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(column));

    private static DateTimeOffset? TimeOrNull(SqliteDataReader row, int column) => row.IsDBNull(column) ? null : Time(row, column);

    private static string? TextOrNull(SqliteDataReader row, int column) => row.IsDBNull(column) ? null : row.GetString(column);

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? tx = null)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
