//! Every row of the store, out and back in: what `mutual backup` writes and `mutual restore`
//! reads, from either database into either. Rows keep their ids, so the links between
//! tables (a SAN's certificate, a revocation's certificate) survive the move.

use serde::{Deserialize, Serialize};

use super::{Backend, Store, StoreError, on_backend};

/// A row of `certificates`, every column as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct CertificateRow {
    pub id: i64,
    pub serial: String,
    pub issuer_key_id: String,
    pub issuer: String,
    pub subject: String,
    pub sans: String,
    pub not_before: i64,
    pub not_after: i64,
    pub profile: String,
    pub requester: Option<String>,
    pub fingerprint_sha256: String,
    pub pem: String,
    pub status: String,
    pub revoked_at: Option<i64>,
    pub revocation_reason: Option<i64>,
    pub created_at: i64,
}

/// A row of `certificate_sans`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct SanRow {
    pub certificate_id: i64,
    pub position: i64,
    pub kind: String,
    pub value: String,
}

/// A row of `revocations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct RevocationRow {
    pub certificate_id: i64,
    pub revoked_by: Option<String>,
    pub invalidity_date: Option<i64>,
}

/// A row of `crl_numbers`: the last CRL number used per issuing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct CrlNumberRow {
    pub issuer_key_id: String,
    pub last_number: i64,
}

/// A row of `audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub serial: Option<String>,
    pub subject: Option<String>,
    pub detail: String,
}

/// A row of `enrollment_tokens` (the secret only as its stored hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct TokenRow {
    pub id: String,
    pub secret_sha256: String,
    pub profile: String,
    pub subject: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub created_by: String,
    pub used_at: Option<i64>,
    pub used_serial: Option<String>,
}

/// Every row of a store, read in one transaction: a consistent snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub certificates: Vec<CertificateRow>,
    pub sans: Vec<SanRow>,
    pub revocations: Vec<RevocationRow>,
    pub crl_numbers: Vec<CrlNumberRow>,
    pub audit: Vec<AuditRow>,
    pub tokens: Vec<TokenRow>,
}

impl Snapshot {
    /// Rows per table, in the order they are restored.
    pub fn counts(&self) -> [(&'static str, usize); 6] {
        [
            ("certificates", self.certificates.len()),
            ("certificate_sans", self.sans.len()),
            ("revocations", self.revocations.len()),
            ("crl_numbers", self.crl_numbers.len()),
            ("audit", self.audit.len()),
            ("enrollment_tokens", self.tokens.len()),
        ]
    }
}

impl Store {
    /// Every row, read in one transaction (a snapshot: records committed meanwhile are
    /// either wholly in it or not at all).
    pub async fn export(&self) -> Result<Snapshot, StoreError> {
        on_backend!(self, store => store.export().await)
    }

    /// Writes `snapshot` into this store in one transaction, ids kept. Refused with
    /// [`StoreError::NotEmpty`] unless the store holds no certificate, audit entry or token:
    /// a restore never merges into a CA that is in use.
    pub async fn import(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        on_backend!(self, store => store.import(snapshot).await)
    }
}
