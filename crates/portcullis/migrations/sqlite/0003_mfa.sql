-- Multi-factor authentication: devices (TOTP and passkeys), recovery codes,
-- the per-user counter of wrong codes, WebAuthn ceremony state, and spent
-- elevated tokens.
-- TOTP secrets are sealed with the master key (AES-256-GCM); recovery codes
-- are stored as HMACs under a key derived from it.

CREATE TABLE mfa_devices (
    id             TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments(id),
    user_id        TEXT NOT NULL REFERENCES users(id),
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    secret_sealed  BLOB,
    credential     TEXT,
    credential_id  TEXT,
    created_at     BIGINT NOT NULL,
    confirmed_at   BIGINT,
    last_used_at   BIGINT,
    last_used_step BIGINT
);
CREATE INDEX mfa_devices_by_user ON mfa_devices (environment_id, user_id);
CREATE UNIQUE INDEX one_confirmed_totp_per_user ON mfa_devices (user_id)
    WHERE kind = 'totp' AND confirmed_at IS NOT NULL;
-- A passkey (webauthn-rs's Passkey as JSON, public data) belongs to one user.
CREATE UNIQUE INDEX passkey_credential_ids ON mfa_devices (environment_id, credential_id)
    WHERE credential_id IS NOT NULL;

CREATE TABLE recovery_codes (
    id             TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments(id),
    user_id        TEXT NOT NULL REFERENCES users(id),
    code_mac       BLOB NOT NULL,
    created_at     BIGINT NOT NULL,
    used_at        BIGINT
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (environment_id, user_id);

CREATE TABLE mfa_failures (
    user_id           TEXT PRIMARY KEY REFERENCES users(id),
    failures          BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL,
    -- Doubles after each window that ended locked, up to a day.
    window_ms         BIGINT NOT NULL
);

CREATE TABLE elevated_token_uses (
    jti        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX elevated_token_uses_by_expiry ON elevated_token_uses (expires_at);

-- WebAuthn ceremony state (webauthn-rs's registration or authentication
-- state as JSON), bound to the session that started it; single use.
CREATE TABLE webauthn_challenges (
    id             TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments(id),
    session_id     TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    state          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);
CREATE INDEX webauthn_challenges_by_expiry ON webauthn_challenges (expires_at);
