using PortSentinel.Intel;

namespace PortSentinel.Record;

/// <summary>
/// The record: where the sensor keeps what it decided and who may see and change it. The stages
/// and the dashboard use the narrow parts (<see cref="IBanStore"/>, <see cref="IAlertStore"/>,
/// <see cref="IAccountStore"/>, <see cref="IAuditLog"/>, and Intel's <see cref="IReputationCache"/>);
/// a store implements them all. <see cref="Sqlite.SqliteStore"/> is the embedded default.
/// </summary>
public interface IStore : IBanStore, IAlertStore, IAccountStore, IAuditLog, IReputationCache, IDisposable
{
    /// <summary>Where the record is, as an administrator would look for it: a file's path.</summary>
    string Location { get; }

    /// <summary>The version of the schema the store has.</summary>
    int SchemaVersion { get; }

    /// <summary>The record's size on disk, in bytes.</summary>
    long SizeBytes { get; }
}
