-- A certificate's audit history found by the certificate's row id instead of its serial.
-- 0007's index over (serial, id) put each issuance's entry on a random page of the index,
-- serials being random: once the trail is large, a page read per certificate, and a page
-- written of its own even when several certificates share a commit. Row ids only grow, so
-- an issuance's entry goes to the index's last page instead (see the README for what that
-- saves).
--
-- `certificate_id` is the certificate the entry is about: the one recorded with it for an
-- issuance, the certificate with the entry's serial otherwise (the lowest id when two
-- issuers used the serial: a certificate's page lists the entries of every certificate
-- with its serial, as it did by serial). Entries about no certificate (tokens) have none.
ALTER TABLE audit ADD COLUMN certificate_id BIGINT;

UPDATE audit
SET certificate_id = (SELECT MIN(c.id) FROM certificates c WHERE c.serial = audit.serial)
WHERE serial IS NOT NULL;

DROP INDEX audit_serial;
CREATE INDEX audit_certificate ON audit (certificate_id, id) WHERE certificate_id IS NOT NULL;
