//! The queries both databases run as written: one body, expanded once per backend by
//! [`shared_queries!`], since the SQL is the same and only sqlx's types differ. Each backend
//! keeps what it does its own way: opening, migrating, recording (SQLite's group commit),
//! and `FIND_BY_FINGERPRINT`, an associated const spelling its index's expression.

/// `impl $store { find, list, revoke, ... }` over `$store.pool`, a pool of database `$db`.
macro_rules! shared_queries {
    ($store:ty, $db:ty) => {
        // A block of its own for the imports; the impl applies all the same.
        const _: () = {
        use sqlx::QueryBuilder;
        use time::{Duration, OffsetDateTime};

        use $crate::store::audit::{AuditEntry, AuditQuery, NewAuditEntry};
        use $crate::store::census::Census;
        use $crate::store::identifier::{self, SanMatch};
        use $crate::store::model::{
            CertificateRecord, Cursor, CursorKey, ExpiryCount, Lookup, Order, Page, Query,
            Revocation, RevokedSerial, Status, StatusFilter,
        };
        use $crate::store::rows::{self,
            EXPIRING, FIND_BY_ISSUER_SERIAL, FIND_BY_SERIAL, REDEEM_ATTEMPTS, REVOKED_SERIALS,
            RawRecord, RawToken, RevokedRow, already_revoked, columns, database, decode_revoked,
            token_columns,
        };
        use $crate::store::tokens::{EnrollmentToken, NewToken, TokenError, TokenRecord, judge};
        use $crate::store::backup::{
            AuditRow, CertificateRow, CrlNumberRow, RevocationRow, SanRow, Snapshot, TokenRow,
        };
        use $crate::store::StoreError;


        impl $store {
        pub(in crate::store) async fn find(
            &self,
            lookup: &Lookup,
        ) -> Result<Option<CertificateRecord>, StoreError> {
            let operation = "looking a certificate up";
            let raw = match lookup.normalised()? {
                Lookup::Serial(serial) => {
                    let rows: Vec<RawRecord> = sqlx::query_as(FIND_BY_SERIAL)
                        .bind(&serial)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(database(operation))?;
                    if rows.len() > 1 {
                        return Err(StoreError::AmbiguousSerial {
                            serial,
                            issuer_key_ids: rows.into_iter().map(|row| row.issuer_key_id).collect(),
                        });
                    }
                    rows.into_iter().next()
                }
                Lookup::Fingerprint(fingerprint) => sqlx::query_as(Self::FIND_BY_FINGERPRINT)
                    .bind(&fingerprint)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(database(operation))?,
                Lookup::IssuerSerial {
                    issuer_key_id,
                    serial,
                } => sqlx::query_as(FIND_BY_ISSUER_SERIAL)
                    .bind(&issuer_key_id)
                    .bind(&serial)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(database(operation))?,
            };
            raw.map(RawRecord::decode).transpose()
        }

        pub(in crate::store) async fn list(&self, query: &Query) -> Result<Page, StoreError> {
            if let Some(cursor) = &query.after
                && cursor.order != query.order
            {
                return Err(StoreError::CursorOrderMismatch {
                    cursor: cursor.order,
                    query: query.order,
                });
            }
            let limit = query.effective_limit();
            let rows: Vec<RawRecord> = Self::list_statement(query, limit)
                .build_query_as()
                .fetch_all(&self.pool)
                .await
                .map_err(database("listing certificates"))?;

            let more = rows.len() > limit as usize;
            let records = rows
                .into_iter()
                .take(limit as usize)
                .map(RawRecord::decode)
                .collect::<Result<Vec<_>, _>>()?;
            let next = if more {
                records.last().map(|last| {
                    Cursor::after(query.order, last, identifier::subject_key(&last.subject))
                })
            } else {
                None
            };
            Ok(Page { records, next })
        }

        pub(in crate::store) async fn revoke(
            &self,
            lookup: &Lookup,
            revocation: &Revocation,
        ) -> Result<CertificateRecord, StoreError> {
            let lookup = lookup.normalised()?;
            let current = self
                .find(&lookup)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    lookup: lookup.to_string(),
                })?;
            if current.status == Status::Revoked {
                return Err(already_revoked(current));
            }
            let mut tx = self
                .pool
                .begin()
                .await
                .map_err(database("starting to revoke a certificate"))?;
            // One statement, guarded on the status, so two revocations racing cannot both win.
            let updated: Option<RawRecord> = sqlx::query_as(concat!(
                "UPDATE certificates SET status = 'revoked', revoked_at = $1, revocation_reason = $2 \
                 WHERE id = $3 AND status = 'valid' RETURNING ",
                columns!()
            ))
            .bind(revocation.at.unix_timestamp())
            .bind(i64::from(revocation.reason.code()))
            .bind(current.id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(database("revoking a certificate"))?;
            let Some(raw) = updated else {
                drop(tx);
                // Another revocation got there between the lookup and the update.
                return match self.find_by_id(current.id).await? {
                    Some(record) => Err(already_revoked(record)),
                    None => Err(StoreError::NotFound {
                        lookup: lookup.to_string(),
                    }),
                };
            };
            sqlx::query(
                "INSERT INTO revocations (certificate_id, revoked_by, invalidity_date) \
                 VALUES ($1, $2, $3)",
            )
            .bind(current.id)
            .bind(revocation.by.as_deref())
            .bind(revocation.invalid_since.map(OffsetDateTime::unix_timestamp))
            .execute(&mut *tx)
            .await
            .map_err(database("recording who revoked a certificate"))?;
            tx.commit()
                .await
                .map_err(database("committing a revocation"))?;
            raw.decode()
        }

        pub(in crate::store) async fn revoked_serials(
            &self,
            issuer_key_id: &str,
            at: OffsetDateTime,
        ) -> Result<Vec<RevokedSerial>, StoreError> {
            let issuer_key_id = identifier::key_id(issuer_key_id)?;
            let rows: Vec<RevokedRow> = sqlx::query_as(REVOKED_SERIALS)
                .bind(&issuer_key_id)
                .bind(at.unix_timestamp())
                .fetch_all(&self.pool)
                .await
                .map_err(database("listing revoked certificates"))?;
            rows.into_iter().map(decode_revoked).collect()
        }

        pub(in crate::store) async fn next_crl_number(&self, issuer_key_id: &str) -> Result<u64, StoreError> {
            let issuer_key_id = identifier::key_id(issuer_key_id)?;
            // One statement: two CRLs made at once still get different numbers.
            let number: i64 = sqlx::query_scalar(
                "INSERT INTO crl_numbers (issuer_key_id, last_number) VALUES ($1, 1) \
                 ON CONFLICT (issuer_key_id) DO UPDATE SET last_number = crl_numbers.last_number + 1 \
                 RETURNING last_number",
            )
            .bind(&issuer_key_id)
            .fetch_one(&self.pool)
            .await
            .map_err(database("taking the next CRL number"))?;
            u64::try_from(number).map_err(|_| StoreError::CorruptRow {
                id: 0,
                column: "crl_numbers.last_number",
                found: number.to_string(),
            })
        }

        pub(in crate::store) async fn find_by_id(&self, id: i64) -> Result<Option<CertificateRecord>, StoreError> {
            let raw: Option<RawRecord> = sqlx::query_as(concat!(
                "SELECT ",
                columns!(),
                " FROM certificates WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(database("looking a certificate up"))?;
            raw.map(RawRecord::decode).transpose()
        }

        /// How many certificates `query` selects, all pages together (its cursor, order
        /// and limit aside).
        pub(in crate::store) async fn count(&self, query: &Query) -> Result<u64, StoreError> {
            let mut select = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM certificates WHERE 1 = 1");
            Self::push_filters(&mut select, query);
            let count: i64 = select
                .build_query_scalar()
                .fetch_one(&self.pool)
                .await
                .map_err(database("counting certificates"))?;
            Ok(u64::try_from(count).unwrap_or(0))
        }

        /// Valid certificates of each of `profiles` expiring in each of `buckets` periods
        /// of `width` from `now`, counted by the database in one statement: a count of an
        /// index range of `certificates_profile` (profile, not_after) per profile and
        /// period, so no row is read, less the revoked ones (few, from the partial index
        /// over revoked rows). Grouping by a computed period instead sorted every row in
        /// range: 80 ms for 100,000 certificates in range against 3 ms this way (SQLite).
        pub(in crate::store) async fn expiry_counts(
            &self,
            now: OffsetDateTime,
            width: Duration,
            buckets: u32,
            profiles: &[&str],
        ) -> Result<Vec<ExpiryCount>, StoreError> {
            let operation = "counting certificates by expiry";
            let width_s = width.whole_seconds().max(1);
            let start = now.unix_timestamp();
            let edge = |bucket: u32| start.saturating_add(width_s.saturating_mul(i64::from(bucket)));
            let mut counts: Vec<ExpiryCount> = Vec::new();
            if profiles.is_empty() || buckets == 0 {
                return Ok(counts);
            }
            let mut select = QueryBuilder::<$db>::new("");
            let mut first = true;
            for (index, profile) in profiles.iter().enumerate() {
                for bucket in 0..buckets {
                    if !first {
                        select.push(" UNION ALL ");
                    }
                    first = false;
                    select
                        .push("SELECT CAST(")
                        .push_bind(index as i64)
                        .push(" AS BIGINT), CAST(")
                        .push_bind(i64::from(bucket))
                        .push(" AS BIGINT), COUNT(*) FROM certificates WHERE profile = ")
                        .push_bind((*profile).to_owned())
                        .push(" AND not_after >= ")
                        .push_bind(edge(bucket))
                        .push(" AND not_after < ")
                        .push_bind(edge(bucket + 1));
                }
            }
            let rows: Vec<(i64, i64, i64)> = select
                .build_query_as()
                .fetch_all(&self.pool)
                .await
                .map_err(database(operation))?;
            for (index, bucket, count) in rows {
                let (Some(profile), Ok(bucket), Ok(count)) = (
                    usize::try_from(index).ok().and_then(|i| profiles.get(i)),
                    u32::try_from(bucket),
                    u64::try_from(count),
                ) else {
                    continue;
                };
                counts.push(ExpiryCount {
                    bucket,
                    profile: (*profile).to_owned(),
                    count,
                });
            }
            let revoked: Vec<(String, i64, i64)> = sqlx::query_as(rows::REVOKED_EXPIRY_COUNTS)
                .bind(start)
                .bind(width_s)
                .bind(edge(buckets))
                .fetch_all(&self.pool)
                .await
                .map_err(database(operation))?;
            for (profile, bucket, count) in revoked {
                if let Some(found) = counts.iter_mut().find(|c| {
                    i64::from(c.bucket) == bucket && c.profile == profile
                }) {
                    found.count = found.count.saturating_sub(u64::try_from(count).unwrap_or(0));
                }
            }
            counts.retain(|c| c.count > 0);
            counts.sort_by(|a, b| (a.bucket, &a.profile).cmp(&(b.bucket, &b.profile)));
            Ok(counts)
        }

        /// Valid certificates with `not_after` in [now, now + within], as `list` with
        /// `expiring_within` selects them, counted from indexes alone (see [`EXPIRING`]).
        pub(in crate::store) async fn expiring_count(
            &self,
            now: OffsetDateTime,
            within: Duration,
        ) -> Result<u64, StoreError> {
            let start = now.unix_timestamp();
            let count: i64 = sqlx::query_scalar(EXPIRING)
                .bind(start)
                .bind(start.saturating_add(within.whole_seconds()))
                .fetch_one(&self.pool)
                .await
                .map_err(database("counting expiring certificates"))?;
            Ok(u64::try_from(count).unwrap_or(0))
        }

        /// Computes `subject_key` for the rows recorded before migration 0006 (or restored
        /// from a backup, which does not carry it), a thousand per transaction. Returns how
        /// many it filled; on an up-to-date store it is one index lookup.
        pub(in crate::store) async fn fill_subject_keys(&self) -> Result<u64, StoreError> {
            let mut connection = self
                .pool
                .acquire()
                .await
                .map_err(database("computing the subject search keys"))?;
            Self::fill_subject_keys_on(&mut connection).await
        }

        /// [`Self::fill_subject_keys`] over one connection: PostgreSQL's opening keeps its
        /// pool unused (see `PgStore::open`).
        pub(in crate::store) async fn fill_subject_keys_on(
            connection: &mut <$db as sqlx::Database>::Connection,
        ) -> Result<u64, StoreError> {
            use sqlx::Connection as _;
            let operation = "computing the subject search keys";
            let mut filled = 0;
            loop {
                let pending: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT id, subject FROM certificates WHERE subject_key IS NULL \
                     ORDER BY id LIMIT 1000",
                )
                .fetch_all(&mut *connection)
                .await
                .map_err(database(operation))?;
                if pending.is_empty() {
                    return Ok(filled);
                }
                let mut tx = connection.begin().await.map_err(database(operation))?;
                for (id, subject) in &pending {
                    sqlx::query("UPDATE certificates SET subject_key = $1 WHERE id = $2")
                        .bind(identifier::subject_key(subject))
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(database(operation))?;
                }
                tx.commit().await.map_err(database(operation))?;
                filled += pending.len() as u64;
            }
        }

        /// The SELECT behind [`SqliteStore::list`]: `limit + 1` rows in the query's order.
        pub(in crate::store) fn list_statement(query: &Query, limit: u32) -> QueryBuilder<'static, $db> {
            let mut select = QueryBuilder::<$db>::new(concat!(
                "SELECT ",
                columns!(),
                " FROM certificates WHERE 1 = 1"
            ));
            Self::push_filters(&mut select, query);
            if let Some(cursor) = &query.after {
                // `list` refused a cursor of another order: the key is this order's.
                match (&cursor.key, query.order) {
                    (CursorKey::Time(not_after), Order::ExpiryLatest) => {
                        select
                            .push(" AND (not_after, id) < (")
                            .push_bind(*not_after)
                            .push(", ")
                            .push_bind(cursor.id)
                            .push(")");
                    }
                    (CursorKey::Time(not_after), _) => {
                        select
                            .push(" AND (not_after, id) > (")
                            .push_bind(*not_after)
                            .push(", ")
                            .push_bind(cursor.id)
                            .push(")");
                    }
                    (CursorKey::Name(name), _) => {
                        select
                            .push(" AND (subject_key, id) > (")
                            .push_bind(name.clone())
                            .push(", ")
                            .push_bind(cursor.id)
                            .push(")");
                    }
                    (CursorKey::Id, _) => {
                        select.push(" AND id < ").push_bind(cursor.id);
                    }
                }
            }
            // Each order is an index's order (`certificates_not_after`, read backwards for
            // the latest first; the primary key; `certificates_subject_key`), the id last
            // so that ties are cut the same way on every page.
            select.push(match query.order {
                Order::ExpirySoonest => " ORDER BY not_after, id",
                Order::ExpiryLatest => " ORDER BY not_after DESC, id DESC",
                Order::Newest => " ORDER BY id DESC",
                Order::Subject => " ORDER BY subject_key, id",
            });
            // One row more than asked tells whether another page follows, without a count.
            select.push(" LIMIT ").push_bind(i64::from(limit) + 1);
            select
        }

        /// The WHERE terms of `query`'s filters, after a `WHERE 1 = 1`.
        fn push_filters(select: &mut QueryBuilder<'static, $db>, query: &Query) {
            let now = query.now.unix_timestamp();
            if let Some(profile) = &query.profile {
                select.push(" AND profile = ").push_bind(profile.clone());
            }
            match query.status {
                None => {}
                Some(StatusFilter::Valid) => {
                    select
                        .push(" AND status = 'valid' AND not_after >= ")
                        .push_bind(now);
                }
                Some(StatusFilter::Revoked) => {
                    select.push(" AND status = 'revoked'");
                }
                Some(StatusFilter::Expired) => {
                    select
                        .push(" AND status = 'valid' AND not_after < ")
                        .push_bind(now);
                }
            }
            if let Some(within) = query.expiring_within {
                let until = now.saturating_add(within.whole_seconds());
                select
                    .push(" AND status = 'valid' AND not_after >= ")
                    .push_bind(now)
                    .push(" AND not_after <= ")
                    .push_bind(until);
            }
            if let Some(san) = &query.san {
                select.push(" AND ");
                Self::push_san(select, san);
            }
            if let Some(subject) = &query.subject {
                select.push(" AND ");
                Self::push_subject(select, subject);
            }
            if let Some(term) = &query.search {
                select.push(" AND (");
                Self::push_san(select, term);
                select.push(" OR ");
                Self::push_subject(select, term);
                select.push(")");
            }
        }

        /// Certificates naming `san`: an index lookup in `certificate_sans`.
        fn push_san(select: &mut QueryBuilder<'static, $db>, san: &str) {
            select.push("id IN (SELECT certificate_id FROM certificate_sans WHERE ");
            match identifier::san_match(san) {
                SanMatch::Exact(san) => {
                    select
                        .push("value = ")
                        .push_bind(san.value)
                        .push(" AND kind = ")
                        .push_bind(san.kind);
                }
                SanMatch::Value(values) => {
                    select.push("value IN (");
                    let mut separated = select.separated(", ");
                    for value in values {
                        separated.push_bind(value);
                    }
                    select.push(")");
                }
            }
            select.push(")");
        }

        /// Certificates whose subject key starts with `prefix` (case-folded as the key is):
        /// a range of `certificates_subject_key`. An empty prefix matches every key.
        fn push_subject(select: &mut QueryBuilder<'static, $db>, prefix: &str) {
            let prefix = prefix.trim().to_lowercase();
            select.push("(subject_key >= ").push_bind(prefix.clone());
            if let Some(bound) = identifier::prefix_upper_bound(&prefix) {
                select.push(" AND subject_key < ").push_bind(bound);
            }
            select.push(")");
        }

        pub(in crate::store) async fn audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO audit (at, actor, action, serial, subject, detail, certificate_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, \
                   (SELECT MIN(id) FROM certificates WHERE serial = $7))",
            )
            .bind(entry.at.unix_timestamp())
            .bind(&entry.actor)
            .bind(entry.action.as_str())
            .bind(entry.serial.as_deref())
            .bind(entry.subject.as_deref())
            .bind(&entry.detail)
            .bind(entry.serial.as_deref())
            .execute(&self.pool)
            .await
            .map_err(database("writing the audit trail"))?;
            Ok(())
        }

        pub(in crate::store) async fn audit_log(
            &self,
            query: &AuditQuery,
        ) -> Result<Vec<AuditEntry>, StoreError> {
            self.audit_entries(query, None).await
        }

        /// The entries of `query`, only those about the certificate `serial` when given.
        pub(in crate::store) async fn audit_entries(
            &self,
            query: &AuditQuery,
            serial: Option<&str>,
        ) -> Result<Vec<AuditEntry>, StoreError> {
            let mut sql: QueryBuilder<'_, $db> = QueryBuilder::new(
                "SELECT id, at, actor, action, serial, subject, detail FROM audit WHERE 1 = 1",
            );
            if let Some(serial) = serial {
                // By the certificates' ids (migration 0008): the index over them is the
                // one issuance appends to.
                sql.push(" AND certificate_id IN (SELECT id FROM certificates WHERE serial = ")
                    .push_bind(serial.to_owned())
                    .push(")");
            }
            if let Some(action) = query.action {
                sql.push(" AND action = ").push_bind(action.as_str());
            }
            if let Some(since) = query.since {
                sql.push(" AND at >= ").push_bind(since.unix_timestamp());
            }
            if let Some(before) = query.before {
                sql.push(" AND id < ").push_bind(before);
            }
            sql.push(" ORDER BY id DESC LIMIT ")
                .push_bind(i64::from(query.limit.clamp(1, 10_000)));
            let rows: Vec<AuditRow> = sql
                .build_query_as()
                .fetch_all(&self.pool)
                .await
                .map_err(database("reading the audit trail"))?;
            rows.into_iter()
                .map(|AuditRow {
                        id,
                        at,
                        actor,
                        action,
                        serial,
                        subject,
                        detail,
                    }| {
                    Ok(AuditEntry {
                        id,
                        at: OffsetDateTime::from_unix_timestamp(at).map_err(|_| {
                            StoreError::CorruptRow {
                                id,
                                column: "audit.at",
                                found: at.to_string(),
                            }
                        })?,
                        actor,
                        action: action.parse()?,
                        serial,
                        subject,
                        detail,
                    })
                })
                .collect()
        }

        pub(in crate::store) async fn census(&self, now: OffsetDateTime) -> Result<Census, StoreError> {
            let now_s = now.unix_timestamp();
            let rows: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT profile, CASE WHEN status = 'revoked' THEN 'revoked' \
                 WHEN not_after < $1 THEN 'expired' ELSE 'valid' END AS state, COUNT(*) \
                 FROM certificates GROUP BY profile, state ORDER BY profile, state",
            )
            .bind(now_s)
            .fetch_all(&self.pool)
            .await
            .map_err(database("counting certificates"))?;
            let mut census = Census::default();
            for (profile, state, count) in rows {
                let status: StatusFilter = state.parse()?;
                census
                    .by_profile_status
                    .push((profile, status, u64::try_from(count).unwrap_or(0)));
            }
            for (days, slot) in [
                (7, &mut census.expiring_7_days),
                (30, &mut census.expiring_30_days),
            ] {
                let count: i64 = sqlx::query_scalar(EXPIRING)
                    .bind(now_s)
                    .bind((now + Duration::days(days)).unix_timestamp())
                    .fetch_one(&self.pool)
                    .await
                    .map_err(database("counting expiring certificates"))?;
                *slot = u64::try_from(count).unwrap_or(0);
            }
            Ok(census)
        }

        pub(in crate::store) async fn revocations_ever(&self) -> Result<u64, StoreError> {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM revocations")
                .fetch_one(&self.pool)
                .await
                .map_err(database("counting revocations"))?;
            Ok(u64::try_from(count).unwrap_or(0))
        }

        pub(in crate::store) async fn create_token(
            &self,
            new: &NewToken,
        ) -> Result<TokenRecord, StoreError> {
            let raw: RawToken = sqlx::query_as(concat!(
                "INSERT INTO enrollment_tokens (id, secret_sha256, profile, subject, created_at, \
                 expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
                token_columns!()
            ))
            .bind(&new.id)
            .bind(&new.secret_sha256)
            .bind(new.profile.as_str())
            .bind(&new.subject)
            .bind(new.created_at.unix_timestamp())
            .bind(new.expires_at.unix_timestamp())
            .bind(&new.created_by)
            .fetch_one(&self.pool)
            .await
            .map_err(database("recording an enrollment token"))?;
            raw.decode().map(|(record, _)| record)
        }

        pub(in crate::store) async fn find_token(
            &self,
            id: &str,
        ) -> Result<Option<(TokenRecord, String)>, StoreError> {
            let raw: Option<RawToken> = sqlx::query_as(concat!(
                "SELECT ",
                token_columns!(),
                " FROM enrollment_tokens WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(database("looking an enrollment token up"))?;
            raw.map(RawToken::decode).transpose()
        }

        pub(in crate::store) async fn redeem_token(
            &self,
            token: &EnrollmentToken,
            subject: &str,
            now: OffsetDateTime,
        ) -> Result<TokenRecord, TokenError> {
            let secret_sha256 = token.secret_sha256();
            for _ in 0..REDEEM_ATTEMPTS {
                // One statement: SQLite runs writes one at a time, so of racing redemptions the
                // first to run sets used_at and the others no longer match.
                let claimed: Option<RawToken> = sqlx::query_as(concat!(
                    "UPDATE enrollment_tokens SET used_at = $1 \
                     WHERE id = $2 AND secret_sha256 = $3 AND subject = $4 \
                     AND used_at IS NULL AND expires_at > $1 RETURNING ",
                    token_columns!()
                ))
                .bind(now.unix_timestamp())
                .bind(token.id())
                .bind(&secret_sha256)
                .bind(subject)
                .fetch_optional(&self.pool)
                .await
                .map_err(database("redeeming an enrollment token"))?;
                if let Some(raw) = claimed {
                    return Ok(raw.decode()?.0);
                }
                // Nothing matched: read the row to say why.
                judge(
                    self.find_token(token.id()).await?,
                    token,
                    Some(subject),
                    now,
                )?;
            }
            Err(TokenError::Contended {
                id: token.id().to_owned(),
                attempts: REDEEM_ATTEMPTS,
            })
        }

        pub(in crate::store) async fn complete_token(
            &self,
            id: &str,
            serial: &str,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "UPDATE enrollment_tokens SET used_serial = $1 \
                 WHERE id = $2 AND used_at IS NOT NULL AND used_serial IS NULL",
            )
            .bind(serial)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(database("noting the certificate a token was spent on"))?;
            Ok(())
        }

        pub(in crate::store) async fn release_token(
            &self,
            id: &str,
            used_at: OffsetDateTime,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "UPDATE enrollment_tokens SET used_at = NULL \
                 WHERE id = $1 AND used_at = $2 AND used_serial IS NULL",
            )
            .bind(id)
            .bind(used_at.unix_timestamp())
            .execute(&self.pool)
            .await
            .map_err(database("giving an enrollment token back"))?;
            Ok(())
        }

            /// Every row, in one transaction (`Self::SNAPSHOT` makes it a snapshot where
            /// the database needs telling).
            pub(in crate::store) async fn export(&self) -> Result<Snapshot, StoreError> {
                let mut tx = self
                    .pool
                    .begin()
                    .await
                    .map_err(database("starting a backup"))?;
                if let Some(sql) = Self::SNAPSHOT {
                    sqlx::query(sql)
                        .execute(&mut *tx)
                        .await
                        .map_err(database("starting a backup"))?;
                }
                let certificates: Vec<CertificateRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    columns!(),
                    " FROM certificates ORDER BY id"
                ))
                .fetch_all(&mut *tx)
                .await
                .map_err(database("reading the certificates for a backup"))?;
                let sans: Vec<SanRow> = sqlx::query_as(
                    "SELECT certificate_id, position, kind, value FROM certificate_sans \
                     ORDER BY certificate_id, position",
                )
                .fetch_all(&mut *tx)
                .await
                .map_err(database("reading the SANs for a backup"))?;
                let revocations: Vec<RevocationRow> = sqlx::query_as(
                    "SELECT certificate_id, revoked_by, invalidity_date FROM revocations \
                     ORDER BY certificate_id",
                )
                .fetch_all(&mut *tx)
                .await
                .map_err(database("reading the revocations for a backup"))?;
                let crl_numbers: Vec<CrlNumberRow> = sqlx::query_as(
                    "SELECT issuer_key_id, last_number FROM crl_numbers ORDER BY issuer_key_id",
                )
                .fetch_all(&mut *tx)
                .await
                .map_err(database("reading the CRL numbers for a backup"))?;
                let audit: Vec<AuditRow> = sqlx::query_as(
                    "SELECT id, at, actor, action, serial, subject, detail FROM audit ORDER BY id",
                )
                .fetch_all(&mut *tx)
                .await
                .map_err(database("reading the audit trail for a backup"))?;
                let tokens: Vec<TokenRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    token_columns!(),
                    " FROM enrollment_tokens ORDER BY id"
                ))
                .fetch_all(&mut *tx)
                .await
                .map_err(database("reading the enrollment tokens for a backup"))?;
                tx.commit()
                    .await
                    .map_err(database("ending a backup"))?;
                Ok(Snapshot {
                    certificates,
                    sans,
                    revocations,
                    crl_numbers,
                    audit,
                    tokens,
                })
            }

            /// `snapshot` into an empty store, in one transaction, ids kept.
            pub(in crate::store) async fn import(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
                // Rows per INSERT: 16 parameters for a certificate, far below either
                // database's limit per statement.
                const ROWS: usize = 1000;
                let mut tx = self
                    .pool
                    .begin()
                    .await
                    .map_err(database("starting a restore"))?;
                let (certificates, audit, tokens): (i64, i64, i64) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM certificates), (SELECT COUNT(*) FROM audit), \
                     (SELECT COUNT(*) FROM enrollment_tokens)",
                )
                .fetch_one(&mut *tx)
                .await
                .map_err(database("checking the store is empty before a restore"))?;
                if certificates + audit + tokens > 0 {
                    return Err(StoreError::NotEmpty {
                        certificates,
                        audit,
                        tokens,
                    });
                }
                for chunk in snapshot.certificates.chunks(ROWS) {
                    let mut insert = QueryBuilder::<$db>::new(concat!(
                        "INSERT INTO certificates (",
                        columns!(),
                        ") "
                    ));
                    insert.push(Self::OVERRIDING);
                    insert.push_values(chunk, |mut values, row| {
                        values
                            .push_bind(row.id)
                            .push_bind(row.serial.as_str())
                            .push_bind(row.issuer_key_id.as_str())
                            .push_bind(row.issuer.as_str())
                            .push_bind(row.subject.as_str())
                            .push_bind(row.sans.as_str())
                            .push_bind(row.not_before)
                            .push_bind(row.not_after)
                            .push_bind(row.profile.as_str())
                            .push_bind(row.requester.as_deref())
                            .push_bind(row.fingerprint_sha256.as_str())
                            .push_bind(row.pem.as_str())
                            .push_bind(row.status.as_str())
                            .push_bind(row.revoked_at)
                            .push_bind(row.revocation_reason)
                            .push_bind(row.created_at);
                    });
                    insert
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(database("restoring certificates"))?;
                }
                for chunk in snapshot.sans.chunks(ROWS) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO certificate_sans (certificate_id, position, kind, value) ",
                    );
                    insert.push_values(chunk, |mut values, row| {
                        values
                            .push_bind(row.certificate_id)
                            .push_bind(row.position)
                            .push_bind(row.kind.as_str())
                            .push_bind(row.value.as_str());
                    });
                    insert
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(database("restoring SANs"))?;
                }
                for chunk in snapshot.revocations.chunks(ROWS) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO revocations (certificate_id, revoked_by, invalidity_date) ",
                    );
                    insert.push_values(chunk, |mut values, row| {
                        values
                            .push_bind(row.certificate_id)
                            .push_bind(row.revoked_by.as_deref())
                            .push_bind(row.invalidity_date);
                    });
                    insert
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(database("restoring revocations"))?;
                }
                for chunk in snapshot.crl_numbers.chunks(ROWS) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO crl_numbers (issuer_key_id, last_number) ",
                    );
                    insert.push_values(chunk, |mut values, row| {
                        values
                            .push_bind(row.issuer_key_id.as_str())
                            .push_bind(row.last_number);
                    });
                    insert
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(database("restoring CRL numbers"))?;
                }
                for chunk in snapshot.audit.chunks(ROWS) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO audit (id, at, actor, action, serial, subject, detail) ",
                    );
                    insert.push(Self::OVERRIDING);
                    insert.push_values(chunk, |mut values, row| {
                        values
                            .push_bind(row.id)
                            .push_bind(row.at)
                            .push_bind(row.actor.as_str())
                            .push_bind(row.action.as_str())
                            .push_bind(row.serial.as_deref())
                            .push_bind(row.subject.as_deref())
                            .push_bind(row.detail.as_str());
                    });
                    insert
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(database("restoring the audit trail"))?;
                }
                // A backup names the certificate of an entry by serial, as migration 0008
                // found it for the entries before it.
                sqlx::query(
                    "UPDATE audit SET certificate_id = \
                       (SELECT MIN(c.id) FROM certificates c WHERE c.serial = audit.serial) \
                     WHERE serial IS NOT NULL",
                )
                .execute(&mut *tx)
                .await
                .map_err(database("restoring the audit trail"))?;
                for chunk in snapshot.tokens.chunks(ROWS) {
                    let mut insert = QueryBuilder::<$db>::new(concat!(
                        "INSERT INTO enrollment_tokens (",
                        token_columns!(),
                        ") "
                    ));
                    insert.push_values(chunk, |mut values, row| {
                        values
                            .push_bind(row.id.as_str())
                            .push_bind(row.profile.as_str())
                            .push_bind(row.subject.as_str())
                            .push_bind(row.created_at)
                            .push_bind(row.expires_at)
                            .push_bind(row.created_by.as_str())
                            .push_bind(row.used_at)
                            .push_bind(row.used_serial.as_deref())
                            .push_bind(row.secret_sha256.as_str());
                    });
                    insert
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(database("restoring enrollment tokens"))?;
                }
                for sql in Self::AFTER_IMPORT {
                    sqlx::query(sql)
                        .execute(&mut *tx)
                        .await
                        .map_err(database("restoring the id sequences"))?;
                }
                tx.commit()
                    .await
                    .map_err(database("committing a restore"))?;
                // A snapshot does not carry the derived subject keys.
                self.fill_subject_keys().await.map(|_| ())
            }
        }
        };
    };
}
pub(super) use shared_queries;
