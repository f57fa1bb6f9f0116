-- Events: the audit log and the outbox (docs/events.md). An event is written
-- in the transaction of the change it records; the dispatcher later turns it
-- into webhook deliveries (dispatched_at), and an event with a fan-out
-- (an environment- or user-wide revocation) first into one event per
-- session it revoked.
CREATE TABLE events (
    id               TEXT COLLATE "C" PRIMARY KEY,
    organization_id  TEXT COLLATE "C" NOT NULL,
    environment_id   TEXT COLLATE "C",
    type             TEXT COLLATE "C" NOT NULL,
    actor_kind       TEXT COLLATE "C" NOT NULL,
    actor_id         TEXT COLLATE "C",
    ip_address       TEXT,
    subject_id       TEXT COLLATE "C",
    data             TEXT,
    fanout           TEXT COLLATE "C",
    fanout_cursor    TEXT COLLATE "C",
    created_at       BIGINT NOT NULL,
    dispatch_lease   BIGINT,
    dispatched_at    BIGINT,
    -- The recipients to mail, decided when the change was made.
    notify           TEXT,
    -- The order of insertion: the audit log's order and cursor.
    seq              BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX events_by_environment ON events (environment_id, seq);
-- The fan-out of an environment-wide revocation walks one epoch's sessions
-- by id.
CREATE INDEX sessions_by_environment_epoch ON sessions (environment_id, env_epoch, id);
CREATE INDEX events_undispatched ON events (created_at) WHERE dispatched_at IS NULL;

CREATE TABLE webhooks (
    id                         TEXT COLLATE "C" PRIMARY KEY,
    environment_id             TEXT COLLATE "C" NOT NULL REFERENCES environments(id),
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL,
    events                     TEXT NOT NULL,
    enabled                    BOOLEAN NOT NULL,
    secret_sealed              BYTEA NOT NULL,
    previous_secret_sealed     BYTEA,
    previous_secret_until      BIGINT,
    consecutive_failures       BIGINT NOT NULL DEFAULT 0,
    disabled_reason            TEXT,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);
CREATE INDEX webhooks_by_environment ON webhooks (environment_id);

CREATE TABLE webhook_deliveries (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    webhook_id           TEXT COLLATE "C" NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id             TEXT COLLATE "C" NOT NULL REFERENCES events(id),
    environment_id       TEXT COLLATE "C" NOT NULL,
    status               TEXT COLLATE "C" NOT NULL,
    attempts             BIGINT NOT NULL DEFAULT 0,
    next_attempt_at      BIGINT,
    last_response_status BIGINT,
    created_at           BIGINT NOT NULL,
    completed_at         BIGINT
);
CREATE INDEX deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at);
CREATE INDEX deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    id              TEXT COLLATE "C" PRIMARY KEY,
    delivery_id     TEXT COLLATE "C" NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempted_at    BIGINT NOT NULL,
    duration_ms     BIGINT NOT NULL,
    response_status BIGINT,
    response_body   TEXT,
    error           TEXT
);
CREATE INDEX attempts_by_delivery ON webhook_attempts (delivery_id, attempted_at);
