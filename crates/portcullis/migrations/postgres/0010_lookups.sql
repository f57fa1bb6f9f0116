-- Lookups that read a whole environment without these (docs/architecture.md,
-- "Queries"): the user list pages by id, and the once-a-minute prune of
-- expired session counts finds them by minute.
CREATE INDEX users_by_environment ON users (environment_id, id);
CREATE INDEX session_counts_by_minute ON session_counts (expires_minute);
