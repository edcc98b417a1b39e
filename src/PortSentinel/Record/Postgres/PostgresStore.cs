using Npgsql;

namespace PortSentinel.Record.Postgres;

/// <summary>
/// The store of a fleet: one PostgreSQL database that every sensor and dashboard shares, through
/// Npgsql's pool (each call borrows a connection, so callers need no lock), with statements
/// prepared automatically once used twice, and bursts (bans, ended alerts) sent as one batch in
/// one transaction. Bans and alerts carry the name of the sensor that wrote them.
/// </summary>
public sealed partial class PostgresStore : IStore
{
    // pg_advisory_xact_lock's key for migrations: "PSMI".
    private const long MigrationLock = 0x5053_4D49;

    private readonly NpgsqlDataSource _source;

    private PostgresStore(NpgsqlDataSource source, string location, string sensor)
    {
        _source = source;
        Location = location;
        Writer = sensor;
    }

    /// <summary>The server and database, as <c>postgresql://user@host:port/database</c>: never the password.</summary>
    public string Location { get; }

    /// <summary>The name this store writes bans and alerts under (the configured sensor name).</summary>
    public string Writer { get; }

    /// <summary>
    /// Connects, refuses a host whose clock (<paramref name="time"/>, the system's by default) is
    /// off from the server's, brings the schema up to date (once, whichever sensor comes first) and
    /// registers <paramref name="sensor"/>.
    /// </summary>
    public static PostgresStore Open(StoreOptions options, string sensor, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(sensor);
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);
        NpgsqlConnectionStringBuilder settings = builder.ConnectionStringBuilder;
        string location = $"postgresql://{settings.Username}@{settings.Host}:{settings.Port}/{settings.Database}";
        if (options.PasswordFile.Length > 0)
        {
            settings.Password = ReadPassword(options.PasswordFile);
        }
        settings.ApplicationName ??= $"portsentinel {sensor}";
        settings.Timezone = "UTC";
        settings.MaxAutoPrepare = Math.Max(settings.MaxAutoPrepare, 64);
        NpgsqlDataSource source = builder.Build();
        try
        {
            CheckClock(source, location, time ?? TimeProvider.System, options.MaxClockSkewSeconds);
            Migrate(source, location);
            var store = new PostgresStore(source, location, sensor);
            store.Register(DateTimeOffset.UtcNow);
            return store;
        }
        catch (NpgsqlException e)
        {
            source.Dispose();
            throw Failed(location, e);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>What went wrong talking to the server, with the fix when it is the configuration's.</summary>
    internal static StoreException Failed(string location, NpgsqlException e)
    {
        string hint = (e as PostgresException)?.SqlState switch
        {
            PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification =>
                $" Check the user in {StoreOptions.Section}:{nameof(StoreOptions.ConnectionString)} and the password in {StoreOptions.Section}:{nameof(StoreOptions.PasswordFile)} or PGPASSWORD.",
            PostgresErrorCodes.InvalidCatalogName => " Create the database first (createdb), or name another in the connection string.",
            PostgresErrorCodes.InsufficientPrivilege => " Grant the user the rights to create tables in the database (it owns the schema PortSentinel creates).",
            _ => e.IsTransient ? " Is the server running and reachable? Check Host and Port in the connection string." : "",
        };
        return new StoreException($"{location}: {e.Message}.{hint}", e);
    }

    private static string ReadPassword(string file)
    {
        try
        {
            return File.ReadLines(file).FirstOrDefault()?.TrimEnd('\r') ?? "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"{StoreOptions.Section}:{nameof(StoreOptions.PasswordFile)} {file} cannot be read: {e.Message}; make it readable for {Environment.UserName}.", e);
        }
    }

    /// <summary>
    /// Refuses a host whose clock is more than <paramref name="maxSeconds"/> from the server's:
    /// bans would end and alerts be dated wrongly for the whole fleet. The query's own round trip
    /// is allowed for: the server's time is compared with the middle of it.
    /// </summary>
    private static void CheckClock(NpgsqlDataSource source, string location, TimeProvider time, int maxSeconds)
    {
        using NpgsqlCommand query = source.CreateCommand("SELECT clock_timestamp()");
        DateTimeOffset sent = time.GetUtcNow();
        var server = (DateTime)query.ExecuteScalar()!;
        DateTimeOffset here = sent + ((time.GetUtcNow() - sent) / 2);
        double skew = (here - new DateTimeOffset(server, TimeSpan.Zero)).TotalSeconds;
        if (Math.Abs(skew) > maxSeconds)
        {
            throw new StoreException($"{location}: this host's clock is {Math.Abs(skew):0.0} s {(skew > 0 ? "ahead of" : "behind")} the database server's, more than {StoreOptions.Section}:{nameof(StoreOptions.MaxClockSkewSeconds)} ({maxSeconds} s): what it records would be dated wrongly for the whole fleet. Synchronise the clocks (timedatectl set-ntp true, or chrony) and start again.");
        }
    }

    private static void Migrate(NpgsqlDataSource source, string location)
    {
        using NpgsqlConnection connection = source.OpenConnection();
        using NpgsqlTransaction tx = connection.BeginTransaction();
        Execute(connection, tx, $"SELECT pg_advisory_xact_lock({MigrationLock})");
        Execute(connection, tx, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)");
        int version;
        using (var read = new NpgsqlCommand("SELECT version FROM schema_version", connection, tx))
        {
            version = read.ExecuteScalar() is int v ? v : -1;
        }
        if (version < 0)
        {
            Execute(connection, tx, "INSERT INTO schema_version VALUES (0)");
            version = 0;
        }
        if (version > Migrations.Steps.Length)
        {
            throw new StoreException($"{location}: schema version {version} is newer than this PortSentinel knows ({Migrations.Steps.Length}): another sensor of the fleet runs a newer PortSentinel; upgrade this one.");
        }
        for (int step = version; step < Migrations.Steps.Length; step++)
        {
            Execute(connection, tx, Migrations.Steps[step]);
            Execute(connection, tx, $"UPDATE schema_version SET version = {step + 1}");
        }
        tx.Commit();
    }

    private void Register(DateTimeOffset now) =>
        Change("""
            INSERT INTO sensors (name, host, started, seen) VALUES (@name, @host, @now, @now)
            ON CONFLICT (name) DO UPDATE SET host = excluded.host, started = excluded.started, seen = excluded.seen
            """, ("@name", Writer), ("@host", Environment.MachineName), ("@now", now));

    public int SchemaVersion => Scalar<int>("SELECT version FROM schema_version");

    // The whole database's, as pg_database_size counts it.
    public long SizeBytes => Scalar<long>("SELECT pg_database_size(current_database())");

    public void Dispose() => _source.Dispose();

    /// <summary>
    /// Runs a call on the server, its failure (the server gone, a broken connection, a refused
    /// statement) a <see cref="StoreException"/> that names the server and what to check, as every
    /// caller of a store expects, rather than Npgsql's own exception.
    /// </summary>
    private T Guarded<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (NpgsqlException e)
        {
            throw Failed(Location, e);
        }
    }

    /// <summary>Runs a query and maps each row.</summary>
    private List<T> Read<T>(string sql, Func<NpgsqlDataReader, T> map, params (string Name, object? Value)[] parameters) => Guarded(() =>
    {
        using NpgsqlCommand query = Command(sql, parameters);
        var rows = new List<T>();
        using NpgsqlDataReader row = query.ExecuteReader();
        while (row.Read())
        {
            rows.Add(map(row));
        }
        return rows;
    });

    /// <summary>Runs a statement; returns the rows changed.</summary>
    private int Change(string sql, params (string Name, object? Value)[] parameters) => Guarded(() =>
    {
        using NpgsqlCommand command = Command(sql, parameters);
        return command.ExecuteNonQuery();
    });

    private T Scalar<T>(string sql, params (string Name, object? Value)[] parameters) => Guarded(() =>
    {
        using NpgsqlCommand command = Command(sql, parameters);
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    });

    private NpgsqlCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        NpgsqlCommand command = _source.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, Value(value));
        }
        return command;
    }

    /// <summary>A parameter's value as Npgsql writes it: null as NULL, times in UTC (timestamptz takes no other offset).</summary>
    private static object Value(object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset t => t.ToUniversalTime(),
        _ => value,
    };

    /// <summary>
    /// Runs <paramref name="each"/>'s statements as one batch in one transaction, which
    /// <paramref name="check"/> (given each one's rows changed) may refuse by throwing before it is committed.
    /// </summary>
    private void Batch(IEnumerable<(string Sql, (string Name, object? Value)[] Parameters)> each, Action<int[]>? check = null) => Guarded(() =>
    {
        using NpgsqlConnection connection = _source.OpenConnection();
        using NpgsqlTransaction tx = connection.BeginTransaction();
        using var batch = new NpgsqlBatch(connection, tx);
        foreach (var (sql, parameters) in each)
        {
            var command = new NpgsqlBatchCommand(sql);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, Value(value));
            }
            batch.BatchCommands.Add(command);
        }
        if (batch.BatchCommands.Count == 0)
        {
            return false;
        }
        batch.ExecuteNonQuery();
        check?.Invoke([.. batch.BatchCommands.Cast<NpgsqlBatchCommand>().Select(c => c.RecordsAffected)]);
        tx.Commit();
        return true;
    });

    private static DateTimeOffset Time(NpgsqlDataReader row, int column) => row.GetFieldValue<DateTimeOffset>(column);

    private static DateTimeOffset? TimeOrNull(NpgsqlDataReader row, int column) => row.IsDBNull(column) ? null : Time(row, column);

    private static string? TextOrNull(NpgsqlDataReader row, int column) => row.IsDBNull(column) ? null : row.GetString(column);

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction tx, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, tx);
        command.ExecuteNonQuery();
    }
}
