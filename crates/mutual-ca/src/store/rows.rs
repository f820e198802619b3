//! What both databases share below the SQL: the statements written once for both dialects
//! (`$n` placeholders, integer Unix times, `RETURNING`, row-value comparison), the rows as
//! stored and their decoding into typed records, and how a database error is told apart.

use time::OffsetDateTime;

use super::StoreError;
use super::identifier::{self, IndexedSan};
use super::model::{CertificateRecord, NewCertificate, RevocationReason, RevokedSerial, Status};
use super::tokens::TokenRecord;
use crate::profile::ProfileKind;

/// The columns of a [`RawRecord`], as a macro so queries are `concat!`ed at compile time.
macro_rules! columns {
    () => {
        "id, serial, issuer_key_id, issuer, subject, sans, not_before, not_after, profile, \
         requester, fingerprint_sha256, pem, status, revoked_at, revocation_reason, created_at"
    };
}
pub(super) use columns;

macro_rules! token_columns {
    () => {
        "id, profile, subject, created_at, expires_at, created_by, used_at, used_serial, secret_sha256"
    };
}
pub(super) use token_columns;

// The lookups, each served by an index (`sqlite::tests::lookups_use_their_index` and
// `postgres::tests::lookups_use_their_index` hold them to it). The fingerprint lookup is
// each backend's own: it spells its index's expression.

/// A serial alone: the prefix of `certificates_serial_issuer`.
pub(super) const FIND_BY_SERIAL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM certificates WHERE serial = $1 ORDER BY id"
);
pub(super) const FIND_BY_ISSUER_SERIAL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM certificates WHERE issuer_key_id = $1 AND serial = $2"
);
/// `status = 'revoked'` spelled out lets the database use the partial index over revoked rows.
pub(super) const REVOKED_SERIALS: &str = "SELECT c.id, c.serial, c.revoked_at, c.revocation_reason, \
     r.invalidity_date, c.not_after FROM certificates c \
     LEFT JOIN revocations r ON r.certificate_id = c.id \
     WHERE c.issuer_key_id = $1 AND c.status = 'revoked' AND c.not_after >= $2 \
     ORDER BY c.serial";

/// Valid certificates whose `not_after` falls in [$1, $2]: every certificate in the range
/// less the revoked ones, two index-only counts (`certificates_not_after`, and the partial
/// index over revoked rows). Asking for `status = 'valid'` directly reads each row in the
/// range from the table, since migration 0003 left no index over the status of valid
/// rows: 50 ms instead of 1 ms for 25,000 certificates in range (sqlite3, 100,000 rows).
pub(super) const EXPIRING: &str = "SELECT \
     (SELECT COUNT(*) FROM certificates WHERE not_after >= $1 AND not_after <= $2) \
     - (SELECT COUNT(*) FROM certificates WHERE status = 'revoked' \
        AND not_after >= $1 AND not_after <= $2)";

/// Revoked certificates of each profile with `not_after` in [$1, $3), per period of $2
/// seconds from $1: what `expiry_counts` takes off its counts of every certificate.
pub(super) const REVOKED_EXPIRY_COUNTS: &str = "SELECT profile, (not_after - $1) / $2 AS bucket, \
     COUNT(*) FROM certificates WHERE status = 'revoked' AND not_after >= $1 AND not_after < $3 \
     GROUP BY profile, bucket";

/// Redemptions retried when the row changed between the guarded UPDATE and the read that
/// explains its failure (a claim given back in between): rare, and bounded.
pub(super) const REDEEM_ATTEMPTS: u32 = 3;

pub(super) fn database(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { operation, source }
}

/// Tells which unique index refused the row: PostgreSQL names the constraint, SQLite only
/// names the columns in its message.
pub(super) fn insert_error(
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

pub(super) fn already_revoked(record: CertificateRecord) -> StoreError {
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
pub(super) struct RawRecord {
    pub(super) id: i64,
    pub(super) serial: String,
    pub(super) issuer_key_id: String,
    pub(super) issuer: String,
    pub(super) subject: String,
    pub(super) sans: String,
    pub(super) not_before: i64,
    pub(super) not_after: i64,
    pub(super) profile: String,
    pub(super) requester: Option<String>,
    pub(super) fingerprint_sha256: String,
    pub(super) pem: String,
    pub(super) status: String,
    pub(super) revoked_at: Option<i64>,
    pub(super) revocation_reason: Option<i64>,
    pub(super) created_at: i64,
}

impl RawRecord {
    pub(super) fn decode(self) -> Result<CertificateRecord, StoreError> {
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

/// A row of [`REVOKED_SERIALS`].
pub(super) type RevokedRow = (i64, String, i64, i64, Option<i64>, i64);

pub(super) fn decode_revoked(row: RevokedRow) -> Result<RevokedSerial, StoreError> {
    let (id, serial, revoked_at, reason, invalid_since, not_after) = row;
    let corrupt = |column, found: String| StoreError::CorruptRow { id, column, found };
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
}

#[derive(sqlx::FromRow)]
pub(super) struct RawToken {
    id: String,
    profile: String,
    subject: String,
    created_at: i64,
    expires_at: i64,
    created_by: String,
    used_at: Option<i64>,
    used_serial: Option<String>,
    secret_sha256: String,
}

impl RawToken {
    /// The record, and the stored hash kept apart so it never leaves the store module.
    pub(super) fn decode(self) -> Result<(TokenRecord, String), StoreError> {
        let corrupt = |column, found: String| StoreError::CorruptRow {
            id: 0,
            column,
            found,
        };
        let time = |column, seconds: i64| {
            OffsetDateTime::from_unix_timestamp(seconds)
                .map_err(|_| corrupt(column, seconds.to_string()))
        };
        let profile: ProfileKind = self
            .profile
            .parse()
            .map_err(|_| corrupt("enrollment_tokens.profile", self.profile.clone()))?;
        Ok((
            TokenRecord {
                profile,
                created_at: time("enrollment_tokens.created_at", self.created_at)?,
                expires_at: time("enrollment_tokens.expires_at", self.expires_at)?,
                used_at: self
                    .used_at
                    .map(|at| time("enrollment_tokens.used_at", at))
                    .transpose()?,
                id: self.id,
                subject: self.subject,
                created_by: self.created_by,
                used_serial: self.used_serial,
            },
            self.secret_sha256,
        ))
    }
}

/// A certificate to record, already normalised and with its columns computed.
#[derive(Debug)]
pub(super) struct NewRow {
    pub(super) serial: String,
    pub(super) issuer_key_id: String,
    pub(super) fingerprint: String,
    pub(super) indexed_sans: Vec<IndexedSan>,
    pub(super) sans_json: String,
    pub(super) created_at: i64,
    /// What the subject search and order use: see [`identifier::subject_key`].
    pub(super) subject_key: String,
    pub(super) new: NewCertificate,
}

impl NewRow {
    pub(super) fn prepare(new: &NewCertificate) -> Result<NewRow, StoreError> {
        Ok(NewRow {
            serial: identifier::serial(&new.serial)?,
            issuer_key_id: identifier::key_id(&new.issuer_key_id)?,
            fingerprint: identifier::fingerprint(&new.fingerprint_sha256)?,
            indexed_sans: new
                .sans
                .iter()
                .map(|san| identifier::indexed_san(san))
                .collect::<Result<Vec<_>, _>>()?,
            sans_json: serde_json::Value::from(new.sans.clone()).to_string(),
            created_at: OffsetDateTime::now_utc().unix_timestamp(),
            subject_key: identifier::subject_key(&new.subject),
            new: new.clone(),
        })
    }

    /// The record as stored under row `id`.
    pub(super) fn into_record(self, id: i64) -> Result<CertificateRecord, StoreError> {
        let NewRow {
            serial,
            issuer_key_id,
            fingerprint,
            sans_json,
            created_at,
            new,
            ..
        } = self;
        RawRecord {
            id,
            serial,
            issuer_key_id,
            issuer: new.issuer,
            subject: new.subject,
            sans: sans_json,
            not_before: new.not_before.unix_timestamp(),
            not_after: new.not_after.unix_timestamp(),
            profile: new.profile,
            requester: new.requester,
            fingerprint_sha256: fingerprint,
            pem: new.pem,
            status: Status::Valid.as_str().to_owned(),
            revoked_at: None,
            revocation_reason: None,
            created_at,
        }
        .decode()
    }

    pub(super) fn refused(&self, source: sqlx::Error) -> StoreError {
        insert_error(source, &self.serial, &self.issuer_key_id, &self.fingerprint)
    }
}
