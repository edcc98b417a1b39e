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
        // 2: alerts recorded when raised (with the decision) and completed when the scan ends;
        //    user accounts, API tokens and the audit log of manual actions.
        """
        ALTER TABLE detections ADD COLUMN raised INTEGER;          -- when recognised; null: recorded at its end only
        ALTER TABLE detections ADD COLUMN ended INTEGER;           -- null while the scan goes on
        ALTER TABLE detections ADD COLUMN target_list TEXT NOT NULL DEFAULT '';  -- addresses probed, comma-separated (capped)
        ALTER TABLE detections ADD COLUMN protocols INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE detections ADD COLUMN open INTEGER NOT NULL DEFAULT 0;       -- outcomes of first contacts
        ALTER TABLE detections ADD COLUMN closed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE detections ADD COLUMN unreachable INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE detections ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE detections ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE detections ADD COLUMN reason TEXT;
        UPDATE detections SET ended = last_seen;
        CREATE INDEX detections_raised ON detections (coalesce(raised, last_seen));

        CREATE TABLE users (
            id            INTEGER PRIMARY KEY,
            name          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
            role          TEXT    NOT NULL,   -- admin or viewer
            password_hash TEXT    NOT NULL,   -- ASP.NET Core PasswordHasher (PBKDF2)
            stamp         TEXT    NOT NULL,   -- changes with the password: older sessions end
            created       INTEGER NOT NULL,
            failures      INTEGER NOT NULL DEFAULT 0,   -- failed logins in a row
            locked_until  INTEGER
        );

        CREATE TABLE api_tokens (
            id         INTEGER PRIMARY KEY,
            name       TEXT    NOT NULL,
            role       TEXT    NOT NULL,
            hash       TEXT    NOT NULL UNIQUE,   -- SHA-256 of the token, which is shown once
            created    INTEGER NOT NULL,
            created_by TEXT    NOT NULL,
            last_used  INTEGER,
            revoked    INTEGER
        );

        CREATE TABLE audit (
            id     INTEGER PRIMARY KEY,
            at     INTEGER NOT NULL,
            actor  TEXT    NOT NULL,   -- user:NAME, token:NAME or cli:LOGIN
            action TEXT    NOT NULL,
            target TEXT    NOT NULL,
            detail TEXT    NOT NULL,
            remote TEXT    NOT NULL    -- the client address, or "local"
        );
        CREATE INDEX audit_at ON audit (at);
        """,

        // 3: AbuseIPDB reputations, cached.
        """
        CREATE TABLE reputation (
            address        TEXT    PRIMARY KEY,
            score          INTEGER NOT NULL,   -- abuseConfidenceScore, 0-100
            country        TEXT,
            isp            TEXT,
            domain         TEXT,
            total_reports  INTEGER NOT NULL,
            last_reported  INTEGER,
            checked        INTEGER NOT NULL
        );
        """,

        // 4: when each scanner was last reported to AbuseIPDB.
        """
        CREATE TABLE abuse_reports (
            address  TEXT    PRIMARY KEY,
            reported INTEGER NOT NULL
        );
        """,

        // 5: whether a scanner was verified at its address, and which bans are short holds of unverified ones.
        """
        ALTER TABLE detections ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE bans ADD COLUMN hold INTEGER NOT NULL DEFAULT 0;   -- 1: a hold, not an offence
        """,
    ];
}
