-- One-time enrollment tokens (`mutual token create`, `POST /api/v1/tokens`): each lets its
-- holder enroll once (`POST /api/v1/enroll`) for one subject under one profile, until it
-- expires. The token is `mtk_<id>_<secret>`; only the SHA-256 of the secret is kept, so
-- the table cannot be used to enroll. A token is spent by one guarded UPDATE (used_at IS
-- NULL, not expired, secret hash matches), so of many redemptions at once exactly one wins.
CREATE TABLE enrollment_tokens (
    id            TEXT    NOT NULL PRIMARY KEY, -- public: it names the token in the audit trail (`token:<id>`)
    secret_sha256 TEXT    NOT NULL,             -- lower-case hex of SHA-256 of the secret as written in the token
    profile       TEXT    NOT NULL,
    subject       TEXT    NOT NULL,             -- the common name the certificate must have
    created_at    BIGINT  NOT NULL,             -- Unix seconds, UTC
    expires_at    BIGINT  NOT NULL,
    created_by    TEXT    NOT NULL,             -- `admin:<sha256>` or `local:<user>`
    used_at       BIGINT,                      -- set by the redemption that won
    used_serial   TEXT,                         -- the certificate it was spent on, once recorded
    CHECK (expires_at > created_at),
    CHECK (used_serial IS NULL OR used_at IS NOT NULL)
);

CREATE INDEX enrollment_tokens_expires_at ON enrollment_tokens (expires_at);
