-- The session core: tenants, environments and their keys, API tokens,
-- end users, one-time-code verifications and sessions.
-- Instants ending in _at are Unix milliseconds; iat is the Unix second
-- JWTs carry. Revocation of a user or an environment raises its
-- sessions_epoch; a session issued under a lower epoch is revoked.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE environments (
    id                       TEXT PRIMARY KEY,
    project_id               TEXT NOT NULL REFERENCES projects(id),
    organization_id          TEXT NOT NULL REFERENCES organizations(id),
    kind                     TEXT NOT NULL CHECK (kind IN ('sandbox', 'live')),
    settings_json            TEXT NOT NULL,
    locked                   BOOLEAN NOT NULL DEFAULT FALSE,
    sessions_epoch           BIGINT NOT NULL DEFAULT 0,
    sessions_revoked_at      BIGINT,
    sessions_revoked_by_kind TEXT,
    sessions_revoked_by_id   TEXT,
    created_at               BIGINT NOT NULL,
    UNIQUE (project_id, kind)
);

CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    environment_id     TEXT NOT NULL REFERENCES environments(id),
    algorithm          TEXT NOT NULL,
    private_key_sealed BLOB NOT NULL,
    public_jwk         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    retired_at         BIGINT
);
CREATE INDEX signing_keys_by_environment ON signing_keys (environment_id);

CREATE TABLE api_tokens (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    environment_id  TEXT REFERENCES environments(id),
    role            TEXT NOT NULL,
    note            TEXT NOT NULL,
    token_hash      BLOB NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT,
    revoked_at      BIGINT,
    last_used_at    BIGINT
);

CREATE TABLE users (
    id                       TEXT PRIMARY KEY,
    environment_id           TEXT NOT NULL REFERENCES environments(id),
    email                    TEXT,
    created_at               BIGINT NOT NULL,
    sessions_epoch           BIGINT NOT NULL DEFAULT 0,
    sessions_revoked_at      BIGINT,
    sessions_revoked_by_kind TEXT,
    sessions_revoked_by_id   TEXT
);
CREATE UNIQUE INDEX users_by_email ON users (environment_id, email);
CREATE INDEX users_with_epoch ON users (sessions_epoch) WHERE sessions_epoch > 0;

CREATE TABLE verifications (
    id             TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments(id),
    channel        TEXT NOT NULL,
    destination    TEXT NOT NULL,
    code_mac       BLOB NOT NULL,
    attempts       BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    consumed_at    BIGINT
);
CREATE INDEX verifications_by_expiry ON verifications (expires_at);
CREATE INDEX verifications_by_destination ON verifications (environment_id, channel, destination);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    environment_id  TEXT NOT NULL REFERENCES environments(id),
    user_id         TEXT NOT NULL REFERENCES users(id),
    iat             BIGINT NOT NULL,
    env_epoch       BIGINT NOT NULL,
    user_epoch      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    ip_address      TEXT,
    user_agent      TEXT,
    last_active_at  BIGINT,
    revoked_at      BIGINT,
    revoked_by_kind TEXT,
    revoked_by_id   TEXT,
    amr             TEXT NOT NULL,
    scope           TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (environment_id, user_id, created_at);
CREATE INDEX sessions_by_environment_expiry ON sessions (environment_id, expires_at);
CREATE INDEX sessions_revoked ON sessions (expires_at) WHERE revoked_at IS NOT NULL;

-- Live (not revoked, not expired) sessions per environment, by the minute
-- they expire in, so that an environment-wide revocation counts what it
-- revoked without scanning the sessions.
CREATE TABLE session_counts (
    environment_id TEXT NOT NULL,
    expires_minute BIGINT NOT NULL,
    live           BIGINT NOT NULL,
    PRIMARY KEY (environment_id, expires_minute)
);

-- A new session counts as live in the same statement that inserts it.
CREATE TRIGGER sessions_count_live AFTER INSERT ON sessions
BEGIN
    INSERT INTO session_counts (environment_id, expires_minute, live)
    VALUES (NEW.environment_id, NEW.expires_at / 60000, 1)
    ON CONFLICT (environment_id, expires_minute) DO UPDATE SET live = live + 1;
END;
