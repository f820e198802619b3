-- The certificate inventory: one row per certificate the CA issued, with the fields people
-- filter on as columns. Times are Unix seconds (UTC) so ordering is integer comparison and
-- the same queries run on PostgreSQL (BIGINT). STRICT makes SQLite refuse a value of the
-- wrong type instead of storing it anyway.
CREATE TABLE certificates (
    id                 INTEGER PRIMARY KEY,      -- BIGINT GENERATED ALWAYS AS IDENTITY in PostgreSQL
    serial             TEXT    NOT NULL,         -- upper-case hex, even length, no colons
    issuer_key_id      TEXT    NOT NULL,         -- upper-case hex of the issuer's subject key identifier
    issuer             TEXT    NOT NULL,         -- RFC 4514
    subject            TEXT    NOT NULL,         -- RFC 4514
    sans               TEXT    NOT NULL,         -- JSON array of display forms, as issued
    not_before         INTEGER NOT NULL,
    not_after          INTEGER NOT NULL,
    profile            TEXT    NOT NULL,
    requester          TEXT,
    fingerprint_sha256 TEXT    NOT NULL,         -- upper-case colon hex
    pem                TEXT    NOT NULL,
    status             TEXT    NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    revoked_at         INTEGER,
    revocation_reason  INTEGER CHECK (revocation_reason BETWEEN 0 AND 10),  -- RFC 5280 CRLReason
    created_at         INTEGER NOT NULL,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL))
) STRICT;

-- A serial is unique per issuing key (RFC 5280 4.1.2.2); the issuer retries on a collision.
CREATE UNIQUE INDEX certificates_issuer_serial ON certificates (issuer_key_id, serial);
CREATE UNIQUE INDEX certificates_fingerprint ON certificates (fingerprint_sha256);
-- `show SERIAL` looks a serial up without its issuer.
CREATE INDEX certificates_serial ON certificates (serial);
-- Listing is ordered by (not_after, id) for keyset pagination; each filter keeps that order.
CREATE INDEX certificates_not_after ON certificates (not_after, id);
CREATE INDEX certificates_profile ON certificates (profile, not_after, id);
CREATE INDEX certificates_status ON certificates (status, not_after, id);

-- The SANs again, one row each and normalised (DNS lower-case, IP canonical), so "which
-- certificates name host X" is an index lookup rather than a scan of the JSON column.
CREATE TABLE certificate_sans (
    certificate_id INTEGER NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    kind           TEXT    NOT NULL,             -- DNS, IP, email, URI, or another kind as given
    value          TEXT    NOT NULL,
    PRIMARY KEY (certificate_id, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX certificate_sans_value ON certificate_sans (value);
