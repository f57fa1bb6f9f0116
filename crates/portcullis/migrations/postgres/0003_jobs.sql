-- Periodic background work, claimed by one node at a time
-- (src/store/postgres/jobs.rs): when it is next due, who last ran it.
CREATE TABLE jobs (
    name TEXT COLLATE "C" PRIMARY KEY,
    next_run_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_at BIGINT
);
