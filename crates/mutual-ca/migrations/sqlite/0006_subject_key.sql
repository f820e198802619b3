-- The inventory's subject search and subject order (the dashboard, `list`): the subject's
-- common name, unescaped and in lower case (the whole subject when it has none), computed
-- by the store when it records a certificate (src/store/identifier.rs, `subject_key`), so
-- SQLite and PostgreSQL fold case the same way. A search is a prefix of it: a range over
-- this index, `key >= term AND key < bound`, compared byte by byte (SQLite's BINARY).
-- Rows recorded before this migration are filled in by the store when it opens.
ALTER TABLE certificates ADD COLUMN subject_key TEXT;
CREATE INDEX certificates_subject_key ON certificates (subject_key, id);
