use std::path::PathBuf;

use time::OffsetDateTime;

use super::{Database, Order, RevocationReason};

/// Everything that can go wrong in the certificate store.
///
/// Each variant carries the evidence (the path, the serial, the value found) and keeps the
/// database error as its `source`; [`StoreError::code`] is the stable name of the problem.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the certificate store `{database}`")]
    Open {
        database: Database,
        #[source]
        source: sqlx::Error,
    },
    #[error("`{}` is not a SQLite database; expected the certificate store", path.display())]
    NotADatabase {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "the certificate store `{database}` has schema migration {found} applied, which this \
         build does not know (it knows up to {known}); it was written by a newer mutual"
    )]
    SchemaTooNew {
        database: Database,
        found: i64,
        known: i64,
    },
    #[error(
        "the certificate store `{database}` has schema migration {version} applied in a \
         different form than this build's; the migration file was edited after it was applied"
    )]
    SchemaModified { database: Database, version: i64 },
    #[error("cannot bring the schema of the certificate store `{database}` up to date")]
    Migrate {
        database: Database,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("serial {serial} is already recorded for issuer key {issuer_key_id}")]
    DuplicateSerial {
        issuer_key_id: String,
        serial: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("a certificate with SHA-256 fingerprint {fingerprint} is already recorded")]
    DuplicateCertificate {
        fingerprint: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("`{input}` is not a serial number: expected {expected}")]
    InvalidSerial {
        input: String,
        expected: &'static str,
    },
    #[error("`{input}` is not a SHA-256 fingerprint: expected 64 hex digits, colons allowed")]
    InvalidFingerprint { input: String },
    #[error("`{input}` is not a key identifier: expected hex digits, colons allowed")]
    InvalidKeyId { input: String },
    #[error(
        "`{input}` is not a subject alternative name: expected KIND:VALUE, as in `DNS:example.com`"
    )]
    InvalidSan { input: String },
    #[error("`{input}` is not a list cursor: expected the `next` value a previous page returned")]
    InvalidCursor { input: String },
    #[error(
        "the page position was written for the `{cursor}` order, but this list is in the \
         `{query}` order: start again from the first page"
    )]
    CursorOrderMismatch { cursor: Order, query: Order },
    #[error("`{input}` is not an order: expected `expiry`, `expiry-desc`, `newest` or `subject`")]
    InvalidOrder { input: String },
    #[error(
        "`{input}` is not a revocation reason: expected one of the RFC 5280 names, \
         such as `keyCompromise` or `superseded`"
    )]
    InvalidRevocationReason { input: String },
    #[error("`{input}` is not a status: expected `valid`, `revoked` or `expired`")]
    InvalidStatus { input: String },
    #[error("no certificate with {lookup} is recorded")]
    NotFound { lookup: String },
    #[error(
        "serial {serial} is recorded under {} issuers ({}); look the certificate up by fingerprint",
        issuer_key_ids.len(),
        issuer_key_ids.join(", ")
    )]
    AmbiguousSerial {
        serial: String,
        issuer_key_ids: Vec<String>,
    },
    #[error(
        "certificate {serial} of issuer key {issuer_key_id} was already revoked at {} ({reason})",
        rfc3339(revoked_at)
    )]
    AlreadyRevoked {
        serial: String,
        issuer_key_id: String,
        revoked_at: OffsetDateTime,
        reason: RevocationReason,
    },
    #[error("certificate row {id} has an unreadable `{column}`: found {found}")]
    CorruptRow {
        id: i64,
        column: &'static str,
        found: String,
    },
    #[error("certificate row {id} has an unreadable `sans` column")]
    CorruptSans {
        id: i64,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "the certificate store already holds {certificates} certificates, {audit} audit entries \
         and {tokens} enrollment tokens; a restore goes into an empty store only"
    )]
    NotEmpty {
        certificates: i64,
        audit: i64,
        tokens: i64,
    },
    #[error("the certificate store failed while {operation}")]
    Database {
        operation: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

fn rfc3339(time: &OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time.to_string())
}

impl StoreError {
    /// True when the database could not write because its disk (or quota) is full: the
    /// environment is at fault, not the program, and nothing was committed.
    pub fn is_out_of_space(&self) -> bool {
        let source = match self {
            Self::Open { source, .. } | Self::Database { source, .. } => source,
            _ => return false,
        };
        match source {
            // SQLITE_FULL is 13; PostgreSQL's disk_full is SQLSTATE 53100.
            sqlx::Error::Database(error) => {
                matches!(error.code().as_deref(), Some("13") | Some("53100"))
            }
            sqlx::Error::Io(error) => error.kind() == std::io::ErrorKind::StorageFull,
            _ => false,
        }
    }

    /// True when the database could not be reached or lost the connection (PostgreSQL
    /// down, restarting, refusing connections; the pool timed out waiting for one): the
    /// operation did nothing, and the same call may succeed once the database is back.
    pub fn is_unavailable(&self) -> bool {
        let source = match self {
            Self::Open { source, .. } | Self::Database { source, .. } => source,
            _ => return false,
        };
        match source {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
            // SQLSTATE class 08 (connection exception), 57P01-57P03 (the server shutting
            // down or starting up).
            sqlx::Error::Database(error) => error
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
            _ => false,
        }
    }

    /// The stable snake_case name of the problem, for `--format json` and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Open { .. } => "store_open_failed",
            Self::NotADatabase { .. } => "store_not_a_database",
            Self::SchemaTooNew { .. } => "store_schema_too_new",
            Self::SchemaModified { .. } => "store_schema_modified",
            Self::Migrate { .. } => "store_migration_failed",
            Self::DuplicateSerial { .. } => "duplicate_serial",
            Self::DuplicateCertificate { .. } => "duplicate_certificate",
            Self::InvalidSerial { .. } => "invalid_serial",
            Self::InvalidFingerprint { .. } => "invalid_fingerprint",
            Self::InvalidKeyId { .. } => "invalid_key_id",
            Self::InvalidSan { .. } => "invalid_san",
            Self::InvalidCursor { .. } => "invalid_cursor",
            Self::CursorOrderMismatch { .. } => "cursor_order_mismatch",
            Self::InvalidOrder { .. } => "invalid_order",
            Self::InvalidRevocationReason { .. } => "invalid_revocation_reason",
            Self::InvalidStatus { .. } => "invalid_status",
            Self::NotFound { .. } => "certificate_not_found",
            Self::AmbiguousSerial { .. } => "ambiguous_serial",
            Self::AlreadyRevoked { .. } => "already_revoked",
            Self::CorruptRow { .. } => "store_corrupt_row",
            Self::CorruptSans { .. } => "store_corrupt_row",
            Self::NotEmpty { .. } => "store_not_empty",
            Self::Database { .. } => "store_query_failed",
        }
    }
}
