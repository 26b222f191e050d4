-- Specter's signing key, kept by `tokenlife import-specter` to verify the tokens Specter
-- issued (never to sign). One row at most.
CREATE TABLE specter_key (
    one    boolean PRIMARY KEY DEFAULT true CHECK (one),
    value  bytea NOT NULL CHECK (length(value) > 0)
);

-- Where a token record came from: NULL for tokenlife's own, 'specter' for one imported.
ALTER TABLE tokens ADD COLUMN origin text;
