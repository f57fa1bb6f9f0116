-- Who is mailed about an event is decided when the change is made (a later
-- settings change cannot silence it): `notify` holds those recipients.
ALTER TABLE events ADD COLUMN notify TEXT;
-- The order of insertion, as its own column (PostgreSQL has it as an
-- identity): the audit log's order and cursor, stable under VACUUM (which
-- may renumber rowids). Set by the trigger, under the single writer.
ALTER TABLE events ADD COLUMN seq INTEGER;
UPDATE events SET seq = rowid;
CREATE UNIQUE INDEX events_seq ON events (seq);
CREATE INDEX events_by_environment_seq ON events (environment_id, seq);
CREATE TRIGGER events_number AFTER INSERT ON events WHEN NEW.seq IS NULL
BEGIN
    UPDATE events SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM events)
    WHERE rowid = NEW.rowid;
END;
-- The fan-out of an environment-wide revocation walks one epoch's sessions
-- by id.
CREATE INDEX sessions_by_environment_epoch ON sessions (environment_id, env_epoch, id);
