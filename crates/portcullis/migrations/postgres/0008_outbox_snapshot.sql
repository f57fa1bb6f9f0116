-- Who is mailed about an event is decided when the change is made (a later
-- settings change cannot silence it): `notify` holds those recipients.
ALTER TABLE events ADD COLUMN notify TEXT;
-- The fan-out of an environment-wide revocation walks one epoch's sessions
-- by id.
CREATE INDEX sessions_by_environment_epoch ON sessions (environment_id, env_epoch, id);
