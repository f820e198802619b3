//! The certificate store: every certificate the CA issues, recorded with the fields people
//! search by as columns, so "what expires next week" and "what names host X" are queries.
//!
//! SQLite (WAL, bundled) is the embedded default; PostgreSQL serves several nodes, behind
//! the same [`Store`]. Migrations live in `migrations/<dialect>/`, numbered alike (version
//! N is the same schema on both), and run on open. Times are stored as Unix seconds, UTC.

mod audit;
mod backup;
mod census;
mod error;
mod identifier;
mod location;
mod model;
mod postgres;
mod queries;
mod rows;
mod schema;
mod sqlite;
pub mod tokens;
mod view;

use std::path::Path;

use time::OffsetDateTime;

pub use audit::{AuditAction, AuditEntry, AuditNote, AuditQuery, NewAuditEntry};
pub use backup::{
    AuditRow, CertificateRow, CrlNumberRow, RevocationRow, SanRow, Snapshot, TokenRow,
};
pub use census::Census;
pub use error::StoreError;
pub use location::{Database, DatabaseError, PostgresUrl};
pub use model::{
    CertificateRecord, Cursor, ExpiryCount, Lookup, NewCertificate, Order, Page, Query, Revocation,
    RevocationReason, RevokedSerial, Status, StatusFilter,
};
pub use schema::{
    Migration, SchemaStatus, known_version as known_schema_version, status as schema_status,
};
pub use view::{RecordView, parse_period};

/// Counters of [`Store::record`]'s transactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Transactions committed that recorded at least one certificate.
    pub commits: u64,
    /// Certificates recorded by them.
    pub records: u64,
}

/// A handle on the certificate store. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
}

/// One variant per database; callers never see which.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// `$body` with `$store` bound to whichever backend `$self` holds: both have the same
/// methods (see `queries.rs`).
macro_rules! on_backend {
    ($self:expr, $store:ident => $body:expr) => {
        match &$self.backend {
            Backend::Sqlite($store) => $body,
            Backend::Postgres($store) => $body,
        }
    };
}
use on_backend;

impl Store {
    /// Opens the SQLite database at `path`, creating it if missing, in WAL mode with foreign
    /// keys on and a 5 s busy timeout, and brings its schema up to date. The parent
    /// directory must exist.
    ///
    /// A file that is not SQLite is [`StoreError::NotADatabase`]; a database migrated by a
    /// newer build is [`StoreError::SchemaTooNew`].
    ///
    /// Records are written by a task spawned on the tokio runtime that opens the store:
    /// record through it while that runtime runs (once it is shut down, `record` fails).
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        let backend = Backend::Sqlite(sqlite::SqliteStore::open(path).await?);
        Ok(Self { backend })
    }

    /// Connects to the PostgreSQL database `url` names, which must exist, and brings its
    /// schema up to date (nodes starting together take turns). An unreachable server or a
    /// refused login is [`StoreError::Open`], after at most a few seconds.
    pub async fn open_postgres(url: &PostgresUrl) -> Result<Self, StoreError> {
        let backend = Backend::Postgres(postgres::PgStore::open(url).await?);
        Ok(Self { backend })
    }

    /// Opens whichever database `database` names.
    pub async fn open(database: &Database) -> Result<Self, StoreError> {
        match database {
            Database::Sqlite(path) => Self::open_sqlite(path).await,
            Database::Postgres(url) => Self::open_postgres(url).await,
        }
    }

    /// Records a newly issued certificate and returns the stored record, only once it is
    /// committed (and synced to disk). Its [`NewCertificate::audit`] entry, if any, is
    /// appended to the audit trail in the same transaction: both are committed or neither.
    ///
    /// Calls made at the same time share transactions (group commit): one writer records
    /// whatever has queued up while it was committing the previous batch, so one sync
    /// covers them all. Each call still returns only after the commit that holds its row,
    /// and a row refused fails only its own call. A call on its own is a batch of one.
    ///
    /// Serial, issuer key id and fingerprint are normalised first. An `(issuer_key_id,
    /// serial)` pair already recorded is [`StoreError::DuplicateSerial`]: the issuer retries
    /// with a fresh serial. The same certificate twice is [`StoreError::DuplicateCertificate`].
    /// A call abandoned after it was queued may still be recorded.
    pub async fn record(&self, new: &NewCertificate) -> Result<CertificateRecord, StoreError> {
        on_backend!(self, store => store.record(new).await)
    }

    /// How many commits recorded how many certificates through this handle and its clones
    /// since it was opened: `records / commits` is the mean batch size.
    pub fn write_stats(&self) -> WriteStats {
        on_backend!(self, store => store.write_stats())
    }

    /// The certificate `lookup` names, if recorded. A serial used by two issuers is
    /// [`StoreError::AmbiguousSerial`].
    pub async fn find(&self, lookup: &Lookup) -> Result<Option<CertificateRecord>, StoreError> {
        on_backend!(self, store => store.find(lookup).await)
    }

    /// The certificates `query` selects in its [`Order`] (ties broken by the row's id), one
    /// page at a time: pass the page's `next` as the following query's `after`. A cursor
    /// written for another order is [`StoreError::CursorOrderMismatch`].
    pub async fn list(&self, query: &Query) -> Result<Page, StoreError> {
        on_backend!(self, store => store.list(query).await)
    }

    /// How many certificates `query` selects over all its pages (its `after`, `order` and
    /// `limit` are ignored). It reads every match, so keep it to narrow filters.
    pub async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        on_backend!(self, store => store.count(query).await)
    }

    /// Valid (not revoked) certificates of each of `profiles` expiring in each of
    /// `buckets` consecutive periods of `width` from `now`, counted in the database. Empty
    /// buckets are left out; the rest come in (bucket, profile) order.
    pub async fn expiry_counts(
        &self,
        now: OffsetDateTime,
        width: time::Duration,
        buckets: u32,
        profiles: &[&str],
    ) -> Result<Vec<ExpiryCount>, StoreError> {
        on_backend!(self, store => store.expiry_counts(now, width, buckets, profiles).await)
    }

    /// How many certificates `list` with `expiring_within = within` selects at `now`,
    /// counted from the indexes alone (cheaper than [`Store::count`] for that filter).
    pub async fn expiring_count(
        &self,
        now: OffsetDateTime,
        within: time::Duration,
    ) -> Result<u64, StoreError> {
        on_backend!(self, store => store.expiring_count(now, within).await)
    }

    /// Marks the certificate revoked as `revocation` says, in one transaction with who did
    /// it, and returns the updated record. Unknown is [`StoreError::NotFound`]; revoked
    /// before is [`StoreError::AlreadyRevoked`].
    pub async fn revoke(
        &self,
        lookup: &Lookup,
        revocation: &Revocation,
    ) -> Result<CertificateRecord, StoreError> {
        on_backend!(self, store => store.revoke(lookup, revocation).await)
    }

    /// The revoked certificates of the issuing key `issuer_key_id` that have not expired by
    /// `at`, ordered by serial: the entries of its next CRL.
    pub async fn revoked_serials(
        &self,
        issuer_key_id: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<RevokedSerial>, StoreError> {
        on_backend!(self, store => store.revoked_serials(issuer_key_id, at).await)
    }

    /// The next CRL number for the issuing key `issuer_key_id`: 1, then one more each time,
    /// committed before it is returned, so numbers never repeat (RFC 5280 §5.2.3).
    pub async fn next_crl_number(&self, issuer_key_id: &str) -> Result<u64, StoreError> {
        on_backend!(self, store => store.next_crl_number(issuer_key_id).await)
    }

    /// Waits for queries in flight and records queued, then closes the connections; for
    /// SQLite this also folds the WAL back into the database file. Dropping the store
    /// without it is safe.
    pub async fn close(&self) {
        on_backend!(self, store => store.close().await)
    }
}
