//! The audit trail: who issued, revoked, enrolled or renewed what, and when. Appended by
//! every path that changes the inventory (the CLI and `mutual serve`), listed by
//! `mutual audit`.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use super::{Backend, Store, StoreError, on_backend};

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A certificate issued with a key the CA generated.
    Issue,
    /// A certificate issued for a CSR.
    Sign,
    Revoke,
    /// A certificate issued against a one-time enrollment token.
    Enroll,
    /// A certificate issued to the holder of a current one, for the same identity.
    Renew,
    /// An enrollment token created.
    Token,
}

impl AuditAction {
    pub const ALL: [Self; 6] = [
        Self::Issue,
        Self::Sign,
        Self::Revoke,
        Self::Enroll,
        Self::Renew,
        Self::Token,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::Sign => "sign",
            Self::Revoke => "revoke",
            Self::Enroll => "enroll",
            Self::Renew => "renew",
            Self::Token => "token",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|action| action.as_str() == s)
            .ok_or_else(|| StoreError::CorruptRow {
                id: 0,
                column: "audit.action",
                found: s.to_owned(),
            })
    }
}

/// One entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at: OffsetDateTime,
    /// `admin:<sha256 fingerprint>`, `token:<id>`, `cert:<sha256 fingerprint>` (a holder
    /// renewing its own certificate) or `local:<user>`.
    pub actor: String,
    pub action: AuditAction,
    pub serial: Option<String>,
    pub subject: Option<String>,
    /// Free text: the profile, the revocation reason, the token's subject.
    pub detail: String,
}

/// The audit entry that goes with a certificate being recorded: [`NewCertificate::audit`].
/// Its row takes the certificate's serial, subject and recording time, and is committed in
/// the certificate's own transaction, so an issuance is recorded with its audit row or not
/// at all.
///
/// [`NewCertificate::audit`]: super::NewCertificate::audit
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditNote {
    /// As [`NewAuditEntry::actor`].
    pub actor: String,
    pub action: AuditAction,
    /// As [`NewAuditEntry::detail`].
    pub detail: String,
}

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    #[serde(serialize_with = "action_name")]
    pub action: AuditAction,
    pub serial: Option<String>,
    pub subject: Option<String>,
    pub detail: String,
}

fn action_name<S: serde::Serializer>(action: &AuditAction, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(action.as_str())
}

/// Which entries to list: newest first, `limit` of them, before entry `before` if set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditQuery {
    pub action: Option<AuditAction>,
    pub since: Option<OffsetDateTime>,
    pub before: Option<i64>,
    pub limit: u32,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            action: None,
            since: None,
            before: None,
            limit: 100,
        }
    }
}

impl Store {
    /// Appends `entry` to the audit trail (committed when this returns).
    pub async fn audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        on_backend!(self, store => store.audit(entry).await)
    }

    /// The audit entries `query` selects, newest first.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        on_backend!(self, store => store.audit_log(query).await)
    }

    /// The entries about the certificate with this serial (as stored: upper-case hex),
    /// newest first, as [`Store::audit_log`] filters them. The audit table has no index on
    /// the serial: this reads it from the newest entry back until `query.limit` are found.
    pub async fn audit_of_serial(
        &self,
        serial: &str,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        on_backend!(self, store => store.audit_entries(query, Some(serial)).await)
    }
}
