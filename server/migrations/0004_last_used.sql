-- When a token was last accepted (Unix seconds) and from which client address, recorded
-- coarsely by the servers (at most once a minute per token, in batches). NULL until used.
ALTER TABLE tokens ADD COLUMN last_used bigint;
ALTER TABLE tokens ADD COLUMN last_used_from text;
