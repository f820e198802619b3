-- The audit trail of the CA: every issuance, revocation, enrollment and renewal, with who
-- asked (an admin certificate's fingerprint, an enrollment token's id, a certificate
-- renewing itself, or a local user), what was done and to which certificate. Rows are
-- only ever appended.
CREATE TABLE audit (
    id      BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT  NOT NULL,                   -- Unix seconds, UTC
    actor   TEXT    NOT NULL,                   -- `admin:<sha256>`, `token:<id>`, `cert:<sha256>`, `local:<user>`
    action  TEXT    NOT NULL CHECK (action IN ('issue', 'sign', 'revoke', 'enroll', 'renew', 'token')),
    serial  TEXT,                               -- the certificate acted on, when there is one
    subject TEXT,
    detail  TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX audit_at ON audit (at, id);
