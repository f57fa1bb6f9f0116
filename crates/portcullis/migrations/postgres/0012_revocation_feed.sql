-- The revocation feed (docs/verify.md): an environment's revocations in the
-- order they were recorded, for verifiers outside the server. `seq` counts
-- per environment (environments.revocation_seq, raised under the
-- environment's row lock, so a reader never sees a later entry before an
-- earlier one commits). Kept as long as a token it concerns can still be
-- presented (the longest token lifetime), then pruned; revocation_floor is
-- the highest seq pruned, and a cursor below it must start over (410).
ALTER TABLE environments ADD COLUMN revocation_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE environments ADD COLUMN revocation_floor BIGINT NOT NULL DEFAULT 0;

CREATE TABLE revocation_log (
    environment_id TEXT NOT NULL REFERENCES environments(id),
    seq            BIGINT NOT NULL,
    -- session | user | environment
    kind           TEXT NOT NULL,
    -- the session's, user's or environment's id
    subject_id     TEXT NOT NULL,
    -- a session's user
    user_id        TEXT,
    -- user and environment: the epoch raised to
    epoch          BIGINT,
    -- session: when it expires (ms)
    expires_at     BIGINT,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (environment_id, seq)
);
CREATE INDEX revocation_log_by_time ON revocation_log (created_at);

-- What was revoked before the feed existed, in the order it happened.
INSERT INTO revocation_log (environment_id, seq, kind, subject_id, user_id, epoch, expires_at, created_at)
SELECT environment_id,
       ROW_NUMBER() OVER (PARTITION BY environment_id ORDER BY at, kind, subject_id),
       kind, subject_id, user_id, epoch, expires_at, at
FROM (
    SELECT environment_id, 'session' AS kind, id AS subject_id, user_id,
           NULL AS epoch, expires_at, revoked_at AS at
    FROM sessions WHERE revoked_at IS NOT NULL
    UNION ALL
    SELECT environment_id, 'user', id, NULL, sessions_epoch, NULL, COALESCE(sessions_revoked_at, 0)
    FROM users WHERE sessions_epoch > 0
    UNION ALL
    SELECT id, 'environment', id, NULL, sessions_epoch, NULL, COALESCE(sessions_revoked_at, 0)
    FROM environments WHERE sessions_epoch > 0
) AS past;
UPDATE environments SET revocation_seq =
    (SELECT COUNT(*) FROM revocation_log l WHERE l.environment_id = environments.id);
