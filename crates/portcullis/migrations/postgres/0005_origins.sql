-- The origins allowed to call an environment's SDK API from a browser
-- (docs/origins.md), in normal form: lower case, no default port.
CREATE TABLE origins (
    id             TEXT COLLATE "C" PRIMARY KEY,
    environment_id TEXT COLLATE "C" NOT NULL REFERENCES environments(id),
    origin         TEXT COLLATE "C" NOT NULL,
    created_at     BIGINT NOT NULL,
    -- The order of insertion (SQLite's rowid).
    seq            BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (environment_id, origin)
);
