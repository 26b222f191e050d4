-- tokenlife schema, version 1: users, token records, revoked ids, signing keys and
-- failed sign-ins. Times are Unix seconds (bigint), throttle times Unix milliseconds.

CREATE TABLE users (
    username  text PRIMARY KEY,
    -- Specter's per-user id ("admin" for admin, random hex otherwise).
    id        text NOT NULL,
    -- The password record as users.json holds it: a JSON string (PHC, Argon2id) or
    -- Specter's {"salt", "pwdhash"} object, serialised by the server.
    password  text NOT NULL,
    is_admin  boolean NOT NULL DEFAULT false
);

CREATE TABLE tokens (
    id           text PRIMARY KEY,
    username     text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    description  text NOT NULL,
    life         bigint NOT NULL,
    iat          bigint NOT NULL,
    exp          bigint NOT NULL,
    -- SHA-256 of the token, hex: never the token itself.
    fingerprint  text NOT NULL,
    endpoints    text[],
    -- A user's descriptions are unique: two replicas can never both create one.
    CONSTRAINT tokens_username_description_key UNIQUE (username, description)
);

-- Tokens deleted before their expiry, until they expire.
CREATE TABLE revoked (
    id   text PRIMARY KEY,
    exp  bigint NOT NULL
);
CREATE INDEX revoked_exp ON revoked (exp);

-- The signing keys ("hs256", "ed25519"): 32 random bytes each, made once by the first
-- server that needs them and shared by all.
CREATE TABLE signing_keys (
    name   text PRIMARY KEY,
    value  bytea NOT NULL CHECK (length(value) = 32)
);

-- Failed sign-ins per username, counted across every server on the database.
CREATE TABLE sign_in_failures (
    username         text PRIMARY KEY,
    failures         integer NOT NULL,
    last_ms          bigint NOT NULL,
    locked_until_ms  bigint
);
