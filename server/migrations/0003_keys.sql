-- The keyring, from the first `tokenlife keys rotate` on: one row holding the kept keys
-- as JSON text (kid, alg, created, state signing|verifying, the key's bytes in hex or
-- the name of a `signing_keys` row it refers to), and a generation that grows with each
-- change (the compare-and-swap of two rotating processes). Until then the one key is the
-- `signing_keys` row of the server's --alg, as before; those rows are kept and the
-- keyring refers to them by name (`legacy`).
CREATE TABLE keyring (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    generation  bigint NOT NULL,
    keys        text NOT NULL
);

-- The kid of the key that signed each token (from its header): NULL for tokens signed
-- before headers carried one, and for imported ones.
ALTER TABLE tokens ADD COLUMN kid text;
CREATE INDEX tokens_kid ON tokens (kid);
