//! The embedded SQLite store. The SQL is written to port to PostgreSQL as is: `$n`
//! placeholders, integer times, `RETURNING`, row-value comparison for the cursor.

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use self::writer::Writer;
use super::model::{CertificateRecord, NewCertificate};
use super::queries::shared_queries;
use super::{Database, StoreError, WriteStats, rows};

mod writer;

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Long enough to sit out another process's issuance, short enough that a stuck writer is
/// reported rather than waited on forever.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Writers take turns in SQLite whatever the pool size; a few connections let reads (a
/// `list` on the dashboard) proceed beside a write in WAL mode.
const MAX_CONNECTIONS: u32 = 4;
/// SQLITE_NOTADB.
const NOT_A_DATABASE: &str = "26";
const SQLITE_BUSY: i32 = 5;

#[derive(Debug, Clone)]
pub(super) struct SqliteStore {
    /// Reads, revocations and migrations.
    pool: SqlitePool,
    /// Records, batched (group commit), through a connection of its own.
    writer: Writer,
}

impl SqliteStore {
    /// `certificates_fingerprint` is over the fingerprint's 32 bytes: the query spells the
    /// index's expression exactly, or SQLite would scan.
    pub(in crate::store) const FIND_BY_FINGERPRINT: &str = concat!(
        "SELECT ",
        rows::columns!(),
        " FROM certificates \
         WHERE unhex(replace(fingerprint_sha256, ':', '')) = unhex(replace($1, ':', ''))"
    );

    /// A deferred transaction in WAL mode reads one snapshot from its first read on.
    pub(in crate::store) const SNAPSHOT: Option<&str> = None;
    /// An explicit id is simply inserted.
    pub(in crate::store) const OVERRIDING: &str = "";
    /// `INTEGER PRIMARY KEY` ids continue from the largest on their own.
    pub(in crate::store) const AFTER_IMPORT: &[&str] = &[];

    pub(super) async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A certificate handed out must survive a power cut in the inventory too. In WAL
            // mode a commit is the append of its pages to the WAL; FULL fsyncs the WAL
            // before COMMIT returns, so a committed row is on disk when `record` answers
            // (a checkpoint later copies it into the database file, syncing both). NORMAL
            // syncs only at checkpoints: the last commits before a power cut would be lost
            // although their certificates were handed out. One sync per commit is the
            // floor of a record made alone; group commit shares it between records.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = connect(path, options).await?;
        migrate(&pool, path).await?;
        // Records go through one connection of their own, outside the pool, driven from
        // the recording tasks' own threads (see `writer`).
        let writer = Writer::open(path, BUSY_TIMEOUT).map_err(|source| open_error(path, source))?;
        let store = Self { pool, writer };
        store.fill_subject_keys().await?;
        Ok(store)
    }

    /// Lets the writer commit what is queued, then closes its connection and the pool's.
    pub(super) async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Queues `new` for the writer, which commits it with whatever else is queued; returns
    /// once that commit has.
    pub(super) async fn record(
        &self,
        new: &NewCertificate,
    ) -> Result<CertificateRecord, StoreError> {
        self.writer.record(new).await
    }

    pub(super) fn write_stats(&self) -> WriteStats {
        self.writer.stats()
    }
}

shared_queries!(SqliteStore, Sqlite);

/// Connects, retrying while another process holds the lock. Switching a new database to WAL
/// takes an exclusive lock that SQLite's busy timeout does not wait for, so two processes
/// creating the same store at once would otherwise fail with "database is locked".
async fn connect(path: &Path, options: SqliteConnectOptions) -> Result<SqlitePool, StoreError> {
    busy_retry(path, || {
        SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options.clone())
    })
    .await
}

/// Runs `attempt` until it is not refused with SQLITE_BUSY, for up to the busy timeout.
async fn busy_retry<T, F>(path: &Path, mut attempt: impl FnMut() -> F) -> Result<T, StoreError>
where
    F: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let started = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(source) if is_busy(&source) && started.elapsed() < BUSY_TIMEOUT => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(source) => return Err(open_error(path, source)),
        }
    }
}

/// SQLITE_BUSY, or one of its extended codes.
fn is_busy(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == SQLITE_BUSY)
}

/// Applies the migrations this build knows. `BEGIN IMMEDIATE` takes the write lock before
/// the migrator reads what is applied, so two processes opening a new store at once apply
/// them one after the other instead of both creating the tables (the migrator's own
/// transactions become savepoints inside this one).
async fn migrate(pool: &SqlitePool, path: &Path) -> Result<(), StoreError> {
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(|source| open_error(path, source))?;
    // `run_direct` rather than `run`: with `run(&mut *tx)` the future of `open` is not `Send`
    // for every lifetime ("implementation of `Acquire` is not general enough"), so it could
    // not be spawned; sqlx exposes `run_direct` for exactly this.
    MIGRATOR
        .run_direct(&mut *tx)
        .await
        .map_err(|source| migrate_error(path, source))?;
    tx.commit().await.map_err(|source| open_error(path, source))
}

fn open_error(path: &Path, source: sqlx::Error) -> StoreError {
    let not_a_database = source
        .as_database_error()
        .and_then(|error| error.code())
        .is_some_and(|code| code == NOT_A_DATABASE);
    if not_a_database {
        StoreError::NotADatabase {
            path: path.to_owned(),
            source,
        }
    } else {
        StoreError::Open {
            database: Database::Sqlite(path.to_owned()),
            source,
        }
    }
}

fn migrate_error(path: &Path, source: sqlx::migrate::MigrateError) -> StoreError {
    use sqlx::migrate::MigrateError;
    let database = Database::Sqlite(path.to_owned());
    match source {
        MigrateError::VersionMissing(found) => StoreError::SchemaTooNew {
            database,
            found,
            known: MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0),
        },
        MigrateError::VersionMismatch(version) => StoreError::SchemaModified { database, version },
        MigrateError::Execute(source) => open_error(path, source),
        source => StoreError::Migrate { database, source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::{Order, Query, StatusFilter};
    use time::OffsetDateTime;

    /// SQLite's plan for `sql`, one line per step.
    async fn plan(pool: &SqlitePool, sql: &str) -> Vec<String> {
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&explain)
            .fetch_all(pool)
            .await
            .expect("query plan");
        rows.into_iter().map(|(_, _, _, detail)| detail).collect()
    }

    /// Regression guard for migration 0003: an index expression spelled differently in a
    /// query, or a partial index's condition left out of one, is not an error but a scan of
    /// the whole inventory, which only shows once the inventory is large.
    #[tokio::test]
    async fn lookups_use_their_index() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = SqliteStore::open(&dir.path().join("store.sqlite"))
            .await
            .expect("store");
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("time");
        let listing = |change: &dyn Fn(&mut Query)| {
            let mut query = Query::new(now);
            change(&mut query);
            SqliteStore::list_statement(&query, 100).sql().to_owned()
        };
        let cases = [
            (
                rows::FIND_BY_SERIAL.to_owned(),
                "INDEX certificates_serial_issuer",
            ),
            (
                rows::FIND_BY_ISSUER_SERIAL.to_owned(),
                "INDEX certificates_serial_issuer",
            ),
            (
                SqliteStore::FIND_BY_FINGERPRINT.to_owned(),
                "INDEX certificates_fingerprint",
            ),
            (
                rows::REVOKED_SERIALS.to_owned(),
                "INDEX certificates_revoked_issuer",
            ),
            // Counted from the index alone: no table row read per certificate in range.
            (
                rows::EXPIRING.to_owned(),
                "COVERING INDEX certificates_not_after",
            ),
            (
                rows::EXPIRING.to_owned(),
                "INDEX certificates_revoked_not_after",
            ),
            (
                listing(&|q| q.status = Some(StatusFilter::Revoked)),
                "INDEX certificates_revoked_not_after",
            ),
            (
                listing(&|q| q.status = Some(StatusFilter::Valid)),
                "INDEX certificates_not_after",
            ),
            (
                listing(&|q| q.expiring_within = Some(time::Duration::days(7))),
                "INDEX certificates_not_after",
            ),
            (
                listing(&|q| q.profile = Some("server".to_owned())),
                "INDEX certificates_profile",
            ),
            (
                listing(&|q| q.san = Some("DNS:host.example".to_owned())),
                "INDEX certificate_sans_value",
            ),
            (
                listing(&|q| q.subject = Some("Host".to_owned())),
                "INDEX certificates_subject_key",
            ),
            (
                listing(&|q| q.order = Order::Subject),
                "INDEX certificates_subject_key",
            ),
            (
                listing(&|q| q.order = Order::ExpiryLatest),
                "INDEX certificates_not_after",
            ),
            // The one search box: the SAN index and the subject index, one or the other.
            (
                listing(&|q| q.search = Some("host".to_owned())),
                "INDEX certificate_sans_value",
            ),
            (
                listing(&|q| q.search = Some("host".to_owned())),
                "INDEX certificates_subject_key",
            ),
        ];
        for (sql, index) in cases {
            let steps = plan(&store.pool, &sql).await;
            assert!(
                steps.iter().any(|step| step.contains(&format!(" {index} "))
                    || step.ends_with(&format!(" {index}"))),
                "{sql}\nexpected {index}, got {steps:#?}"
            );
        }
        store.close().await;
    }
}
