-- The inventory, as in migrations/sqlite/0001: one row per issued certificate. Times are
-- Unix seconds (BIGINT), as in SQLite, so both backends share their queries.
CREATE TABLE certificates (
    id                 BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial             TEXT    NOT NULL,         -- upper-case hex, even length, no colons
    issuer_key_id      TEXT    NOT NULL,         -- upper-case hex of the issuer's subject key identifier
    issuer             TEXT    NOT NULL,         -- RFC 4514
    subject            TEXT    NOT NULL,         -- RFC 4514
    sans               TEXT    NOT NULL,         -- JSON array of display forms, as issued
    not_before         BIGINT  NOT NULL,
    not_after          BIGINT  NOT NULL,
    profile            TEXT    NOT NULL,
    requester          TEXT,
    fingerprint_sha256 TEXT    NOT NULL,         -- upper-case colon hex
    pem                TEXT    NOT NULL,
    status             TEXT    NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    revoked_at         BIGINT,
    revocation_reason  BIGINT  CHECK (revocation_reason BETWEEN 0 AND 10),  -- RFC 5280 CRLReason
    created_at         BIGINT  NOT NULL,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL))
);

CREATE UNIQUE INDEX certificates_issuer_serial ON certificates (issuer_key_id, serial);
CREATE UNIQUE INDEX certificates_fingerprint ON certificates (fingerprint_sha256);
CREATE INDEX certificates_serial ON certificates (serial);
CREATE INDEX certificates_not_after ON certificates (not_after, id);
CREATE INDEX certificates_profile ON certificates (profile, not_after, id);
CREATE INDEX certificates_status ON certificates (status, not_after, id);

CREATE TABLE certificate_sans (
    certificate_id BIGINT  NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    position       BIGINT  NOT NULL,
    kind           TEXT    NOT NULL,             -- DNS, IP, email, URI, or another kind as given
    value          TEXT    NOT NULL,
    PRIMARY KEY (certificate_id, position)
);

CREATE INDEX certificate_sans_value ON certificate_sans (value);
