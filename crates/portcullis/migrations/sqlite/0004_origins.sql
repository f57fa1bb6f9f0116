-- The origins allowed to call an environment's SDK API from a browser
-- (docs/origins.md), in normal form: lower case, no default port.
CREATE TABLE origins (
    id             TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments(id),
    origin         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (environment_id, origin)
);
