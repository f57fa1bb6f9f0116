-- Periodic background work (src/store/sqlite/jobs.rs): when it is next
-- due (Unix ms), who last ran it.
CREATE TABLE jobs (
    name        TEXT PRIMARY KEY,
    next_run_at BIGINT NOT NULL,
    claimed_by  TEXT,
    claimed_at  BIGINT
);
