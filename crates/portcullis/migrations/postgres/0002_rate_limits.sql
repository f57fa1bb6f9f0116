-- Rate-limit counters shared by every node: one GCRA "theoretical arrival
-- time" (Unix ms) per bucket and key (see src/domain/rate_limit.rs).
CREATE TABLE rate_limits (
    key TEXT COLLATE "C" PRIMARY KEY,
    tat BIGINT NOT NULL
);
