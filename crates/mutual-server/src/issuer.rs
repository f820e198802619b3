//! Issuing from inside the service: a request through the profile's plan, signed, linted
//! and recorded by `mutual-ca`, with the service's own needs (its TLS certificate, OCSP
//! signers, `admin.p12`, `POST /issue`) sharing one path.

use mutual_ca::issuance::{Issued, IssuingCa, Refusal, Request, SubjectAltName, issue, plan};
use mutual_ca::key::{KeyType, SubjectKey};
use mutual_ca::profile::{ProfileKind, Profiles};
use mutual_ca::store::{AuditNote, Store};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Why an issuance did not happen.
#[derive(Debug)]
pub(crate) enum IssueFailure {
    /// The request broke the profile: the requester's to fix.
    Refused(Vec<Refusal>),
    /// Anything else (lint gate included: that is the CA's fault, not the requester's).
    Failed(mutual_ca::issuance::IssueError),
    Key(mutual_ca::key::KeyError),
}

/// What a new key and certificate come to.
pub(crate) struct WithKey {
    pub(crate) issued: Issued,
    pub(crate) key: SubjectKey,
}

impl WithKey {
    pub(crate) fn key_pem(&self) -> Result<Zeroizing<String>, mutual_ca::key::KeyError> {
        self.key.unencrypted_pem()
    }
}

pub(crate) struct Order<'a> {
    pub(crate) profile: ProfileKind,
    pub(crate) common_name: String,
    pub(crate) sans: Vec<SubjectAltName>,
    pub(crate) days: Option<u32>,
    pub(crate) key_type: KeyType,
    pub(crate) requester: String,
    pub(crate) ca: &'a IssuingCa,
    /// The audit entry committed with the certificate; `None` for the service's own
    /// certificates (its TLS certificate, OCSP signers, `admin.p12`).
    pub(crate) audit: Option<AuditNote>,
}

/// Generates a key of `order.key_type` and issues a certificate for it.
pub(crate) async fn issue_with_new_key(
    order: Order<'_>,
    profiles: &Profiles,
    store: &Store,
    now: OffsetDateTime,
) -> Result<WithKey, IssueFailure> {
    let request = Request {
        profile: order.profile,
        common_name: order.common_name,
        sans: order.sans,
        days: order.days,
        key_type: order.key_type,
        requester: Some(order.requester),
    };
    let mut plan = plan(&request, profiles.get(order.profile), order.ca, now)
        .map_err(IssueFailure::Refused)?;
    if let Some(note) = order.audit {
        plan = plan.audited(note);
    }
    let key = order
        .key_type
        .generate_subject()
        .map_err(IssueFailure::Key)?;
    let issued = issue(plan, &key, order.ca, store, now)
        .await
        .map_err(IssueFailure::Failed)?;
    Ok(WithKey { issued, key })
}

impl std::fmt::Display for IssueFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IssueFailure::Refused(refusals) => {
                let reasons: Vec<String> = refusals
                    .iter()
                    .map(|r| format!("[{}] {r}", r.code()))
                    .collect();
                write!(f, "refused: {}", reasons.join("; "))
            }
            IssueFailure::Failed(e) => f.write_str(&crate::error::with_causes(e)),
            IssueFailure::Key(e) => f.write_str(&crate::error::with_causes(e)),
        }
    }
}

/// A random secret for a password file or a token: `bytes` random bytes, base64url.
pub(crate) fn random_secret(bytes: usize) -> Option<Zeroizing<String>> {
    use base64::Engine;
    let mut buffer = Zeroizing::new(vec![0u8; bytes]);
    aws_lc_rs::rand::fill(&mut buffer).ok()?;
    Some(Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer.as_slice()),
    ))
}
