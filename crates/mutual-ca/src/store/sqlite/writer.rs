//! Group commit. Every `record` goes to one writer task with a connection of its own; the
//! writer takes whatever has queued up while it was busy and records it in one transaction,
//! so one commit — one sync of the WAL, with `synchronous = FULL` — covers every
//! certificate in it. Each caller hears back only once the commit that holds its row has
//! returned. A row the database refuses (a serial or certificate already recorded) fails
//! that caller alone; the rest of the batch is committed.
//!
//! A certificate's audit entry ([`NewCertificate::audit`]) is written in the same
//! transaction: a caller hears "recorded" only when both are committed, and one sync covers
//! both (the audit row used to be a commit of its own after the certificate's).
//!
//! A batch costs one round trip to the connection's worker thread whatever its size: BEGIN
//! IMMEDIATE, one multi-row INSERT of the certificates, one INSERT of their SANs, one of
//! their audit entries and COMMIT, sent together (each round trip is two thread switches, and a record alone used to take
//! two). When a row is refused, that statement fails, the batch is rolled back and recorded
//! again row by row, which tells each refused caller why; serials are random, so that is
//! rare. Alone, a record is a batch of one: synced before it returns, as before.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, QueryBuilder, Sqlite};
use tokio::sync::{mpsc, oneshot};

use crate::store::identifier::IndexedSan;
use crate::store::model::{CertificateRecord, NewCertificate};
use crate::store::rows::{NewRow as Row, database};
use crate::store::{AuditNote, StoreError, WriteStats};

/// Rows per transaction at most: 12 parameters each (and 6 for an audit entry), far below
/// SQLite's limit of 32,766 per statement.
const MAX_BATCH: usize = 256;
/// SAN rows per INSERT, 4 parameters each (5 in the one-round-trip batch).
const SANS_PER_INSERT: usize = 2048;
/// Records waiting for the writer before `record` itself waits for room.
const QUEUE: usize = 4 * MAX_BATCH;

const AUDIT_COLUMNS: &str = "INSERT INTO audit (at, actor, action, serial, subject, detail) ";

const CERTIFICATE_COLUMNS: &str = "INSERT INTO certificates (serial, issuer_key_id, issuer, \
     subject, sans, not_before, not_after, profile, requester, fingerprint_sha256, pem, \
     created_at, subject_key) ";

/// The handle `SqliteStore` keeps: where records are sent, and the writer's counters.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    commits: AtomicU64,
    records: AtomicU64,
}

/// Where a caller waits for its row's outcome.
type Reply = oneshot::Sender<Result<CertificateRecord, StoreError>>;

#[derive(Debug)]
enum Job {
    Record {
        row: Box<Row>,
        reply: Reply,
    },
    /// Finish what was queued before, close the connection, then say so.
    Close {
        done: oneshot::Sender<()>,
    },
}

impl Writer {
    /// Starts the writer task on the current tokio runtime; it owns `connection` and stops
    /// when every handle is dropped or [`Writer::close`] is called.
    pub(super) fn start(connection: SqliteConnection) -> Writer {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        tokio::spawn(run(connection, queue, Arc::clone(&counters)));
        Writer { jobs, counters }
    }

    /// Normalises `new` (an error here writes nothing), queues it and waits for the commit
    /// that holds it.
    pub(super) async fn record(
        &self,
        new: &NewCertificate,
    ) -> Result<CertificateRecord, StoreError> {
        let row = Box::new(Row::prepare(new)?);
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Record { row, reply })
            .await
            .map_err(|_| closed())?;
        // The writer replies to every job it takes; no reply means it is gone (the runtime
        // that ran it shut down, or it panicked), and whether the row was committed is
        // unknown: the store says so rather than guess.
        answer.await.map_err(|_| StoreError::Database {
            operation: "recording a certificate",
            source: sqlx::Error::WorkerCrashed,
        })?
    }

    pub(super) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.jobs.send(Job::Close { done }).await.is_ok() {
            let _ = closed.await;
        }
    }

    pub(super) fn stats(&self) -> WriteStats {
        WriteStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            records: self.counters.records.load(Ordering::Relaxed),
        }
    }
}

fn closed() -> StoreError {
    StoreError::Database {
        operation: "recording a certificate",
        source: sqlx::Error::PoolClosed,
    }
}

/// The writer task: one batch at a time, each holding whatever queued up meanwhile.
async fn run(
    mut connection: SqliteConnection,
    mut queue: mpsc::Receiver<Job>,
    counters: Arc<Counters>,
) {
    let mut batch: Vec<(Box<Row>, Reply)> = Vec::new();
    while let Some(first) = queue.recv().await {
        let mut close = None;
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Record { row, reply } => batch.push((row, reply)),
                Job::Close { done } => {
                    close = Some(done);
                    break;
                }
            }
            if batch.len() < MAX_BATCH {
                next = queue.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            let rows: Vec<&Row> = batch.iter().map(|(row, _)| &**row).collect();
            let outcomes = write(&mut connection, &rows, &counters).await;
            for ((row, reply), outcome) in batch.drain(..).zip(outcomes) {
                // A caller that stopped waiting still has its row recorded: recorded and
                // never handed out is the safe way round.
                let _ = reply.send(outcome.and_then(|id| row.into_record(id)));
            }
        }
        if let Some(done) = close {
            queue.close();
            while let Ok(job) = queue.try_recv() {
                match job {
                    Job::Record { reply, .. } => {
                        let _ = reply.send(Err(closed()));
                    }
                    Job::Close { done } => {
                        let _ = done.send(());
                    }
                }
            }
            let _ = connection.close().await;
            let _ = done.send(());
            return;
        }
    }
    let _ = connection.close().await;
}

/// Records `rows` and returns, for each, its row id or why it was refused. When the batch
/// fails as a whole (the disk is full, the database is locked beyond the busy timeout...),
/// each row is tried again alone, so every caller gets its own answer and its own error.
async fn write(
    connection: &mut SqliteConnection,
    rows: &[&Row],
    counters: &Counters,
) -> Vec<Result<i64, StoreError>> {
    match transaction(connection, rows, counters).await {
        Ok(outcomes) => outcomes,
        Err(error) if rows.len() == 1 => vec![Err(error)],
        Err(_) => {
            let mut outcomes = Vec::with_capacity(rows.len());
            for row in rows {
                outcomes.push(
                    match transaction(connection, std::slice::from_ref(row), counters).await {
                        Ok(mut one) => one.pop().unwrap_or_else(|| Err(closed())),
                        Err(error) => Err(error),
                    },
                );
            }
            outcomes
        }
    }
}

/// One transaction for `rows`. `Err` when it failed as a whole (nothing committed); else
/// one outcome per row, all committed except the refused ones.
async fn transaction(
    connection: &mut SqliteConnection,
    rows: &[&Row],
    counters: &Counters,
) -> Result<Vec<Result<i64, StoreError>>, StoreError> {
    let recorded = match record_all(connection, rows).await {
        Ok(ids) => Ok((ids, rows.len() as u64)),
        Err(error) if is_refusal(&error) => {
            // Nothing of the batch is committed. Again, row by row, so each refused row
            // gets its own error and the others are recorded.
            rollback(connection).await;
            record_each(connection, rows).await
        }
        // Anything else (locked beyond the busy timeout, disk full...) would fail the slow
        // path too: `write` tries each row alone instead.
        Err(error) => Err(error),
    };
    match recorded {
        Ok((outcomes, recorded)) => {
            if recorded > 0 {
                counters.commits.fetch_add(1, Ordering::Relaxed);
                counters.records.fetch_add(recorded, Ordering::Relaxed);
            }
            Ok(outcomes)
        }
        Err(error) => {
            rollback(connection).await;
            Err(error)
        }
    }
}

/// Whether `error` is a unique index refusing a row: a serial or certificate recorded
/// already, before or earlier in the same batch.
fn is_refusal(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Database { source, .. }
            if source.as_database_error().is_some_and(|e| e.is_unique_violation())
    )
}

/// Undoes whatever is open. When BEGIN itself failed, or a failed COMMIT already rolled
/// back, SQLite answers "no transaction is active": nothing to undo.
async fn rollback(connection: &mut SqliteConnection) {
    let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
}

/// The whole batch in one round trip: BEGIN, the certificates, their SANs, their audit
/// entries, COMMIT. Any row refused fails the certificates' INSERT and so the batch (the
/// caller rolls back), as does any other statement failing; else returns each row's id, in
/// order.
async fn record_all(
    connection: &mut SqliteConnection,
    rows: &[&Row],
) -> Result<Vec<Result<i64, StoreError>>, StoreError> {
    let mut batch = QueryBuilder::<Sqlite>::new("BEGIN IMMEDIATE; ");
    batch.push(CERTIFICATE_COLUMNS);
    batch.push_values(rows, |mut values, row| {
        bind_certificate(&mut values, row);
    });
    batch.push(" RETURNING id, fingerprint_sha256; ");
    // The SANs find their certificate's id through the unique (serial, issuer_key_id)
    // index: every row of the batch was inserted, or the batch failed above.
    let sans: Vec<(&Row, i64, &IndexedSan)> = rows
        .iter()
        .flat_map(|row| {
            (0_i64..)
                .zip(&row.indexed_sans)
                .map(move |(position, san)| (*row, position, san))
        })
        .collect();
    for chunk in sans.chunks(SANS_PER_INSERT) {
        batch.push(
            "INSERT INTO certificate_sans (certificate_id, position, kind, value) \
             SELECT c.id, v.column3, v.column4, v.column5 FROM (",
        );
        batch.push_values(chunk, |mut values, (row, position, san)| {
            values
                .push_bind(row.serial.as_str())
                .push_bind(row.issuer_key_id.as_str())
                .push_bind(*position)
                .push_bind(san.kind.as_str())
                .push_bind(san.value.as_str());
        });
        batch.push(
            ") AS v JOIN certificates c ON c.serial = v.column1 AND c.issuer_key_id = v.column2; ",
        );
    }
    let audits = audits(rows.iter().copied());
    if !audits.is_empty() {
        batch.push(AUDIT_COLUMNS);
        batch.push_values(&audits, |mut values, &(row, note)| {
            bind_audit(&mut values, row, note);
        });
        batch.push("; ");
    }
    batch.push("COMMIT");
    let inserted: Vec<(i64, String)> = batch
        .build_query_as()
        .fetch_all(&mut *connection)
        .await
        .map_err(database("recording certificates"))?;
    // RETURNING's order is unspecified; a fingerprint names one row of the batch (the
    // unique index saw to that).
    Ok(rows
        .iter()
        .map(|row| {
            inserted
                .iter()
                .find(|(_, fingerprint)| *fingerprint == row.fingerprint)
                .map(|(id, _)| *id)
                .ok_or_else(|| StoreError::Database {
                    operation: "reading back the ids of recorded certificates",
                    source: sqlx::Error::RowNotFound,
                })
        })
        .collect())
}

/// The batch again after [`record_all`] failed, in one transaction that records the rows
/// the database accepts and learns why it refuses the others: BEGIN with the certificates
/// (skipping refused rows), each refused row alone for the database's own error, the audit
/// entries of the rows recorded, then the SANs with COMMIT. The statements are sent together rather than through sqlx's
/// `Transaction`, which would make each its own round trip. On `Err` the caller rolls back.
async fn record_each(
    connection: &mut SqliteConnection,
    rows: &[&Row],
) -> Result<(Vec<Result<i64, StoreError>>, u64), StoreError> {
    // IMMEDIATE takes the write lock at once (waiting out other processes' writers with
    // the busy timeout), so no statement below can find its snapshot stale. Every row goes
    // in one INSERT; a row that collides with one already recorded (or one earlier in the
    // batch) on either unique index is skipped instead of failing the rest.
    let mut insert = QueryBuilder::<Sqlite>::new("BEGIN IMMEDIATE; ");
    insert.push(CERTIFICATE_COLUMNS);
    insert.push_values(rows, |mut values, row| {
        bind_certificate(&mut values, row);
    });
    insert.push(" ON CONFLICT DO NOTHING RETURNING id, issuer_key_id, serial, fingerprint_sha256");
    let inserted: Vec<(i64, String, String, String)> = insert
        .build_query_as()
        .fetch_all(&mut *connection)
        .await
        .map_err(database("recording certificates"))?;

    // RETURNING's order is unspecified: match rows on all three unique columns.
    let mut outcomes: Vec<Option<Result<i64, StoreError>>> =
        std::iter::repeat_with(|| None).take(rows.len()).collect();
    for (id, issuer_key_id, serial, fingerprint) in inserted {
        let matching = rows.iter().zip(outcomes.iter_mut()).find(|(row, outcome)| {
            outcome.is_none()
                && row.serial == serial
                && row.issuer_key_id == issuer_key_id
                && row.fingerprint == fingerprint
        });
        if let Some((_, outcome)) = matching {
            *outcome = Some(Ok(id));
        }
    }

    // The skipped rows, alone and without ON CONFLICT, for the database's own error naming
    // the index they broke. A failed statement is undone on its own in SQLite (the ABORT
    // conflict resolution); the transaction and the rows before it stay.
    for (row, outcome) in rows.iter().zip(outcomes.iter_mut()) {
        if outcome.is_some() {
            continue;
        }
        let mut insert = QueryBuilder::<Sqlite>::new(CERTIFICATE_COLUMNS);
        insert.push_values([row], |mut values, row| {
            bind_certificate(&mut values, row);
        });
        insert.push(" RETURNING id");
        let attempt: Result<i64, sqlx::Error> = insert
            .build_query_scalar()
            .fetch_one(&mut *connection)
            .await;
        *outcome = Some(match attempt {
            Ok(id) => Ok(id),
            Err(source) => match row.refused(source) {
                refused @ (StoreError::DuplicateSerial { .. }
                | StoreError::DuplicateCertificate { .. }) => Err(refused),
                other => return Err(other),
            },
        });
    }
    let outcomes: Vec<Result<i64, StoreError>> = outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or_else(|| Err(closed())))
        .collect();
    let recorded = outcomes.iter().filter(|outcome| outcome.is_ok()).count() as u64;

    let audits = audits(
        rows.iter()
            .zip(&outcomes)
            .filter(|(_, outcome)| outcome.is_ok())
            .map(|(row, _)| *row),
    );
    if !audits.is_empty() {
        let mut insert = QueryBuilder::<Sqlite>::new(AUDIT_COLUMNS);
        insert.push_values(&audits, |mut values, &(row, note)| {
            bind_audit(&mut values, row, note);
        });
        insert
            .build()
            .execute(&mut *connection)
            .await
            .map_err(database("writing the audit trail of recorded certificates"))?;
    }

    let sans: Vec<(i64, i64, &IndexedSan)> = rows
        .iter()
        .zip(&outcomes)
        .filter_map(|(row, outcome)| outcome.as_ref().ok().map(|id| (*id, row)))
        .flat_map(|(id, row)| {
            (0_i64..)
                .zip(&row.indexed_sans)
                .map(move |(position, san)| (id, position, san))
        })
        .collect();
    // Nothing recorded, nothing to sync.
    let end = if recorded == 0 { "ROLLBACK" } else { "COMMIT" };
    let chunks: Vec<&[(i64, i64, &IndexedSan)]> = sans.chunks(SANS_PER_INSERT).collect();
    if chunks.is_empty() {
        sqlx::query(end)
            .execute(&mut *connection)
            .await
            .map_err(database("committing recorded certificates"))?;
    }
    for (index, chunk) in chunks.iter().enumerate() {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO certificate_sans (certificate_id, position, kind, value) ",
        );
        insert.push_values(chunk.iter(), |mut values, (id, position, san)| {
            values
                .push_bind(*id)
                .push_bind(*position)
                .push_bind(san.kind.as_str())
                .push_bind(san.value.as_str());
        });
        if index + 1 == chunks.len() {
            insert.push("; ").push(end);
        }
        insert
            .build()
            .execute(&mut *connection)
            .await
            .map_err(database(
                "recording the SANs of certificates and committing",
            ))?;
    }
    Ok((outcomes, recorded))
}

fn bind_certificate<'q>(
    values: &mut sqlx::query_builder::Separated<'_, 'q, Sqlite, &'static str>,
    row: &'q Row,
) {
    values
        .push_bind(row.serial.as_str())
        .push_bind(row.issuer_key_id.as_str())
        .push_bind(row.new.issuer.as_str())
        .push_bind(row.new.subject.as_str())
        .push_bind(row.sans_json.as_str())
        .push_bind(row.new.not_before.unix_timestamp())
        .push_bind(row.new.not_after.unix_timestamp())
        .push_bind(row.new.profile.as_str())
        .push_bind(row.new.requester.as_deref())
        .push_bind(row.fingerprint.as_str())
        .push_bind(row.new.pem.as_str())
        .push_bind(row.created_at)
        .push_bind(row.subject_key.as_str());
}

/// The audit entries that go with `rows`, for those that carry one.
fn audits<'r>(rows: impl Iterator<Item = &'r Row>) -> Vec<(&'r Row, &'r AuditNote)> {
    rows.filter_map(|row| row.new.audit.as_ref().map(|note| (row, note)))
        .collect()
}

/// An audit entry's row: the certificate's serial (normalised), subject and recording time.
fn bind_audit<'q>(
    values: &mut sqlx::query_builder::Separated<'_, 'q, Sqlite, &'static str>,
    row: &'q Row,
    note: &'q AuditNote,
) {
    values
        .push_bind(row.created_at)
        .push_bind(note.actor.as_str())
        .push_bind(note.action.as_str())
        .push_bind(row.serial.as_str())
        .push_bind(row.new.subject.as_str())
        .push_bind(note.detail.as_str());
}
