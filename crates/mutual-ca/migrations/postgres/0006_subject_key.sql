-- The inventory's subject search and subject order, as in migrations/sqlite/0006: the
-- subject's common name in lower case, computed by the store. COLLATE "C" compares bytes, as
-- SQLite does, so the prefix range `key >= term AND key < bound` selects exactly the names
-- that start with the term and both backends sort names alike (a linguistic collation
-- would order "a-b" and "ab" by other rules, and its ranges would not be prefixes).
-- Rows recorded before this migration are filled in by the store when it opens.
ALTER TABLE certificates ADD COLUMN subject_key TEXT COLLATE "C";
CREATE INDEX certificates_subject_key ON certificates (subject_key, id);
