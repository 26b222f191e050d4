-- The audit trail (issue 16): security events, appended in batches by the servers and the
-- commands, read newest first, and deleted only by the retention (`--audit-retention`).
-- Never a token, a password or a key: time, kind, actor, target and client address.
CREATE TABLE audit_log (
    id text PRIMARY KEY,
    time bigint NOT NULL,
    kind text NOT NULL,
    actor text NOT NULL,
    target text NOT NULL,
    addr text
);
CREATE INDEX audit_log_time ON audit_log (time DESC, id DESC);
