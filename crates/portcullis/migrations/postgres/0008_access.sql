-- Organization members and their roles (exactly one owner), API token
-- rotation (the previous secret keeps working until previous_expires_at).
CREATE TABLE members (
    id              TEXT COLLATE "C" PRIMARY KEY,
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    email           TEXT COLLATE "C" NOT NULL,
    name            TEXT,
    role            TEXT COLLATE "C" NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (organization_id, email)
);
CREATE UNIQUE INDEX members_one_owner ON members (organization_id) WHERE role = 'owner';

-- Organizations made before members existed get their owner now; the
-- operator sets the address (`portcullis members update`).
INSERT INTO members (id, organization_id, email, name, role, created_at, updated_at)
SELECT 'mem_' || md5(random()::text || id), id, 'owner@portcullis.invalid', NULL, 'owner',
       created_at, created_at
FROM organizations;

ALTER TABLE api_tokens ADD COLUMN previous_hash BYTEA;
ALTER TABLE api_tokens ADD COLUMN previous_expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN rotated_at BIGINT;
CREATE UNIQUE INDEX api_tokens_by_previous_hash ON api_tokens (previous_hash);
CREATE INDEX api_tokens_by_organization ON api_tokens (organization_id, created_at);
