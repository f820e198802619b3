-- Fewer, smaller index entries per issuance: recording a certificate writes every index page
-- it touches to the WAL (a 4 KiB frame in SQLite, an 8 KiB page image after a checkpoint in PostgreSQL), and an index over random values (serials,
-- fingerprints) touches a different page for each certificate. Before this migration one
-- certificate recorded on its own wrote about 13 frames, 9 after it; the lookups keep an
-- index each (see src/store/rows.rs and each backend's FIND_BY_FINGERPRINT).

-- One unique index, serial first, serves both `show SERIAL` (its prefix) and the
-- (issuer key id, serial) lookup and uniqueness: two indexes over the same random serial
-- were two random pages per certificate.
DROP INDEX certificates_serial;
DROP INDEX certificates_issuer_serial;
CREATE UNIQUE INDEX certificates_serial_issuer ON certificates (serial, issuer_key_id);

-- The fingerprint indexed as its 32 bytes rather than 95 characters of colon hex: three
-- times as many entries per page. The column keeps the colon hex it is shown in; lookups
-- use this very expression, which the planner matches to the index. The index name still says
-- "fingerprint": a unique violation on it is told from a duplicate serial by that name.
DROP INDEX certificates_fingerprint;
CREATE UNIQUE INDEX certificates_fingerprint
    ON certificates (decode(replace(fingerprint_sha256, ':', ''), 'hex'));

-- Revoked certificates are few, and a certificate is issued valid: partial indexes over the
-- revoked rows only cost nothing at issuance. Listing valid or expired certificates walks
-- `certificates_not_after` (nearly every row is valid); listing revoked ones and building a
-- CRL (revoked, unexpired, of one issuing key) use these.
DROP INDEX certificates_status;
CREATE INDEX certificates_revoked_not_after ON certificates (not_after, id)
    WHERE status = 'revoked';
DROP INDEX certificates_revoked;
CREATE INDEX certificates_revoked_issuer ON certificates (issuer_key_id, not_after)
    WHERE status = 'revoked';
