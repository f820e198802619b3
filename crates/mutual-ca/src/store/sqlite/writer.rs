//! Group commit without sqlx's worker thread. Every `record` queues its row; one leader at a
//! time records whatever has queued up in one transaction, so one commit — one sync of the
//! WAL, with `synchronous = FULL` — covers every certificate in it, and rows queued while
//! it writes go into its next transaction. Each caller hears back only once the commit that
//! holds its row has returned. A row the database refuses (a serial or certificate already
//! recorded) fails that caller alone; the rest of the batch is committed.
//!
//! Who leads depends on the runtime. On a current-thread runtime (the CLI: `mutual issue`,
//! one record at a time) the caller writes on its own thread, after yielding once so the
//! other tasks ready there queue their rows into the same commit: nothing else could run
//! meanwhile anyway. On a multi-thread runtime (`mutual serve`) a blocking-pool thread
//! writes, so a slow sync never holds up a runtime worker, and requests keep arriving (and
//! queueing) while it syncs.
//!
//! A certificate's audit entry ([`NewCertificate::audit`]) is written in the same
//! transaction: a caller hears "recorded" only when both are committed, and one sync covers
//! both.
//!
//! Why not sqlx, which the rest of the store uses: sqlx runs every SQLite connection on a
//! worker thread of its own and answers each statement with a message. For the CLI that
//! round trip (two thread wake-ups) cost about 45 µs on this kind of virtual machine, more
//! than the statements of a record (about 30 µs without the sync) and twice an ECDSA P-256
//! signature; and each batch's SQL was built and bound anew. Here the statements are
//! prepared once and run through rusqlite, over the same bundled SQLite.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Duration;
use std::{fmt, sync::Arc};

use rusqlite::{Connection, OpenFlags, params};
use sqlx::error::{DatabaseError, ErrorKind};
use tokio::sync::oneshot;

use crate::store::model::{CertificateRecord, NewCertificate};
use crate::store::rows::NewRow as Row;
use crate::store::{StoreError, WriteStats};

/// Rows per transaction at most: a leader under a steady stream of records still commits,
/// and answers, every so often.
const MAX_BATCH: usize = 256;

const INSERT_CERTIFICATE: &str = "INSERT INTO certificates (serial, issuer_key_id, issuer, \
     subject, sans, not_before, not_after, profile, requester, fingerprint_sha256, pem, \
     created_at, subject_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
const INSERT_SAN: &str =
    "INSERT INTO certificate_sans (certificate_id, position, kind, value) VALUES (?1, ?2, ?3, ?4)";
const INSERT_AUDIT: &str = "INSERT INTO audit (at, actor, action, serial, subject, detail, \
     certificate_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// The handle `SqliteStore` keeps; clones share one connection and one queue.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    /// Held by the leader while it writes; `None` once the writer is closed.
    connection: Mutex<Option<Connection>>,
    /// A blocking-pool leader is started or running (multi-thread runtimes).
    scheduled: AtomicBool,
    commits: AtomicU64,
    records: AtomicU64,
}

#[derive(Debug, Default)]
struct Queue {
    pending: Vec<(Box<Row>, Reply)>,
    closed: bool,
}

/// Where a caller waits for its row's outcome.
type Reply = oneshot::Sender<Result<CertificateRecord, StoreError>>;

impl Writer {
    /// Opens the writer's own connection to the store at `path`, which the pool has created
    /// and migrated (and switched to WAL, which the file remembers).
    pub(super) fn open(path: &Path, busy_timeout: Duration) -> Result<Writer, sqlx::Error> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(driver)?;
        connection.busy_timeout(busy_timeout).map_err(driver)?;
        // As the pool's connections: see `SqliteStore::open` for why FULL.
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(driver)?;
        connection
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(driver)?;
        Ok(Writer {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue::default()),
                connection: Mutex::new(Some(connection)),
                scheduled: AtomicBool::new(false),
                commits: AtomicU64::new(0),
                records: AtomicU64::new(0),
            }),
        })
    }

    /// Normalises `new` (an error here writes nothing), queues it and returns once a commit
    /// holds it: one this caller wrote, or one another caller wrote while this one waited.
    pub(super) async fn record(
        &self,
        new: &NewCertificate,
    ) -> Result<CertificateRecord, StoreError> {
        let row = Box::new(Row::prepare(new)?);
        let (reply, answer) = oneshot::channel();
        {
            let mut queue = self.shared.queue()?;
            if queue.closed {
                return Err(closed());
            }
            queue.pending.push((row, reply));
        }
        if multi_thread() {
            Shared::schedule(&self.shared);
        } else {
            tokio::task::yield_now().await;
            self.shared.lead();
        }
        // Every queued row is answered: by a leader's commit, or with an error when the
        // writer is closed or a leader panicked (the reply then dropped). No answer means
        // the latter, and whether the row was committed is unknown: the store says so
        // rather than guess.
        answer.await.map_err(|_| crashed())?
    }

    /// Writes what is queued, then closes the connection; later records are refused.
    pub(super) async fn close(&self) {
        if let Ok(mut queue) = self.shared.queue() {
            queue.closed = true;
        }
        let close = || {
            // Waits out a leader that is writing.
            match self.shared.connection.lock() {
                Ok(mut connection) => {
                    self.shared.drain(&mut connection);
                    if let Some(connection) = connection.take() {
                        let _ = connection.close();
                    }
                }
                // As `lead`: a connection a leader panicked with takes no more rows.
                Err(_) => self.shared.fail_pending(),
            }
        };
        if multi_thread() {
            tokio::task::block_in_place(close);
        } else {
            close();
        }
    }

    pub(super) fn stats(&self) -> WriteStats {
        WriteStats {
            commits: self.shared.commits.load(Ordering::Relaxed),
            records: self.shared.records.load(Ordering::Relaxed),
        }
    }
}

impl Shared {
    fn queue(&self) -> Result<MutexGuard<'_, Queue>, StoreError> {
        self.queue.lock().map_err(|_| crashed())
    }

    fn has_pending(&self) -> bool {
        self.queue().is_ok_and(|queue| !queue.pending.is_empty())
    }

    /// Starts a leader on the blocking pool unless one is started already. One that is
    /// finishing looks at the queue again after clearing `scheduled`, so a row queued
    /// while it cleared is not left behind: either it sees the row, or the caller that
    /// queued it sees `scheduled` clear and starts the next one.
    fn schedule(shared: &Arc<Shared>) {
        if shared.scheduled.swap(true, Ordering::SeqCst) {
            return;
        }
        let shared = Arc::clone(shared);
        tokio::task::spawn_blocking(move || {
            let _unwinding = Unscheduled(&shared);
            loop {
                match shared.connection.lock() {
                    Ok(mut connection) => shared.drain(&mut connection),
                    Err(_) => shared.fail_pending(),
                }
                shared.scheduled.store(false, Ordering::SeqCst);
                if !shared.has_pending() || shared.scheduled.swap(true, Ordering::SeqCst) {
                    return;
                }
            }
        });
    }

    /// Becomes the leader on this thread if no one is, and writes until nothing is queued.
    /// A row queued while another leader holds the connection is that leader's to write:
    /// every leader looks at the queue again after letting the connection go, so a row
    /// queued just before is not left behind.
    fn lead(&self) {
        loop {
            let mut connection = match self.connection.try_lock() {
                Ok(connection) => connection,
                Err(TryLockError::WouldBlock) => return,
                // A leader panicked while writing: nothing queued can be trusted to a
                // connection in an unknown state.
                Err(TryLockError::Poisoned(_)) => {
                    self.fail_pending();
                    return;
                }
            };
            self.drain(&mut connection);
            drop(connection);
            if !self.has_pending() {
                return;
            }
        }
    }

    /// Writes batches until the queue is empty (with the connection gone, refuses them).
    fn drain(&self, connection: &mut Option<Connection>) {
        loop {
            let batch: Vec<(Box<Row>, Reply)> = match self.queue() {
                Ok(mut queue) => {
                    let take = queue.pending.len().min(MAX_BATCH);
                    queue.pending.drain(..take).collect()
                }
                Err(_) => return,
            };
            if batch.is_empty() {
                return;
            }
            let Some(connection) = connection.as_mut() else {
                for (_, reply) in batch {
                    let _ = reply.send(Err(closed()));
                }
                continue;
            };
            let rows: Vec<&Row> = batch.iter().map(|(row, _)| &**row).collect();
            let outcomes = write(connection, &rows, self);
            for ((row, reply), outcome) in batch.into_iter().zip(outcomes) {
                // A caller that stopped waiting still has its row recorded: recorded and
                // never handed out is the safe way round.
                let _ = reply.send(outcome.and_then(|id| row.into_record(id)));
            }
        }
    }

    /// Answers everything queued with [`crashed`]: a leader panicked.
    fn fail_pending(&self) {
        if let Ok(mut queue) = self.queue() {
            for (_, reply) in queue.pending.drain(..) {
                let _ = reply.send(Err(crashed()));
            }
        }
    }
}

/// A blocking-pool leader that panicked must not leave `scheduled` set, or no leader would
/// ever start again: the rows queued are failed instead (the connection's lock is poisoned
/// by then, so later ones fail too, rather than wait forever).
struct Unscheduled<'a>(&'a Shared);

impl Drop for Unscheduled<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.scheduled.store(false, Ordering::SeqCst);
            self.0.fail_pending();
        }
    }
}

fn multi_thread() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

/// Records `rows` and returns, for each, its row id or why it was refused. When the batch
/// fails as a whole (the disk is full, the database is locked beyond the busy timeout...),
/// each row is tried again alone, so every caller gets its own answer and its own error.
fn write(
    connection: &mut Connection,
    rows: &[&Row],
    shared: &Shared,
) -> Vec<Result<i64, StoreError>> {
    match transaction(connection, rows, shared) {
        Ok(outcomes) => outcomes,
        Err(error) if rows.len() == 1 => vec![Err(error)],
        Err(_) => rows
            .iter()
            .map(
                |row| match transaction(connection, std::slice::from_ref(row), shared) {
                    Ok(mut one) => one.pop().unwrap_or_else(|| Err(crashed())),
                    Err(error) => Err(error),
                },
            )
            .collect(),
    }
}

/// One transaction for `rows`. `Err` when it failed as a whole (nothing committed); else
/// one outcome per row, all committed except the refused ones.
fn transaction(
    connection: &mut Connection,
    rows: &[&Row],
    shared: &Shared,
) -> Result<Vec<Result<i64, StoreError>>, StoreError> {
    match record_all(connection, rows) {
        Ok(outcomes) => {
            let recorded = outcomes.iter().filter(|outcome| outcome.is_ok()).count() as u64;
            if recorded > 0 {
                shared.commits.fetch_add(1, Ordering::Relaxed);
                shared.records.fetch_add(recorded, Ordering::Relaxed);
            }
            Ok(outcomes)
        }
        Err(error) => {
            // Some failures (a full disk, an I/O error) have rolled back already; a failed
            // COMMIT (busy) leaves the transaction open.
            if !connection.is_autocommit() {
                let _ = connection.execute_batch("ROLLBACK");
            }
            Err(error)
        }
    }
}

/// BEGIN, each row's certificate, SANs and audit entry, COMMIT. A certificate the unique
/// indexes refuse is that row's outcome: the failed INSERT undoes itself alone (SQLite's
/// ABORT), before any of the row's SANs or audit entry, and the transaction goes on. Any
/// other failure fails the whole batch (the caller rolls back).
fn record_all(
    connection: &Connection,
    rows: &[&Row],
) -> Result<Vec<Result<i64, StoreError>>, StoreError> {
    let failed = |operation| {
        move |source| StoreError::Database {
            operation,
            source: driver(source),
        }
    };
    // Prepared once like the INSERTs: parsing BEGIN and COMMIT again for every batch was
    // about 8,000 instructions, a twentieth of a record.
    connection
        .prepare_cached("BEGIN IMMEDIATE")
        .and_then(|mut begin| begin.execute([]))
        .map_err(failed("starting to record certificates"))?;
    let mut outcomes = Vec::with_capacity(rows.len());
    for row in rows {
        let outcome = match insert_certificate(connection, row) {
            Ok(id) => {
                insert_rest(connection, id, row).map_err(failed(
                    "recording the SANs and audit entry of a certificate",
                ))?;
                Ok(id)
            }
            Err(source) if is_unique_violation(&source) => Err(row.refused(driver(source))),
            Err(source) => return Err(failed("recording certificates")(source)),
        };
        outcomes.push(outcome);
    }
    // Nothing recorded, nothing to sync.
    let end = if outcomes.iter().any(Result::is_ok) {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    connection
        .prepare_cached(end)
        .and_then(|mut end| end.execute([]))
        .map_err(failed("committing recorded certificates"))?;
    Ok(outcomes)
}

fn insert_certificate(connection: &Connection, row: &Row) -> rusqlite::Result<i64> {
    connection
        .prepare_cached(INSERT_CERTIFICATE)?
        .execute(params![
            row.serial,
            row.issuer_key_id,
            row.new.issuer,
            row.new.subject,
            row.sans_json,
            row.new.not_before.unix_timestamp(),
            row.new.not_after.unix_timestamp(),
            row.new.profile,
            row.new.requester,
            row.fingerprint,
            row.new.pem,
            row.created_at,
            row.subject_key,
        ])?;
    Ok(connection.last_insert_rowid())
}

/// The row's SANs, in the index table, and its audit entry when it carries one (with the
/// certificate's id, serial, normalised, subject and recording time).
fn insert_rest(connection: &Connection, id: i64, row: &Row) -> rusqlite::Result<()> {
    if !row.indexed_sans.is_empty() {
        let mut insert = connection.prepare_cached(INSERT_SAN)?;
        for (position, san) in (0_i64..).zip(&row.indexed_sans) {
            insert.execute(params![id, position, san.kind, san.value])?;
        }
    }
    if let Some(note) = &row.new.audit {
        connection.prepare_cached(INSERT_AUDIT)?.execute(params![
            row.created_at,
            note.actor,
            note.action.as_str(),
            row.serial,
            row.new.subject,
            note.detail,
            id,
        ])?;
    }
    Ok(())
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error().map(|e| e.extended_code),
        Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    )
}

fn closed() -> StoreError {
    StoreError::Database {
        operation: "recording a certificate",
        source: sqlx::Error::PoolClosed,
    }
}

fn crashed() -> StoreError {
    StoreError::Database {
        operation: "recording a certificate",
        source: sqlx::Error::WorkerCrashed,
    }
}

/// A rusqlite error as sqlx's, so [`StoreError`] keeps one source type and its questions
/// (`is_out_of_space`, a unique violation's index) are answered the same way for both
/// drivers: the code is SQLite's extended result code, as sqlx-sqlite gives it.
fn driver(source: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::Database(Box::new(DriverError {
        code: source.sqlite_error().map(|e| e.extended_code),
        message: match &source {
            rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
            other => other.to_string(),
        },
        source,
    }))
}

#[derive(Debug)]
struct DriverError {
    code: Option<i32>,
    message: String,
    source: rusqlite::Error,
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DriverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl DatabaseError for DriverError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.code.map(|code| code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        use rusqlite::ffi;
        match self.code {
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                ErrorKind::UniqueViolation
            }
            Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => ErrorKind::ForeignKeyViolation,
            Some(ffi::SQLITE_CONSTRAINT_NOTNULL) => ErrorKind::NotNullViolation,
            Some(ffi::SQLITE_CONSTRAINT_CHECK) => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}
