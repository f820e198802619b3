//! The embedded SQLite store. The SQL is written to port to PostgreSQL as is: `$n`
//! placeholders, integer times, `RETURNING`, row-value comparison for the cursor.

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, QueryBuilder, Sqlite};
use time::OffsetDateTime;

use self::writer::Writer;
use super::identifier::{self, SanMatch};
use super::model::{
    CertificateRecord, Cursor, Lookup, NewCertificate, Page, Query, Revocation, RevocationReason,
    RevokedSerial, Status, StatusFilter,
};
use super::{StoreError, WriteStats};

mod audit;
mod census;
mod tokens;
mod writer;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Long enough to sit out another process's issuance, short enough that a stuck writer is
/// reported rather than waited on forever.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Writers take turns in SQLite whatever the pool size; a few connections let reads (a
/// `list` on the dashboard) proceed beside a write in WAL mode.
const MAX_CONNECTIONS: u32 = 4;
/// SQLITE_NOTADB.
const NOT_A_DATABASE: &str = "26";
const SQLITE_BUSY: i32 = 5;

/// The columns of a [`RawRecord`], as a macro so queries are `concat!`ed at compile time.
macro_rules! columns {
    () => {
        "id, serial, issuer_key_id, issuer, subject, sans, not_before, not_after, profile, \
         requester, fingerprint_sha256, pem, status, revoked_at, revocation_reason, created_at"
    };
}

// The lookups, each served by an index of migration 0003 (`tests::lookups_use_their_index`
// holds them to it).

/// A serial alone: the prefix of `certificates_serial_issuer`.
const FIND_BY_SERIAL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM certificates WHERE serial = $1 ORDER BY id"
);
/// `certificates_fingerprint` is over the fingerprint's 32 bytes: the query spells the
/// index's expression exactly, or SQLite would scan.
const FIND_BY_FINGERPRINT: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM certificates \
     WHERE unhex(replace(fingerprint_sha256, ':', '')) = unhex(replace($1, ':', ''))"
);
const FIND_BY_ISSUER_SERIAL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM certificates WHERE issuer_key_id = $1 AND serial = $2"
);
/// `status = 'revoked'` spelled out lets SQLite use the partial index over revoked rows.
const REVOKED_SERIALS: &str = "SELECT c.id, c.serial, c.revoked_at, c.revocation_reason, \
     r.invalidity_date, c.not_after FROM certificates c \
     LEFT JOIN revocations r ON r.certificate_id = c.id \
     WHERE c.issuer_key_id = $1 AND c.status = 'revoked' AND c.not_after >= $2 \
     ORDER BY c.serial";

#[derive(Debug, Clone)]
pub(super) struct SqliteStore {
    /// Reads, revocations and migrations.
    pool: SqlitePool,
    /// Records, batched (group commit).
    writer: Writer,
}

impl SqliteStore {
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
        let pool = connect(path, options.clone()).await?;
        migrate(&pool, path).await?;
        // Writes go through one connection of their own, outside the pool: the writer
        // holds it for good, and it skips the pool's ping on every acquire.
        let connection = busy_retry(path, || options.connect()).await?;
        Ok(Self {
            pool,
            writer: Writer::start(connection),
        })
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

    pub(super) async fn find(
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
            Lookup::Fingerprint(fingerprint) => sqlx::query_as(FIND_BY_FINGERPRINT)
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

    pub(super) async fn list(&self, query: &Query) -> Result<Page, StoreError> {
        let limit = query.effective_limit();
        let rows: Vec<RawRecord> = list_statement(query, limit)
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
            records.last().map(Cursor::after)
        } else {
            None
        };
        Ok(Page { records, next })
    }

    pub(super) async fn revoke(
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

    pub(super) async fn revoked_serials(
        &self,
        issuer_key_id: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<RevokedSerial>, StoreError> {
        let issuer_key_id = identifier::key_id(issuer_key_id)?;
        let rows: Vec<(i64, String, i64, i64, Option<i64>, i64)> = sqlx::query_as(REVOKED_SERIALS)
            .bind(&issuer_key_id)
            .bind(at.unix_timestamp())
            .fetch_all(&self.pool)
            .await
            .map_err(database("listing revoked certificates"))?;
        rows.into_iter()
            .map(
                |(id, serial, revoked_at, reason, invalid_since, not_after)| {
                    let corrupt =
                        |column, found: String| StoreError::CorruptRow { id, column, found };
                    let time = |column, seconds: i64| {
                        OffsetDateTime::from_unix_timestamp(seconds)
                            .map_err(|_| corrupt(column, seconds.to_string()))
                    };
                    Ok(RevokedSerial {
                        serial,
                        revoked_at: time("revoked_at", revoked_at)?,
                        reason: u8::try_from(reason)
                            .ok()
                            .and_then(RevocationReason::from_code)
                            .ok_or_else(|| corrupt("revocation_reason", reason.to_string()))?,
                        invalid_since: invalid_since
                            .map(|seconds| time("invalidity_date", seconds))
                            .transpose()?,
                        not_after: time("not_after", not_after)?,
                    })
                },
            )
            .collect()
    }

    pub(super) async fn next_crl_number(&self, issuer_key_id: &str) -> Result<u64, StoreError> {
        let issuer_key_id = identifier::key_id(issuer_key_id)?;
        // One statement: two CRLs made at once still get different numbers.
        let number: i64 = sqlx::query_scalar(
            "INSERT INTO crl_numbers (issuer_key_id, last_number) VALUES ($1, 1) \
             ON CONFLICT (issuer_key_id) DO UPDATE SET last_number = last_number + 1 \
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

    async fn find_by_id(&self, id: i64) -> Result<Option<CertificateRecord>, StoreError> {
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
}

/// The SELECT behind [`SqliteStore::list`]: `limit + 1` rows in (not_after, id) order.
fn list_statement(query: &Query, limit: u32) -> QueryBuilder<'static, Sqlite> {
    let now = query.now.unix_timestamp();
    let mut select = QueryBuilder::<Sqlite>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM certificates WHERE 1 = 1"
    ));
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
        select.push(" AND id IN (SELECT certificate_id FROM certificate_sans WHERE ");
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
    if let Some(cursor) = query.after {
        select
            .push(" AND (not_after, id) > (")
            .push_bind(cursor.not_after)
            .push(", ")
            .push_bind(cursor.id)
            .push(")");
    }
    // One row more than asked tells whether another page follows, without a count.
    select
        .push(" ORDER BY not_after, id LIMIT ")
        .push_bind(i64::from(limit) + 1);
    select
}

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
    let path = path.to_owned();
    if not_a_database {
        StoreError::NotADatabase { path, source }
    } else {
        StoreError::Open { path, source }
    }
}

fn migrate_error(path: &Path, source: sqlx::migrate::MigrateError) -> StoreError {
    use sqlx::migrate::MigrateError;
    let path = path.to_owned();
    match source {
        MigrateError::VersionMissing(found) => StoreError::SchemaTooNew {
            path,
            found,
            known: MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0),
        },
        MigrateError::VersionMismatch(version) => StoreError::SchemaModified { path, version },
        MigrateError::Execute(source) => open_error(&path, source),
        source => StoreError::Migrate { path, source },
    }
}

fn database(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { operation, source }
}

/// Tells which unique index refused the row: PostgreSQL names the constraint, SQLite only
/// names the columns in its message.
fn insert_error(
    source: sqlx::Error,
    serial: &str,
    issuer_key_id: &str,
    fingerprint: &str,
) -> StoreError {
    let Some(error) = source
        .as_database_error()
        .filter(|e| e.is_unique_violation())
    else {
        return StoreError::Database {
            operation: "recording a certificate",
            source,
        };
    };
    let names_fingerprint = match error.constraint() {
        Some(constraint) => constraint.contains("fingerprint"),
        None => error.message().contains("fingerprint"),
    };
    if names_fingerprint {
        StoreError::DuplicateCertificate {
            fingerprint: fingerprint.to_owned(),
            source,
        }
    } else {
        StoreError::DuplicateSerial {
            issuer_key_id: issuer_key_id.to_owned(),
            serial: serial.to_owned(),
            source,
        }
    }
}

fn already_revoked(record: CertificateRecord) -> StoreError {
    StoreError::AlreadyRevoked {
        serial: record.serial,
        issuer_key_id: record.issuer_key_id,
        // The table's CHECK keeps these set on a revoked row; the fallbacks are never shown.
        revoked_at: record.revoked_at.unwrap_or(record.created_at),
        reason: record
            .revocation_reason
            .unwrap_or(RevocationReason::Unspecified),
    }
}

/// A row as stored, before its columns are turned into typed values.
#[derive(sqlx::FromRow)]
struct RawRecord {
    id: i64,
    serial: String,
    issuer_key_id: String,
    issuer: String,
    subject: String,
    sans: String,
    not_before: i64,
    not_after: i64,
    profile: String,
    requester: Option<String>,
    fingerprint_sha256: String,
    pem: String,
    status: String,
    revoked_at: Option<i64>,
    revocation_reason: Option<i64>,
    created_at: i64,
}

impl RawRecord {
    fn decode(self) -> Result<CertificateRecord, StoreError> {
        let id = self.id;
        let corrupt = |column, found: String| StoreError::CorruptRow { id, column, found };
        let time = |column, seconds: i64| {
            OffsetDateTime::from_unix_timestamp(seconds)
                .map_err(|_| corrupt(column, seconds.to_string()))
        };
        let status = match self.status.as_str() {
            "valid" => Status::Valid,
            "revoked" => Status::Revoked,
            _ => return Err(corrupt("status", self.status)),
        };
        let revocation_reason = self
            .revocation_reason
            .map(|code| {
                u8::try_from(code)
                    .ok()
                    .and_then(RevocationReason::from_code)
                    .ok_or_else(|| corrupt("revocation_reason", code.to_string()))
            })
            .transpose()?;
        Ok(CertificateRecord {
            id,
            sans: serde_json::from_str(&self.sans)
                .map_err(|source| StoreError::CorruptSans { id, source })?,
            not_before: time("not_before", self.not_before)?,
            not_after: time("not_after", self.not_after)?,
            revoked_at: self
                .revoked_at
                .map(|seconds| time("revoked_at", seconds))
                .transpose()?,
            created_at: time("created_at", self.created_at)?,
            serial: self.serial,
            issuer_key_id: self.issuer_key_id,
            issuer: self.issuer,
            subject: self.subject,
            profile: self.profile,
            requester: self.requester,
            fingerprint_sha256: self.fingerprint_sha256,
            pem: self.pem,
            status,
            revocation_reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            list_statement(&query, 100).sql().to_owned()
        };
        let cases = [
            (
                FIND_BY_SERIAL.to_owned(),
                "INDEX certificates_serial_issuer",
            ),
            (
                FIND_BY_ISSUER_SERIAL.to_owned(),
                "INDEX certificates_serial_issuer",
            ),
            (
                FIND_BY_FINGERPRINT.to_owned(),
                "INDEX certificates_fingerprint",
            ),
            (
                REVOKED_SERIALS.to_owned(),
                "INDEX certificates_revoked_issuer",
            ),
            // Counted from the index alone: no table row read per certificate in range.
            (
                census::EXPIRING.to_owned(),
                "COVERING INDEX certificates_not_after",
            ),
            (
                census::EXPIRING.to_owned(),
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
