-- A certificate's page lists its audit history (`Store::audit_of_serial`: serial = ?, newest
-- first). Without an index the query read the whole trail back from its newest entry:
-- 12 ms at 100,000 entries (scripts/bench-dashboard), growing with every issuance. With
-- (serial, id) it is an index range read backwards, whatever the trail's length. Serials
-- are random, so each entry touches a random page of this index: see the README for its
-- cost to issuance.
CREATE INDEX audit_serial ON audit (serial, id);
