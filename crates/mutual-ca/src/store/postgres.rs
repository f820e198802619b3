//! The PostgreSQL store: several `mutual serve` nodes on one database, leaderless. What
//! must hold across nodes is the database's to enforce, never a lock in one process: the
//! unique indexes refuse a serial or certificate recorded twice, a guarded `UPDATE` spends
//! an enrollment token once, and an upsert hands out each CRL number once.
//!
//! Each record is its own transaction (certificate, SANs and audit entry commit together);
//! PostgreSQL already shares one WAL flush between the commits of concurrent sessions, so
//! there is no writer task to batch them as SQLite needs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Postgres};

use super::location::PostgresUrl;
use super::model::{CertificateRecord, NewCertificate};
use super::queries::shared_queries;
use super::rows::{self, NewRow};
use super::{Database, StoreError, WriteStats};

/// A certificate with its SANs ($13-$15, arrays of position, kind, value) and its audit
/// entry ($16-$18: actor, action, detail; none when $16 is NULL), as one statement.
const RECORD: &str = "WITH c AS ( \
       INSERT INTO certificates (serial, issuer_key_id, issuer, subject, sans, not_before, \
         not_after, profile, requester, fingerprint_sha256, pem, created_at, subject_key) \
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $19) RETURNING id \
     ), s AS ( \
       INSERT INTO certificate_sans (certificate_id, position, kind, value) \
       SELECT c.id, v.position, v.kind, v.value \
       FROM c, unnest($13::bigint[], $14::text[], $15::text[]) AS v(position, kind, value) \
     ), a AS ( \
       INSERT INTO audit (at, actor, action, serial, subject, detail, certificate_id) \
       SELECT $12, $16, $17, $1, $4, $18, c.id FROM c WHERE $16::text IS NOT NULL \
     ) \
     SELECT id FROM c";

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections per node: issuance holds one for a few round trips, OCSP and the dashboard
/// read beside it. PostgreSQL's default `max_connections` (100) leaves room for several nodes.
const MAX_CONNECTIONS: u32 = 16;
/// How long a query waits for a connection, and a connection for the server, before the
/// store says the database is unreachable: a CA answering 503 at once beats one hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub(super) struct PgStore {
    pool: PgPool,
    counters: Arc<Counters>,
    /// Held shared by each `record` while it runs and exclusively by `close`, which so
    /// waits for the records in flight (a caller that started recording hears whether it
    /// was committed) and then marks the store closed (`true`) for the ones after.
    closing: Arc<tokio::sync::RwLock<bool>>,
}

#[derive(Debug, Default)]
struct Counters {
    commits: AtomicU64,
}

impl PgStore {
    /// `certificates_fingerprint` is over the fingerprint's 32 bytes (migration 0003): the
    /// query spells the index's expression exactly, or PostgreSQL would scan.
    pub(in crate::store) const FIND_BY_FINGERPRINT: &str = concat!(
        "SELECT ",
        rows::columns!(),
        " FROM certificates \
         WHERE decode(replace(fingerprint_sha256, ':', ''), 'hex') \
         = decode(replace($1, ':', ''), 'hex')"
    );

    /// READ COMMITTED would read each table as of its own statement.
    pub(in crate::store) const SNAPSHOT: Option<&str> =
        Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    /// `GENERATED ALWAYS` identity columns take an explicit id only when told.
    pub(in crate::store) const OVERRIDING: &str = "OVERRIDING SYSTEM VALUE ";
    /// The identity sequences continue after the largest restored id.
    pub(in crate::store) const AFTER_IMPORT: &[&str] = &[
        "SELECT setval(pg_get_serial_sequence('certificates', 'id'), \
         GREATEST(COALESCE(MAX(id), 0), 1), MAX(id) IS NOT NULL) FROM certificates",
        "SELECT setval(pg_get_serial_sequence('audit', 'id'), \
         GREATEST(COALESCE(MAX(id), 0), 1), MAX(id) IS NOT NULL) FROM audit",
    ];

    /// Connects to the database `url` names (which must exist) and brings its schema up to
    /// date. Nodes starting together migrate one after the other: sqlx's migrator holds a
    /// PostgreSQL advisory lock while it runs.
    pub(super) async fn open(url: &PostgresUrl) -> Result<Self, StoreError> {
        let location = Database::Postgres(url.clone());
        let options: PgConnectOptions =
            url.expose().parse().map_err(|source| StoreError::Open {
                database: location.clone(),
                source,
            })?;
        // One connection first, so a refused connection, a failed login or a missing
        // database is reported as itself: the pool would only say it timed out.
        let open_error = |source| StoreError::Open {
            database: location.clone(),
            source,
        };
        let mut first = tokio::time::timeout(ACQUIRE_TIMEOUT, options.connect())
            .await
            .map_err(|_| open_error(sqlx::Error::PoolTimedOut))?
            .map_err(open_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        // Migrated and filled in over the first connection, closed after, not the pool: the
        // command line opens a store on one runtime and queries it on another, and a pooled
        // connection made here would be handed out there, bound to a runtime shut down.
        // (`run_direct`: see sqlite.rs.)
        MIGRATOR
            .run_direct(&mut first)
            .await
            .map_err(|source| migrate_error(&location, source))?;
        Self::fill_subject_keys_on(&mut first).await?;
        let _ = sqlx::Connection::close(first).await;
        Ok(Self {
            pool,
            counters: Arc::default(),
            closing: Arc::default(),
        })
    }

    /// Waits for the records in flight, then closes the connections.
    pub(super) async fn close(&self) {
        *self.closing.write().await = true;
        self.pool.close().await;
    }

    /// Records `new` with its SANs and audit entry in one transaction; returns once it is
    /// committed (with `synchronous_commit` on, PostgreSQL's default, flushed to its WAL).
    pub(super) async fn record(
        &self,
        new: &NewCertificate,
    ) -> Result<CertificateRecord, StoreError> {
        let row = NewRow::prepare(new)?;
        let closed = self.closing.read().await;
        if *closed {
            return Err(StoreError::Database {
                operation: "recording a certificate",
                source: sqlx::Error::PoolClosed,
            });
        }
        // One statement, so one round trip and its own transaction: the certificate, its
        // SANs and its audit entry are committed together or not at all.
        let (positions, (kinds, values)): (Vec<i64>, (Vec<&str>, Vec<&str>)) = (0_i64..)
            .zip(&row.indexed_sans)
            .map(|(position, san)| (position, (san.kind.as_str(), san.value.as_str())))
            .unzip();
        let audit = row.new.audit.as_ref();
        let id: i64 = sqlx::query_scalar(RECORD)
            .bind(&row.serial)
            .bind(&row.issuer_key_id)
            .bind(&row.new.issuer)
            .bind(&row.new.subject)
            .bind(&row.sans_json)
            .bind(row.new.not_before.unix_timestamp())
            .bind(row.new.not_after.unix_timestamp())
            .bind(&row.new.profile)
            .bind(row.new.requester.as_deref())
            .bind(&row.fingerprint)
            .bind(&row.new.pem)
            .bind(row.created_at)
            .bind(&positions)
            .bind(&kinds)
            .bind(&values)
            .bind(audit.map(|note| note.actor.as_str()))
            .bind(audit.map(|note| note.action.as_str()))
            .bind(audit.map(|note| note.detail.as_str()))
            .bind(&row.subject_key)
            .fetch_one(&self.pool)
            .await
            .map_err(|source| row.refused(source))?;
        self.counters.commits.fetch_add(1, Ordering::Relaxed);
        drop(closed);
        row.into_record(id)
    }

    /// One commit per record: `records / commits` is 1 here.
    pub(super) fn write_stats(&self) -> WriteStats {
        let commits = self.counters.commits.load(Ordering::Relaxed);
        WriteStats {
            commits,
            records: commits,
        }
    }
}

shared_queries!(PgStore, Postgres);

fn migrate_error(database: &Database, source: sqlx::migrate::MigrateError) -> StoreError {
    use sqlx::migrate::MigrateError;
    let database = database.clone();
    match source {
        MigrateError::VersionMissing(found) => StoreError::SchemaTooNew {
            database,
            found,
            known: MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0),
        },
        MigrateError::VersionMismatch(version) => StoreError::SchemaModified { database, version },
        MigrateError::Execute(source) => StoreError::Open { database, source },
        source => StoreError::Migrate { database, source },
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;
    use crate::store::model::{Order, Query};

    /// As SQLite's `lookups_use_their_index`: each lookup can be served by the index meant
    /// for it (sequential scans disabled, since on a table this small they would win).
    #[tokio::test]
    async fn lookups_use_their_index() {
        let database = mutual_test::TestDatabase::create();
        let Ok(Database::Postgres(url)) = database.url().parse::<Database>() else {
            panic!("not a PostgreSQL URL: {}", database.url());
        };
        PgStore::open(&url).await.expect("store").close().await;
        let mut connection = sqlx::PgConnection::connect(url.expose())
            .await
            .expect("connection");
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut connection)
            .await
            .expect("set");
        let fingerprint = ["AB"; 32].join(":");
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let mut by_subject = Query::new(now);
        by_subject.subject = Some("ab".to_owned());
        by_subject.order = Order::Subject;
        let by_subject = PgStore::list_statement(&by_subject, 50).into_sql();
        let mut in_subject_order = Query::new(now);
        in_subject_order.order = Order::Subject;
        let in_subject_order = PgStore::list_statement(&in_subject_order, 50).into_sql();
        let cases = [
            (
                rows::FIND_BY_SERIAL,
                "('0A')".to_owned(),
                "certificates_serial_issuer",
            ),
            (
                rows::FIND_BY_ISSUER_SERIAL,
                "('AA', '0A')".to_owned(),
                "certificates_serial_issuer",
            ),
            (
                PgStore::FIND_BY_FINGERPRINT,
                format!("('{fingerprint}')"),
                "certificates_fingerprint",
            ),
            (
                rows::REVOKED_SERIALS,
                "('AA', 0)".to_owned(),
                "certificates_revoked_issuer",
            ),
            (
                rows::EXPIRING,
                "(0, 100)".to_owned(),
                "certificates_not_after",
            ),
            // Either partial index over revoked rows has not_after; the planner picks one.
            (
                rows::EXPIRING,
                "(0, 100)".to_owned(),
                "certificates_revoked_",
            ),
            // A subject search is a range of the subject keys, in their order.
            (
                by_subject.as_str(),
                "('ab', 'ac', 51)".to_owned(),
                "certificates_subject_key",
            ),
            (
                in_subject_order.as_str(),
                "(51)".to_owned(),
                "certificates_subject_key",
            ),
        ];
        for (index, (sql, arguments, expected)) in cases.into_iter().enumerate() {
            sqlx::query(&format!("PREPARE lookup{index} AS {sql}"))
                .execute(&mut connection)
                .await
                .expect("prepare");
            let plan: Vec<String> =
                sqlx::query_scalar(&format!("EXPLAIN EXECUTE lookup{index}{arguments}"))
                    .fetch_all(&mut connection)
                    .await
                    .expect("explain");
            assert!(
                plan.iter()
                    .any(|line| line.contains(&format!("using {expected}"))),
                "{sql}\nexpected {expected}, got {plan:#?}"
            );
        }
    }
}
