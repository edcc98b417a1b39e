using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using PortSentinel.Record.Sqlite;

namespace PortSentinel.Tests.Intel;

/// <summary>What the AbuseIPDB tests share: a local server that answers like AbuseIPDB, a real SQLite store in a folder of the test's own, and the log.</summary>
public abstract class AbuseIpDbTests : IAsyncLifetime, IDisposable
{
    protected AbuseIpDbTests(string prefix)
    {
        Data = Directory.CreateTempSubdirectory(prefix).FullName;
        Store = SqliteStore.Open(Data);
    }

    protected string Data { get; }

    protected SqliteStore Store { get; }

    protected ConcurrentQueue<string> Log { get; } = new();

    protected FakeAbuseIpDb Server { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Server = new FakeAbuseIpDb();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Store.Dispose();
            SqliteConnection.ClearAllPools();
            Directory.Delete(Data, recursive: true);
        }
    }
}
