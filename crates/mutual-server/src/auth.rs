//! Who is calling: the client certificate of the HTTPS connection, judged with the same
//! verifier as `mutual verify` (purpose client, anchored at this CA's root), then looked
//! up in the inventory — a certificate the CA issued, not revoked, from the right profile.
//!
//! A caller without the right certificate gets 401 (none, or one that does not verify:
//! the diagnosis codes say why) or 403 (a valid certificate that may not do this: another
//! profile, revoked, unknown to the inventory), each with the certificate expected.
//!
//! A connection remembers its certificate's inventory record once found valid, and uses it
//! again while the [`RevocationEpoch`] is unchanged: the first request on a connection
//! looks the certificate up, the next ones on the same connection do not (the lookup was a
//! round trip to a store thread per request, a tenth of a `POST /sign`'s CPU). The
//! service's own revocations change the epoch at once; one made by another process on the
//! same store (`mutual revoke`) is noticed within [`EPOCH_CHECK`], as by the OCSP
//! responder. A new connection always looks its certificate up.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use mutual_ca::ocsp::EPOCH_CHECK;
use mutual_ca::profile::ProfileKind;
use mutual_ca::store::{CertificateRecord, Lookup, Status, Store};
use mutual_verify::{Policy, Purpose, Verifier};
use time::OffsetDateTime;
use tokio::sync::OnceCell;

use crate::error::{ApiError, Detail};
use crate::state::AppState;

/// The client side of one HTTPS connection, shared by its requests: the chain it sent and,
/// once asked, the verifier's judgement of it (a connection's chain does not change).
#[derive(Clone)]
pub(crate) struct Peer(Arc<PeerInner>);

struct PeerInner {
    chain: Option<Vec<Vec<u8>>>,
    judgement: OnceCell<Judgement>,
    /// The inventory's record of the certificate, found valid (not revoked) at the epoch
    /// noted beside it.
    known: Mutex<Option<(u64, Arc<CertificateRecord>)>>,
}

#[derive(Clone)]
enum Judgement {
    Valid {
        fingerprint: String,
        not_after: OffsetDateTime,
    },
    Invalid(Vec<Detail>),
}

impl Peer {
    pub(crate) fn new(chain: Option<Vec<Vec<u8>>>) -> Self {
        Self(Arc::new(PeerInner {
            chain: chain.filter(|c| !c.is_empty()),
            judgement: OnceCell::new(),
            known: Mutex::new(None),
        }))
    }

    /// The record remembered for this connection, if it was found at `epoch`.
    fn known(&self, epoch: u64) -> Option<Arc<CertificateRecord>> {
        let known = self.0.known.lock().ok()?;
        known
            .as_ref()
            .filter(|(at, _)| *at == epoch)
            .map(|(_, record)| Arc::clone(record))
    }

    fn remember(&self, epoch: u64, record: Arc<CertificateRecord>) {
        if let Ok(mut known) = self.0.known.lock() {
            *known = Some((epoch, record));
        }
    }
}

/// A number that changes whenever a certificate may have been revoked since it was last
/// read: at once for the service's own revocations ([`RevocationEpoch::revoked`]), and
/// for any other when the store's count of revocations, read at most every
/// [`EPOCH_CHECK`], has changed.
#[derive(Debug, Default)]
pub(crate) struct RevocationEpoch(Mutex<EpochState>);

#[derive(Debug, Default)]
struct EpochState {
    generation: u64,
    revocations: Option<u64>,
    checked: Option<Instant>,
}

impl RevocationEpoch {
    /// Called after the service revokes a certificate (once the revocation is committed).
    pub(crate) fn revoked(&self) {
        if let Ok(mut state) = self.0.lock() {
            state.generation += 1;
            state.checked = None;
        }
    }

    /// The current epoch, or `None` when it cannot be told (the store could not be read):
    /// then nothing remembered is trusted.
    async fn current(&self, store: &Store) -> Option<u64> {
        {
            let state = self.0.lock().ok()?;
            if state.checked.is_some_and(|at| at.elapsed() < EPOCH_CHECK) {
                return Some(state.generation);
            }
        }
        let count = store.revocations_ever().await.ok()?;
        let mut state = self.0.lock().ok()?;
        if state.revocations != Some(count) {
            state.revocations = Some(count);
            state.generation += 1;
        }
        state.checked = Some(Instant::now());
        Some(state.generation)
    }
}

/// A caller holding a valid, unrevoked certificate this CA issued.
pub(crate) struct Holder {
    pub(crate) record: Arc<CertificateRecord>,
}

impl Holder {
    /// How the audit trail names this caller.
    pub(crate) fn actor(&self) -> String {
        let prefix = if self.record.profile == ProfileKind::Admin.as_str() {
            "admin"
        } else {
            "cert"
        };
        format!(
            "{prefix}:{}",
            self.record.fingerprint_sha256.replace(':', "")
        )
    }
}

/// A caller holding a valid, unrevoked certificate from the `admin` profile.
pub(crate) struct Admin(pub(crate) Holder);

impl Admin {
    pub(crate) fn actor(&self) -> String {
        self.0.actor()
    }
}

fn expected_admin(state: &AppState) -> String {
    format!(
        "a client certificate from the `admin` profile, issued by {} (e.g. the admin.p12 `mutual serve` wrote)",
        state.client_ca.subject
    )
}

impl FromRequestParts<Arc<AppState>> for Holder {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let expected = format!(
            "a current client certificate issued by {}",
            state.client_ca.subject
        );
        holder(parts, state, &expected).await
    }
}

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let expected = expected_admin(state);
        let holder = holder(parts, state, &expected).await?;
        if holder.record.profile != ProfileKind::Admin.as_str() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "wrong_profile",
                format!(
                    "the client certificate {} (serial {}) is from the `{}` profile; administrative calls need one from the `admin` profile",
                    holder.record.subject, holder.record.serial, holder.record.profile
                ),
            )
            .expected(expected));
        }
        Ok(Admin(holder))
    }
}

async fn holder(parts: &Parts, state: &AppState, expected: &str) -> Result<Holder, ApiError> {
    let unauthorized = |error, message: String| {
        ApiError::new(StatusCode::UNAUTHORIZED, error, message).expected(expected.to_owned())
    };
    let Some(peer) = parts.extensions.get::<Peer>() else {
        return Err(unauthorized(
            "https_required",
            "this call is authenticated with a client certificate, which needs the HTTPS listener"
                .to_owned(),
        ));
    };
    let Some(chain) = &peer.0.chain else {
        return Err(unauthorized(
            "client_certificate_required",
            "no client certificate was presented in the TLS handshake".to_owned(),
        ));
    };
    let now = OffsetDateTime::now_utc();
    let judgement = peer
        .0
        .judgement
        .get_or_init(|| async { judge(chain, state, now) })
        .await
        .clone();
    let (fingerprint, not_after) = match judgement {
        Judgement::Valid {
            fingerprint,
            not_after,
        } => (fingerprint, not_after),
        Judgement::Invalid(details) => {
            let codes: Vec<&str> = details.iter().map(|d| d.code.as_str()).collect();
            let message = format!(
                "the client certificate does not verify as a client certificate of this CA: {}",
                codes.join(", ")
            );
            return Err(unauthorized("client_certificate_invalid", message).with_details(details));
        }
    };
    // Judged once per connection; a long-lived connection must not outlive the certificate.
    if not_after < now {
        return Err(unauthorized(
            "client_certificate_invalid",
            format!("the client certificate expired at {not_after}"),
        ));
    }
    // Read before the lookup: a revocation committed after this read changes the epoch,
    // so a record found valid is never remembered past it.
    let epoch = state.revocations.current(&state.store).await;
    if let Some(record) = epoch.and_then(|epoch| peer.known(epoch)) {
        return Ok(Holder { record });
    }
    let record = state
        .store
        .find(&Lookup::Fingerprint(fingerprint.clone()))
        .await
        .map_err(|e| ApiError::internal("looking the client certificate up", &e))?;
    let forbidden = |error, message: String| {
        ApiError::new(StatusCode::FORBIDDEN, error, message).expected(expected.to_owned())
    };
    let Some(record) = record else {
        return Err(forbidden(
            "unknown_certificate",
            format!(
                "the client certificate (SHA-256 {fingerprint}) chains to this CA but is not in its inventory"
            ),
        ));
    };
    if record.status == Status::Revoked {
        return Err(forbidden(
            "certificate_revoked",
            format!(
                "the client certificate {} (serial {}) was revoked{}",
                record.subject,
                record.serial,
                record
                    .revoked_at
                    .map(|at| format!(" at {at}"))
                    .unwrap_or_default()
            ),
        ));
    }
    let record = Arc::new(record);
    if let Some(epoch) = epoch {
        peer.remember(epoch, Arc::clone(&record));
    }
    Ok(Holder { record })
}

fn judge(chain: &[Vec<u8>], state: &AppState, now: OffsetDateTime) -> Judgement {
    let invalid = |code: &str, message: String| {
        Judgement::Invalid(vec![Detail {
            code: code.to_owned(),
            message,
        }])
    };
    let mut decoded = Vec::with_capacity(chain.len());
    for der in chain {
        match mutual_x509::Certificate::from_der(der, now) {
            Ok(certificate) => decoded.push(certificate),
            Err(e) => return invalid("malformed_certificate", e.to_string()),
        }
    }
    let leaf = decoded.remove(0);
    let verifier = match Verifier::new(vec![state.root.clone()], Policy::new(Purpose::Client, now))
    {
        Ok(verifier) => verifier.with_pool(state.intermediates.clone()),
        Err(e) => return invalid("internal_error", e.to_string()),
    };
    let verdict = verifier.verify(&leaf, &decoded);
    if verdict.valid {
        Judgement::Valid {
            fingerprint: leaf.fingerprints.sha256.clone(),
            not_after: leaf.validity.not_after,
        }
    } else {
        Judgement::Invalid(
            verdict
                .errors
                .iter()
                .map(|d| Detail {
                    code: d.code.to_owned(),
                    message: d.message.clone(),
                })
                .collect(),
        )
    }
}
