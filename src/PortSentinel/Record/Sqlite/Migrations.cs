namespace PortSentinel.Record.Sqlite;

/// <summary>
/// The schema, as numbered steps: step N brings a database from version N−1 (PRAGMA user_version)
/// to N, inside one transaction. Steps are only ever appended, never edited.
/// </summary>
internal static class Migrations
{
    public static readonly string[] Steps =
    [
        // 1: bans and detections.
        """
        CREATE TABLE bans (
            id        INTEGER PRIMARY KEY,
            network   TEXT    NOT NULL,
            reason    TEXT    NOT NULL,
            created   INTEGER NOT NULL,   -- Unix milliseconds
            expires   INTEGER,            -- null: until lifted
            offence   INTEGER NOT NULL,
            lifted    INTEGER,
            lifted_by TEXT
        );
        CREATE INDEX bans_network ON bans (network);
        CREATE INDEX bans_active ON bans (lifted, expires);

        CREATE TABLE detections (
            id          INTEGER PRIMARY KEY,
            source      TEXT    NOT NULL,
            kinds       TEXT    NOT NULL,   -- names, comma-separated
            first_seen  INTEGER NOT NULL,
            last_seen   INTEGER NOT NULL,
            targets     INTEGER NOT NULL,
            ports       INTEGER NOT NULL,
            port_ranges TEXT    NOT NULL,
            probes      INTEGER NOT NULL,
            trigger     TEXT    NOT NULL,
            confidence  REAL    NOT NULL,
            severity    TEXT,
            action      TEXT
        );
        CREATE INDEX detections_source ON detections (source);
        CREATE INDEX detections_last ON detections (last_seen);
        """,
    ];
}
