-- The dashboard (docs/dashboard.md): members sign in with an e-mailed code
-- (+ TOTP), and hold a session cookie whose id is stored only as a hash.

-- The organization may require every member to have TOTP.
ALTER TABLE organizations ADD COLUMN require_member_mfa BOOLEAN NOT NULL DEFAULT FALSE;

-- A code mailed to a member. member_id is NULL when no member has the
-- address: the sign-in looks the same and never succeeds.
CREATE TABLE member_sign_ins (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    email           TEXT NOT NULL,
    member_id       TEXT REFERENCES members(id) ON DELETE CASCADE,
    code_mac        BLOB NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    consumed_at     BIGINT
);
CREATE INDEX member_sign_ins_by_expiry ON member_sign_ins (expires_at);
CREATE INDEX member_sign_ins_by_email ON member_sign_ins (organization_id, email);

-- A member's dashboard session. role is the member's role when it began: a
-- session whose member is gone or has another role is over. stage 'totp'
-- waits for the member's TOTP code.
CREATE TABLE member_sessions (
    id_hash      BLOB PRIMARY KEY,
    member_id    TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    stage        TEXT NOT NULL CHECK (stage IN ('totp', 'signed_in')),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX member_sessions_by_member ON member_sessions (member_id);
CREATE INDEX member_sessions_by_expiry ON member_sessions (expires_at);

-- A member's TOTP authenticator (one per member), the secret sealed under
-- the master key; confirmed by a first code.
CREATE TABLE member_totp (
    member_id      TEXT PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
    secret_sealed  BLOB NOT NULL,
    created_at     BIGINT NOT NULL,
    confirmed_at   BIGINT,
    last_used_step BIGINT
);

-- A user's recent events on their dashboard page: by subject (the user,
-- their sessions), newest first.
CREATE INDEX events_by_subject ON events (environment_id, subject_id, seq);
