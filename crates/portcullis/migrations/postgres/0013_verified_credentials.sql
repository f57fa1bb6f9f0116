-- Verified credentials (docs/sign-in.md): what a user has proved they hold,
-- several per user, each kind's value unique in an environment. A sign-in
-- finds its user by the credential it proves; `users.email`,
-- `users.phone_number` and `users.wallet` stay as the user's primary
-- credential of each kind (the one the user signed up or first linked
-- with), so that claims cost no extra read. Values are normalized: e-mail
-- lower-case, phone E.164, wallet EIP-55, passkey the base64url credential
-- id.
CREATE TABLE verified_credentials (
    id             TEXT COLLATE "C" PRIMARY KEY,
    environment_id TEXT COLLATE "C" NOT NULL REFERENCES environments(id),
    user_id        TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    kind           TEXT COLLATE "C" NOT NULL CHECK (kind IN ('email', 'phone', 'wallet', 'passkey')),
    value          TEXT COLLATE "C" NOT NULL,
    -- passkeys: the label, the webauthn-rs Passkey (public key, JSON) and
    -- the signature counter
    name           TEXT COLLATE "C",
    data           TEXT COLLATE "C",
    sign_count     BIGINT,
    verified_at    BIGINT NOT NULL,
    last_used_at   BIGINT,
    created_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX verified_credentials_value ON verified_credentials (environment_id, kind, value);
CREATE INDEX verified_credentials_by_user ON verified_credentials (environment_id, user_id);

ALTER TABLE users ADD COLUMN phone_number TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN wallet TEXT COLLATE "C";
-- The session a verification signed in (the sign-in statement's later
-- parts run only where it is theirs).
ALTER TABLE verifications ADD COLUMN consumed_by TEXT COLLATE "C";

-- Every user's e-mail address becomes their first credential; the id is
-- the user's with another prefix (unique, ordered like the users).
INSERT INTO verified_credentials (id, environment_id, user_id, kind, value, verified_at, last_used_at, created_at)
SELECT 'vcr_' || substr(u.id, 5), u.environment_id, u.id, 'email', u.email, u.created_at,
       (SELECT MAX(s.created_at) FROM sessions s WHERE s.environment_id = u.environment_id AND s.user_id = u.id),
       u.created_at
FROM users u WHERE u.email IS NOT NULL;

-- Uniqueness lives on the credentials now: a primary may move to another
-- of the user's addresses.
DROP INDEX users_by_email;
