-- The details of each revocation beyond its status, time and reason (kept on
-- `certificates`): who revoked it, and since when the certificate is known or suspected to
-- be invalid — the CRL entry's invalidityDate (RFC 5280 §5.3.2), which may precede the
-- revocation itself.
CREATE TABLE revocations (
    certificate_id  BIGINT  PRIMARY KEY REFERENCES certificates (id) ON DELETE CASCADE,
    revoked_by      TEXT,
    invalidity_date BIGINT
);

-- A CRL lists the revoked, unexpired certificates of one issuing key.
CREATE INDEX certificates_revoked ON certificates (issuer_key_id, status, not_after);

-- The last CRL number used per issuing key: CRL numbers only ever grow (RFC 5280 §5.2.3).
CREATE TABLE crl_numbers (
    issuer_key_id TEXT    PRIMARY KEY,
    last_number   BIGINT  NOT NULL CHECK (last_number > 0)
);
