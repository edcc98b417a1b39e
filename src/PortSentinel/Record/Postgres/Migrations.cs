namespace PortSentinel.Record.Postgres;

/// <summary>
/// The PostgreSQL schema, as numbered steps: step N brings a database from version N−1 (the one
/// row of <c>schema_version</c>) to N, inside one transaction that holds the migration lock, so
/// that sensors starting together migrate once. Steps are only ever appended, never edited.
/// The tables are SQLite's, with PostgreSQL's types, and the sensor that wrote each ban and alert.
/// </summary>
internal static class Migrations
{
    public static readonly string[] Steps =
    [
        // 1: the schema of SQLite's five steps, and the sensors of the fleet.
        """
        CREATE TABLE sensors (
            name     text        PRIMARY KEY,   -- the name each sensor is given
            host     text        NOT NULL,      -- the machine's host name
            started  timestamptz NOT NULL,
            seen     timestamptz NOT NULL
        );

        CREATE TABLE bans (
            id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            network   text        NOT NULL,
            reason    text        NOT NULL,
            created   timestamptz NOT NULL,
            expires   timestamptz,            -- null: until lifted
            offence   integer     NOT NULL,
            lifted    timestamptz,
            lifted_by text,
            hold      boolean     NOT NULL DEFAULT false,   -- a hold, not an offence
            sensor    text        NOT NULL    -- who made it
        );
        CREATE INDEX bans_network ON bans (network);
        CREATE INDEX bans_active ON bans (expires) WHERE lifted IS NULL;
        CREATE INDEX bans_created ON bans (created);

        CREATE TABLE detections (
            id          bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            sensor      text             NOT NULL,   -- who saw it
            source      text             NOT NULL,
            kinds       text             NOT NULL,   -- names, comma-separated
            first_seen  timestamptz      NOT NULL,
            last_seen   timestamptz      NOT NULL,
            raised      timestamptz,                 -- when recognised; null: recorded at its end only
            ended       timestamptz,                 -- null while the scan goes on
            targets     integer          NOT NULL,
            target_list text             NOT NULL,   -- addresses probed, comma-separated (capped)
            ports       integer          NOT NULL,
            port_ranges text             NOT NULL,
            protocols   integer          NOT NULL,
            probes      bigint           NOT NULL,
            trigger     text             NOT NULL,
            confidence  double precision NOT NULL,
            severity    text,
            action      text,
            reason      text,
            open        integer          NOT NULL,   -- outcomes of first contacts
            closed      integer          NOT NULL,
            unreachable integer          NOT NULL,
            unanswered  integer          NOT NULL,
            dropped     integer          NOT NULL,
            verified    boolean          NOT NULL DEFAULT false
        );
        CREATE INDEX detections_source ON detections (source);
        CREATE INDEX detections_raised ON detections ((coalesce(raised, last_seen)));

        CREATE TABLE users (
            id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name          text        NOT NULL,
            role          text        NOT NULL,   -- admin or viewer
            password_hash text        NOT NULL,   -- ASP.NET Core PasswordHasher (PBKDF2)
            stamp         text        NOT NULL,   -- changes with the password: older sessions end
            created       timestamptz NOT NULL,
            failures      integer     NOT NULL DEFAULT 0,   -- failed logins in a row
            locked_until  timestamptz
        );
        CREATE UNIQUE INDEX users_name ON users ((lower(name)));   -- names are case-insensitive

        CREATE TABLE api_tokens (
            id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name       text        NOT NULL,
            role       text        NOT NULL,
            hash       text        NOT NULL UNIQUE,   -- SHA-256 of the token, which is shown once
            created    timestamptz NOT NULL,
            created_by text        NOT NULL,
            last_used  timestamptz,
            revoked    timestamptz
        );

        CREATE TABLE audit (
            id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at     timestamptz NOT NULL,
            actor  text        NOT NULL,   -- user:NAME, token:NAME or cli:LOGIN
            action text        NOT NULL,
            target text        NOT NULL,
            detail text        NOT NULL,
            remote text        NOT NULL    -- the client address, or "local"
        );
        CREATE INDEX audit_at ON audit (at);

        CREATE TABLE reputation (
            address        text        PRIMARY KEY,
            score          integer     NOT NULL,   -- abuseConfidenceScore, 0-100
            country        text,
            isp            text,
            domain         text,
            total_reports  integer     NOT NULL,
            last_reported  timestamptz,
            checked        timestamptz NOT NULL
        );

        CREATE TABLE abuse_reports (
            address  text        PRIMARY KEY,
            reported timestamptz NOT NULL
        );
        """,

        // 2: the blocklist pushed, and the fleet-wide allowlist. Every write of a ban row takes the next number of ban_changes
        // (bans.changed) and names the sensor that wrote it (changed_by); the writers of bans are
        // serialised, so that numbers are committed in order and a sensor that has applied up to N
        // has seen every change up to N; each statement's last number is sent on the channel
        // portsentinel_bans when it commits. sensors.applied: the last number each sensor applied.
        """
        CREATE SEQUENCE ban_changes;
        ALTER TABLE bans ADD COLUMN changed bigint, ADD COLUMN changed_by text;
        UPDATE bans SET changed = nextval('ban_changes'), changed_by = sensor;
        ALTER TABLE bans ALTER COLUMN changed SET NOT NULL, ALTER COLUMN changed_by SET NOT NULL;
        CREATE INDEX bans_changed ON bans (changed);
        ALTER TABLE sensors ADD COLUMN applied bigint;

        -- Statement-level, before any row is locked: writers queue here, never in a deadlock.
        CREATE FUNCTION ban_writers_in_turn() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(1347633729);   -- "PSBA"
            RETURN NULL;
        END $$;
        CREATE FUNCTION ban_change_numbered() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.changed := nextval('ban_changes');
            RETURN NEW;
        END $$;
        CREATE FUNCTION ban_changes_announced() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE last bigint;
        BEGIN
            SELECT max(changed) INTO last FROM written;
            IF last IS NOT NULL THEN
                PERFORM pg_notify('portsentinel_bans', last::text);
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER bans_in_turn BEFORE INSERT OR UPDATE ON bans FOR EACH STATEMENT EXECUTE FUNCTION ban_writers_in_turn();
        CREATE TRIGGER bans_numbered BEFORE INSERT OR UPDATE ON bans FOR EACH ROW EXECUTE FUNCTION ban_change_numbered();
        CREATE TRIGGER bans_inserted AFTER INSERT ON bans REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION ban_changes_announced();
        CREATE TRIGGER bans_updated AFTER UPDATE ON bans REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION ban_changes_announced();

        -- The fleet-wide allowlist: every sensor adds it to its own; each change is announced on portsentinel_allowlist.
        CREATE TABLE allowlist (
            network  text        PRIMARY KEY,
            comment  text        NOT NULL,
            added    timestamptz NOT NULL,
            added_by text        NOT NULL
        );
        CREATE FUNCTION allowlist_announced() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('portsentinel_allowlist', '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER allowlist_changed AFTER INSERT OR UPDATE OR DELETE ON allowlist FOR EACH STATEMENT EXECUTE FUNCTION allowlist_announced();
        """,
    ];
}
