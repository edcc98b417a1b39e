using System.Net;
using System.Net.Sockets;
using Npgsql;
using PortSentinel.Record;

namespace PortSentinel.Tests.Record;

/// <summary>Runs only where a PostgreSQL server can be started: its programs are installed, and (as root) its system user exists.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        Skip = PostgresServer.Unavailable;
    }
}

/// <summary>
/// A real PostgreSQL server of the test run's own: initdb into a temporary directory, run as the
/// postgres user when the tests run as root (the server refuses root), listening on a free port of
/// 127.0.0.1 only, without fsync (the data lives as long as the run). Started at first use, shared
/// by the tests, each of which makes its own database, owned by an unprivileged role that logs in
/// with a password (SCRAM) from a file, as a sensor would. Stopped when the test process exits;
/// a server left by a run that was killed is stopped by the next.
/// </summary>
internal static class PostgresServer
{
    private const string Prefix = "ps-pg-";
    private const string Admin = "portsentinel";
    public const string Role = "sensor";

    private static readonly Lazy<Server> _shared = new(Server.Start);

    /// <summary>Why no server can be started here, or null.</summary>
    public static string? Unavailable { get; } = FindUnavailable();

    /// <summary>
    /// A new, empty database owned by the sensor role; returns the options that reach it (the
    /// password in a file), over TCP on 127.0.0.1 or, <paramref name="overSocket"/>, over the
    /// server's Unix socket, which sensors in other network namespaces reach too.
    /// </summary>
    public static StoreOptions NewDatabase(bool overSocket = false)
    {
        Server server = _shared.Value;
        string name = $"ps_{Guid.NewGuid():N}";
        using (var admin = new NpgsqlConnection(server.AdminConnectionString))
        {
            admin.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name} OWNER {Role}", admin);
            create.ExecuteNonQuery();
        }
        return new StoreOptions { ConnectionString = $"Host={(overSocket ? server.SocketDirectory : "127.0.0.1")};Port={server.Port};Database={name};Username={Role}", PasswordFile = server.PasswordFile };
    }

    /// <summary>Drops a database that <see cref="NewDatabase"/> made, its connections ended first.</summary>
    public static void Drop(StoreOptions options)
    {
        NpgsqlConnection.ClearAllPools();
        string name = new NpgsqlConnectionStringBuilder(options.ConnectionString).Database!;
        using var admin = new NpgsqlConnection(_shared.Value.AdminConnectionString);
        admin.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
        drop.ExecuteNonQuery();
    }

    /// <summary>
    /// Makes a test's database unreachable (no connection accepted, every open one ended, as when
    /// the server goes down) or reachable again.
    /// </summary>
    public static void SetReachable(StoreOptions options, bool reachable)
    {
        string name = new NpgsqlConnectionStringBuilder(options.ConnectionString).Database!;
        using var admin = new NpgsqlConnection(_shared.Value.AdminConnectionString);
        admin.Open();
        using var alter = new NpgsqlCommand($"ALTER DATABASE {name} ALLOW_CONNECTIONS {(reachable ? "true" : "false")}", admin);
        alter.ExecuteNonQuery();
        if (!reachable)
        {
            using var end = new NpgsqlCommand($"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{name}'", admin);
            end.ExecuteNonQuery();
        }
    }

    /// <summary>Runs SQL on a test's database as its owner; returns the first column of its first row.</summary>
    public static object? Execute(StoreOptions options, string sql)
    {
        var settings = new NpgsqlConnectionStringBuilder(options.ConnectionString) { Password = File.ReadAllText(options.PasswordFile).Trim(), Pooling = false };
        using var connection = new NpgsqlConnection(settings.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar();
    }

    private static string? FindUnavailable()
    {
        if (BinDirectory() is null)
        {
            return "needs PostgreSQL's server programs (initdb, pg_ctl): deploy/install-deps.sh --test installs Debian's postgresql";
        }
        return Environment.IsPrivilegedProcess && !File.ReadLines("/etc/passwd").Any(l => l.StartsWith("postgres:", StringComparison.Ordinal))
            ? "runs as root, and PostgreSQL's server refuses root: needs the postgres user, which Debian's postgresql package creates"
            : null;
    }

    private static string? BinDirectory()
    {
        string? debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(b => File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out int v) ? v : 0).FirstOrDefault()
            : null;
        return debian ?? (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').FirstOrDefault(d => File.Exists(Path.Combine(d, "pg_ctl")) && File.Exists(Path.Combine(d, "initdb")));
    }

    private sealed class Server
    {
        private readonly string _bin;
        private readonly string _directory;

        private Server(string bin, string directory, int port)
        {
            _bin = bin;
            _directory = directory;
            Port = port;
        }

        public int Port { get; }

        /// <summary>Where the server's files are, its Unix socket among them.</summary>
        public string SocketDirectory => _directory;

        public string PasswordFile => Path.Combine(_directory, "password");

        private string Data => Path.Combine(_directory, "data");

        public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Database=postgres;Username={Admin};Password={File.ReadAllText(PasswordFile).Trim()};Pooling=false";

        public static Server Start()
        {
            string bin = BinDirectory() ?? throw new InvalidOperationException(Unavailable);
            StopStale(bin);
            string directory = Path.Combine(Path.GetTempPath(), $"{Prefix}{Environment.ProcessId}");
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
            Directory.CreateDirectory(directory);
            var server = new Server(bin, directory, FreePort());
            File.WriteAllText(server.PasswordFile, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)) + "\n");
            if (Environment.IsPrivilegedProcess)
            {
                Run("chown", ["-R", "postgres:postgres", directory]);
            }
            server.PgRun("initdb", ["-D", server.Data, "-U", Admin, $"--pwfile={server.PasswordFile}", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"]);
            server.PgRun("pg_ctl", ["-D", server.Data, "-l", Path.Combine(directory, "log"), "-w", "-t", "60", "-o",
                $"-p {server.Port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", "start"]);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
            using (var admin = new NpgsqlConnection(server.AdminConnectionString))
            {
                admin.Open();
                using var role = new NpgsqlCommand($"CREATE ROLE {Role} LOGIN PASSWORD '{File.ReadAllText(server.PasswordFile).Trim()}'", admin);
                role.ExecuteNonQuery();
            }
            return server;
        }

        private void Stop()
        {
            try
            {
                PgRun("pg_ctl", ["-D", Data, "-m", "immediate", "-w", "stop"]);
            }
            finally
            {
                Directory.Delete(_directory, recursive: true);
            }
        }

        /// <summary>Stops the servers of earlier runs that were killed before they could (their process is gone).</summary>
        private static void StopStale(string bin)
        {
            foreach (string directory in Directory.GetDirectories(Path.GetTempPath(), Prefix + "*"))
            {
                if (int.TryParse(Path.GetFileName(directory)[Prefix.Length..], out int pid) && !Directory.Exists($"/proc/{pid}"))
                {
                    if (File.Exists(Path.Combine(directory, "data", "postmaster.pid")))
                    {
                        new Server(bin, directory, 0).PgRun("pg_ctl", ["-D", Path.Combine(directory, "data"), "-m", "immediate", "-w", "stop"], check: false);
                    }
                    Directory.Delete(directory, recursive: true);
                }
            }
        }

        private void PgRun(string program, string[] arguments, bool check = true)
        {
            string path = Path.Combine(_bin, program);
            var (exit, output) = Environment.IsPrivilegedProcess
                ? ProcessRunner.Run("runuser", ["-u", "postgres", "--", path, .. arguments], TimeSpan.FromSeconds(90))
                : ProcessRunner.Run(path, arguments, TimeSpan.FromSeconds(90));
            if (check && exit != 0)
            {
                string log = Path.Combine(_directory, "log");
                throw new InvalidOperationException($"{program} failed ({exit}): {output}{(File.Exists(log) ? File.ReadAllText(log) : "")}");
            }
        }

        private static void Run(string program, string[] arguments)
        {
            var (exit, output) = ProcessRunner.Run(program, arguments, TimeSpan.FromSeconds(30));
            if (exit != 0)
            {
                throw new InvalidOperationException($"{program} failed ({exit}): {output}");
            }
        }

        private static int FreePort()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
    }
}
