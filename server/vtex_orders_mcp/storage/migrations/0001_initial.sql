-- The shared store (PostgreSQL): the audit log, spent approval ids, approvals waiting for a human.
-- Applied once, at start-up, under an advisory lock (storage/postgres.py); never edited once
-- released: a change is a new numbered file.

-- Append-only: a serving role gets INSERT and SELECT on it, nothing else (docs/deploy.md).
CREATE TABLE audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account text,
    time timestamptz NOT NULL,
    call_id text NOT NULL,
    tool text NOT NULL,
    event text NOT NULL,
    channel text,
    principal text,
    arguments jsonb,
    summary text,
    upstream_status integer,
    receipt text,
    detail text
);
CREATE INDEX audit_call ON audit (call_id);
CREATE INDEX audit_account ON audit (account, id);
CREATE INDEX audit_time ON audit (time);

-- Single use: a claim is one INSERT ... ON CONFLICT DO NOTHING on the primary key.
CREATE TABLE spent (
    key text PRIMARY KEY,
    expires_at double precision NOT NULL
);
CREATE INDEX spent_expiry ON spent (expires_at);

-- A decision is one UPDATE ... WHERE status = 'pending' AND expires_at > now.
CREATE TABLE approvals (
    id text PRIMARY KEY,
    account text NOT NULL,
    tool text NOT NULL,
    arguments jsonb NOT NULL,
    digest text NOT NULL,
    summary text NOT NULL,
    state text,
    principal text NOT NULL,
    channel text NOT NULL,
    created_at double precision NOT NULL,
    expires_at double precision NOT NULL,
    status text NOT NULL,
    decided_by text,
    decided_at double precision,
    outcome jsonb,
    reported boolean NOT NULL DEFAULT false
);
CREATE INDEX approvals_call ON approvals (account, principal, tool, digest);
