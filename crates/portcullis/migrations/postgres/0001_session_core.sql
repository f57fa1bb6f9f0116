-- The session core (PostgreSQL; keep in step with migrations/sqlite/):
-- tenants, environments and their keys, API tokens, end users,
-- one-time-code verifications and sessions.
-- Text compares byte-wise (COLLATE "C"), as in SQLite, so id cursors page
-- the same on both backends whatever the database's locale.
-- Instants ending in _at are Unix milliseconds; iat is the Unix second
-- JWTs carry. Revocation of a user or an environment raises its
-- sessions_epoch; a session issued under a lower epoch is revoked.

CREATE TABLE meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);

CREATE TABLE organizations (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id              TEXT COLLATE "C" PRIMARY KEY,
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    name            TEXT COLLATE "C" NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE environments (
    id                       TEXT COLLATE "C" PRIMARY KEY,
    project_id               TEXT COLLATE "C" NOT NULL REFERENCES projects(id),
    organization_id          TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    kind                     TEXT COLLATE "C" NOT NULL CHECK (kind IN ('sandbox', 'live')),
    settings_json            TEXT COLLATE "C" NOT NULL,
    locked                   BOOLEAN NOT NULL DEFAULT FALSE,
    sessions_epoch           BIGINT NOT NULL DEFAULT 0,
    sessions_revoked_at      BIGINT,
    sessions_revoked_by_kind TEXT COLLATE "C",
    sessions_revoked_by_id   TEXT COLLATE "C",
    created_at               BIGINT NOT NULL,
    UNIQUE (project_id, kind)
);

CREATE TABLE signing_keys (
    kid                TEXT COLLATE "C" PRIMARY KEY,
    environment_id     TEXT COLLATE "C" NOT NULL REFERENCES environments(id),
    algorithm          TEXT COLLATE "C" NOT NULL,
    private_key_sealed BYTEA NOT NULL,
    public_jwk         TEXT COLLATE "C" NOT NULL,
    created_at         BIGINT NOT NULL,
    retired_at         BIGINT
);
CREATE INDEX signing_keys_by_environment ON signing_keys (environment_id);

CREATE TABLE api_tokens (
    id              TEXT COLLATE "C" PRIMARY KEY,
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    environment_id  TEXT COLLATE "C" REFERENCES environments(id),
    role            TEXT COLLATE "C" NOT NULL,
    note            TEXT COLLATE "C" NOT NULL,
    token_hash      BYTEA NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT,
    revoked_at      BIGINT,
    last_used_at    BIGINT
);

CREATE TABLE users (
    id                       TEXT COLLATE "C" PRIMARY KEY,
    environment_id           TEXT COLLATE "C" NOT NULL REFERENCES environments(id),
    email                    TEXT COLLATE "C",
    created_at               BIGINT NOT NULL,
    sessions_epoch           BIGINT NOT NULL DEFAULT 0,
    sessions_revoked_at      BIGINT,
    sessions_revoked_by_kind TEXT COLLATE "C",
    sessions_revoked_by_id   TEXT COLLATE "C"
);
CREATE UNIQUE INDEX users_by_email ON users (environment_id, email);
CREATE INDEX users_with_epoch ON users (sessions_epoch) WHERE sessions_epoch > 0;

CREATE TABLE verifications (
    id             TEXT COLLATE "C" PRIMARY KEY,
    -- Insertion order, for "only the newest code works" (SQLite: rowid).
    seq            BIGINT GENERATED ALWAYS AS IDENTITY,
    environment_id TEXT COLLATE "C" NOT NULL REFERENCES environments(id),
    channel        TEXT COLLATE "C" NOT NULL,
    destination    TEXT COLLATE "C" NOT NULL,
    code_mac       BYTEA NOT NULL,
    attempts       BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    consumed_at    BIGINT
);
CREATE INDEX verifications_by_expiry ON verifications (expires_at);
CREATE INDEX verifications_by_destination ON verifications (environment_id, channel, destination);

CREATE TABLE sessions (
    id              TEXT COLLATE "C" PRIMARY KEY,
    environment_id  TEXT COLLATE "C" NOT NULL REFERENCES environments(id),
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    iat             BIGINT NOT NULL,
    env_epoch       BIGINT NOT NULL,
    user_epoch      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    ip_address      TEXT COLLATE "C",
    user_agent      TEXT COLLATE "C",
    last_active_at  BIGINT,
    revoked_at      BIGINT,
    revoked_by_kind TEXT COLLATE "C",
    revoked_by_id   TEXT COLLATE "C",
    amr             TEXT COLLATE "C" NOT NULL,
    scope           TEXT COLLATE "C" NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (environment_id, user_id, created_at);
CREATE INDEX sessions_by_environment_expiry ON sessions (environment_id, expires_at);
CREATE INDEX sessions_revoked ON sessions (expires_at) WHERE revoked_at IS NOT NULL;

-- Live (not revoked, not expired) sessions per environment, by the minute
-- they expire in, so that an environment-wide revocation counts what it
-- revoked without scanning the sessions.
CREATE TABLE session_counts (
    environment_id TEXT COLLATE "C" NOT NULL,
    expires_minute BIGINT NOT NULL,
    live           BIGINT NOT NULL,
    PRIMARY KEY (environment_id, expires_minute)
);

-- A new session counts as live in the same statement that inserts it.
CREATE FUNCTION sessions_count_live() RETURNS trigger AS $$
BEGIN
    INSERT INTO session_counts (environment_id, expires_minute, live)
    VALUES (NEW.environment_id, NEW.expires_at / 60000, 1)
    ON CONFLICT (environment_id, expires_minute)
    DO UPDATE SET live = session_counts.live + 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER sessions_count_live AFTER INSERT ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_count_live();
