//! The OCSP responder (RFC 6960) for one CA: answers "good", "revoked" (time, reason) or
//! "unknown" about the certificates the store says that CA issued, signed by a delegated
//! responder certificate (EKU OCSPSigning, id-pkix-ocsp-nocheck) that the CA issued.
//!
//! Answers to requests without a nonce are pre-signed and cached until shortly before
//! their nextUpdate, so such a request costs a map lookup, not a signature nor a store
//! query: the cache is trusted while the store's count of revocations is unchanged, which
//! is checked at most every [`EPOCH_CHECK`] (and at once after [`Responder::revoked`], which
//! the service calls when it revokes). A revocation made by another process is answered
//! within that second; a request
//! with a nonce gets a fresh signature with the nonce echoed. A request that does not
//! parse gets `malformedRequest`; one about another CA, `unauthorized`.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::digest;
use der_07::asn1::{BitString, GeneralizedTime, Null, ObjectIdentifier, OctetString};
use der_07::{Decode, Encode};
use rcgen::{KeyPair, SigningKey};
use time::{Duration, OffsetDateTime};
use x509_cert_02::Certificate as Cert;
use x509_cert_02::ext::pkix::CrlReason;
use x509_cert_02::spki::AlgorithmIdentifierOwned;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    OcspResponseStatus, ResponderId, ResponseBytes, ResponseData, RevokedInfo, SingleResponse,
    Version,
};

use crate::store::{Lookup, RevocationReason, Status, Store};

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
const BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// More than this in one request is not a relying party's question.
const MAX_QUESTIONS: usize = 16;
/// How stale the responder's view of revocations made elsewhere may be.
pub const EPOCH_CHECK: std::time::Duration = std::time::Duration::from_secs(1);
/// A cached answer is re-signed once this much of its life is left.
const REFRESH_MARGIN: Duration = Duration::minutes(10);

#[derive(Debug, thiserror::Error)]
pub enum ResponderError {
    #[error("the {what} certificate does not decode: {detail}")]
    Certificate { what: &'static str, detail: String },
    #[error("the responder key's algorithm is not one OCSP responses are signed with here")]
    Algorithm,
}

/// What the store says about one certificate, as the cache remembers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Good,
    Revoked {
        at: OffsetDateTime,
        reason: RevocationReason,
    },
    Unknown,
}

struct Cached {
    known: Known,
    next_update: OffsetDateTime,
    response: Vec<u8>,
}

/// Answers OCSP requests about the certificates one CA issued.
pub struct Responder {
    /// The store's issuer id of the CA (hex of its subject key identifier).
    ca_key_id: String,
    /// SHA-1 and SHA-256 of the CA's name and key, as CertIDs carry them.
    ca_hashes: [(ObjectIdentifier, Vec<u8>, Vec<u8>); 2],
    signer: Cert,
    signer_key: KeyPair,
    signer_key_hash: Vec<u8>,
    algorithm: AlgorithmIdentifierOwned,
    lifetime: Duration,
    /// How long a confirmed revocation count is trusted: the bound on how late this
    /// responder learns of a revocation made elsewhere (another node, `mutual revoke`).
    refresh: std::time::Duration,
    cache: Mutex<HashMap<String, Cached>>,
    epoch: Mutex<EpochState>,
}

/// What the store's count of revocations says about the cache.
enum Epoch {
    /// As when the cache was last confirmed: cached answers stand.
    Unchanged,
    /// Revocations happened (the cache was dropped), or it could not be told.
    Changed,
    /// The store did not answer in time: an outage.
    Unreachable,
}

/// How long an OCSP answer waits for the store when an answer signed before can stand in
/// for it (until that answer's nextUpdate): a store this slow is treated as down.
const STORE_WAIT: std::time::Duration = std::time::Duration::from_millis(500);
/// How long it waits when nothing can stand in, before it says `tryLater`: that helps no
/// relying party, and a store that is merely slow (a saturated machine, a lock, a database
/// failing over) answers within seconds. Relying parties wait longer than this: the
/// gateway 5 s, Firefox 10 s when it fails hard.
const STORE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// How long one OCSP answer may still wait for the store: the waits of its queries add up
/// to no more than [`STORE_PATIENCE`].
#[derive(Debug, Clone, Copy)]
struct Patience {
    deadline: std::time::Instant,
}

impl Patience {
    fn from_now() -> Patience {
        Patience {
            deadline: std::time::Instant::now() + STORE_PATIENCE,
        }
    }

    /// How long the next query may take: [`STORE_WAIT`] at most when a signed answer can
    /// stand in for the store's, the rest of the patience otherwise.
    fn wait(&self, stand_in: bool) -> std::time::Duration {
        let left = self
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        if stand_in { left.min(STORE_WAIT) } else { left }
    }
}

/// The store's count of revocations when last looked, and when that was.
#[derive(Debug, Clone, Copy)]
struct EpochState {
    revocations: Option<u64>,
    checked: Option<std::time::Instant>,
    /// Bumped each time the cache is dropped: an answer looked up before a drop must not
    /// be cached after it.
    generation: u64,
}

impl Responder {
    /// A responder for the CA whose certificate is `ca_der` (store issuer id `ca_key_id`),
    /// signing with `signer_key` and presenting `signer_der`, a certificate that CA issued
    /// with EKU OCSPSigning; answers are good for `lifetime`.
    pub fn new(
        ca_der: &[u8],
        ca_key_id: &str,
        signer_der: &[u8],
        signer_key: KeyPair,
        lifetime: Duration,
    ) -> Result<Self, ResponderError> {
        let ca = Cert::from_der(ca_der).map_err(|e| ResponderError::Certificate {
            what: "CA",
            detail: e.to_string(),
        })?;
        let signer = Cert::from_der(signer_der).map_err(|e| ResponderError::Certificate {
            what: "OCSP signer",
            detail: e.to_string(),
        })?;
        let name =
            ca.tbs_certificate
                .subject
                .to_der()
                .map_err(|e| ResponderError::Certificate {
                    what: "CA",
                    detail: e.to_string(),
                })?;
        let key = ca
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes()
            .to_vec();
        let hash = |algorithm: &'static digest::Algorithm, bytes: &[u8]| {
            digest::digest(algorithm, bytes).as_ref().to_vec()
        };
        let ca_hashes = [
            (
                SHA1,
                hash(&digest::SHA1_FOR_LEGACY_USE_ONLY, &name),
                hash(&digest::SHA1_FOR_LEGACY_USE_ONLY, &key),
            ),
            (
                SHA256,
                hash(&digest::SHA256, &name),
                hash(&digest::SHA256, &key),
            ),
        ];
        let signer_key_hash = hash(
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            signer
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes(),
        );
        let algorithm = signature_algorithm(&signer_key)?;
        Ok(Self {
            ca_key_id: ca_key_id.replace(':', "").to_uppercase(),
            ca_hashes,
            signer,
            signer_key,
            signer_key_hash,
            algorithm,
            lifetime,
            refresh: EPOCH_CHECK,
            cache: Mutex::new(HashMap::new()),
            epoch: Mutex::new(EpochState {
                revocations: None,
                checked: None,
                generation: 0,
            }),
        })
    }

    /// Looks at the store's revocation count at most every `refresh` instead of
    /// [`EPOCH_CHECK`] (`[ocsp] revocation_refresh_ms` in mutual.toml).
    pub fn with_revocation_refresh(mut self, refresh: std::time::Duration) -> Self {
        self.refresh = refresh;
        self
    }

    /// The DER OCSPResponse to `request` at `now`: never an error, since a relying party
    /// must always get an OCSP answer (`malformedRequest`, `unauthorized`, `internalError`
    /// when nothing better can be said).
    pub async fn respond(&self, request: &[u8], store: &Store, now: OffsetDateTime) -> Vec<u8> {
        let Ok(request) = OcspRequest::from_der(request) else {
            return status_only(OcspResponseStatus::MalformedRequest);
        };
        self.answer(&request, store, now).await
    }

    async fn answer(&self, request: &OcspRequest, store: &Store, now: OffsetDateTime) -> Vec<u8> {
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let patience = Patience::from_now();
        let questions = &request.tbs_request.request_list;
        if questions.is_empty() || questions.len() > MAX_QUESTIONS {
            return status_only(OcspResponseStatus::MalformedRequest);
        }
        let nonce = request
            .tbs_request
            .request_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == NONCE)
            .cloned();

        // The common case, one question and no nonce, comes from the cache without a
        // store query while no revocation has happened since it was cached.
        if let ([question], None) = (questions.as_slice(), &nonce)
            && self.speaks_for(&question.req_cert)
        {
            let serial = hex_upper(question.req_cert.serial_number.as_bytes());
            let key = format!("{}/{serial}", question.req_cert.hash_algorithm.oid);
            // Whether a signed answer can stand in is only asked when the store is.
            let wait = || patience.wait(self.can_stand_in(&key, now));
            match self.epoch(store, wait).await {
                Epoch::Unchanged => {
                    if let Some(cached) = self.cached_any(&key, now) {
                        return cached;
                    }
                }
                Epoch::Changed => {}
                // Not worth a lookup that would wait for the store too: see below.
                Epoch::Unreachable => {
                    return self
                        .cached_until_next_update(&key, now)
                        .unwrap_or_else(|| status_only(OcspResponseStatus::TryLater));
                }
            }
        }

        let generation = self.generation();
        let mut answers = Vec::with_capacity(questions.len());
        for question in questions {
            if !self.speaks_for(&question.req_cert) {
                return status_only(OcspResponseStatus::Unauthorized);
            }
            let serial = hex_upper(question.req_cert.serial_number.as_bytes());
            let lookup = Lookup::IssuerSerial {
                issuer_key_id: self.ca_key_id.clone(),
                serial: serial.clone(),
            };
            // Keyed by the CertID's hash algorithm too: the answer echoes the CertID as asked.
            let key = format!("{}/{serial}", question.req_cert.hash_algorithm.oid);
            // A response signed before is still true until its nextUpdate (RFC 6960 §2.4
            // lets relying parties rely on it that long), so the cache keeps answering
            // through an outage; past it, or for what was never asked, `tryLater`.
            let single = matches!((questions.as_slice(), &nonce), ([_], None));
            let stand_in = single && self.can_stand_in(&key, now);
            let found = tokio::time::timeout(patience.wait(stand_in), store.find(&lookup)).await;
            let known = match found {
                Ok(Ok(Some(record))) => {
                    match (record.status, record.revoked_at, record.revocation_reason) {
                        (Status::Revoked, Some(at), Some(reason)) => Known::Revoked { at, reason },
                        _ => Known::Good,
                    }
                }
                Ok(Ok(None)) => Known::Unknown,
                Ok(Err(_)) | Err(_) => {
                    return stand_in
                        .then(|| self.cached_until_next_update(&key, now))
                        .flatten()
                        .unwrap_or_else(|| status_only(OcspResponseStatus::TryLater));
                }
            };
            answers.push((question.req_cert.clone(), key, known));
        }

        // The common case, one question and no nonce, comes from the cache.
        if let ([(_, serial, known)], None) = (answers.as_slice(), &nonce)
            && let Some(cached) = self.cached(serial, *known, now)
        {
            return cached;
        }
        let next_update = now + self.lifetime;
        let cacheable = nonce.is_none();
        let response = match self.sign(&answers, nonce, now, next_update) {
            Some(response) => response,
            None => return status_only(OcspResponseStatus::InternalError),
        };
        if let ([(_, serial, known)], true) = (answers.as_slice(), cacheable)
            && generation.is_some()
            && self.generation() == generation
            && let Ok(mut cache) = self.cache.lock()
        {
            cache.insert(
                serial.clone(),
                Cached {
                    known: *known,
                    next_update,
                    response: response.clone(),
                },
            );
        }
        response
    }

    /// The answer to `request` from whichever of `responders` speaks for the CA its first
    /// question names: a CA service answers for several CAs on one URL. A request about
    /// none of them is `unauthorized`; one that does not parse, `malformedRequest`.
    pub async fn respond_any(
        responders: &[Responder],
        request: &[u8],
        store: &Store,
        now: OffsetDateTime,
    ) -> Vec<u8> {
        let Ok(parsed) = OcspRequest::from_der(request) else {
            return status_only(OcspResponseStatus::MalformedRequest);
        };
        let Some(first) = parsed.tbs_request.request_list.first() else {
            return status_only(OcspResponseStatus::MalformedRequest);
        };
        match responders.iter().find(|r| r.speaks_for(&first.req_cert)) {
            Some(responder) => responder.answer(&parsed, store, now).await,
            None => status_only(OcspResponseStatus::Unauthorized),
        }
    }

    /// Tells the responder a certificate was just revoked, so its next request checks the
    /// store rather than trusting the cache for up to [`EPOCH_CHECK`].
    pub fn revoked(&self) {
        if let Ok(mut epoch) = self.epoch.lock() {
            epoch.checked = None;
        }
    }

    /// Whether the store's count of revocations is what it was when the cache was last
    /// confirmed (looking at most every [`EPOCH_CHECK`]); when it changed, the cache is
    /// dropped. A store that does not answer within `wait()` is `Unreachable`.
    async fn epoch(&self, store: &Store, wait: impl FnOnce() -> std::time::Duration) -> Epoch {
        let due = match self.epoch.lock() {
            Ok(epoch) => match epoch.checked {
                Some(at) if at.elapsed() < self.refresh => {
                    return if epoch.revocations.is_some() {
                        Epoch::Unchanged
                    } else {
                        Epoch::Changed
                    };
                }
                _ => true,
            },
            Err(_) => return Epoch::Changed,
        };
        if !due {
            return Epoch::Changed;
        }
        let Ok(Ok(count)) = tokio::time::timeout(wait(), store.revocations_ever()).await else {
            return Epoch::Unreachable;
        };
        let Ok(mut epoch) = self.epoch.lock() else {
            return Epoch::Changed;
        };
        let unchanged = epoch.revocations == Some(count);
        epoch.revocations = Some(count);
        epoch.checked = Some(std::time::Instant::now());
        if unchanged {
            return Epoch::Unchanged;
        }
        epoch.generation += 1;
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
        Epoch::Changed
    }

    fn generation(&self) -> Option<u64> {
        self.epoch.lock().ok().map(|epoch| epoch.generation)
    }

    /// A cached answer for `key` still far enough from its nextUpdate, whatever it says.
    fn cached_any(&self, key: &str, now: OffsetDateTime) -> Option<Vec<u8>> {
        let cache = self.cache.lock().ok()?;
        let cached = cache.get(key)?;
        (cached.known != Known::Unknown && now + REFRESH_MARGIN < cached.next_update)
            .then(|| cached.response.clone())
    }

    /// Whether [`Responder::cached_until_next_update`] has an answer for `key`, without
    /// copying it: asked before each store query, to know how long to wait.
    fn can_stand_in(&self, key: &str, now: OffsetDateTime) -> bool {
        self.cache.lock().is_ok_and(|cache| {
            cache
                .get(key)
                .is_some_and(|cached| now < cached.next_update)
        })
    }

    /// A cached answer for `key` whose nextUpdate has not passed, whatever it says.
    fn cached_until_next_update(&self, key: &str, now: OffsetDateTime) -> Option<Vec<u8>> {
        let cache = self.cache.lock().ok()?;
        let cached = cache.get(key)?;
        (now < cached.next_update).then(|| cached.response.clone())
    }

    fn cached(&self, serial: &str, known: Known, now: OffsetDateTime) -> Option<Vec<u8>> {
        let cache = self.cache.lock().ok()?;
        let cached = cache.get(serial)?;
        // A status that changed since (a revocation) or an answer near its end is re-signed.
        (cached.known == known && now + REFRESH_MARGIN < cached.next_update)
            .then(|| cached.response.clone())
    }

    fn speaks_for(&self, cert_id: &CertId) -> bool {
        self.ca_hashes.iter().any(|(algorithm, name, key)| {
            cert_id.hash_algorithm.oid == *algorithm
                && cert_id.issuer_name_hash.as_bytes() == name.as_slice()
                && cert_id.issuer_key_hash.as_bytes() == key.as_slice()
        })
    }

    fn sign(
        &self,
        answers: &[(CertId, String, Known)],
        nonce: Option<x509_cert_02::ext::Extension>,
        now: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Option<Vec<u8>> {
        let time = |at: OffsetDateTime| {
            let seconds = u64::try_from(at.unix_timestamp()).ok()?;
            GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(seconds))
                .ok()
                .map(OcspGeneralizedTime)
        };
        let mut responses = Vec::with_capacity(answers.len());
        for (cert_id, _, known) in answers {
            let cert_status = match known {
                Known::Good => CertStatus::Good(Null),
                Known::Unknown => CertStatus::Unknown(Null),
                Known::Revoked { at, reason } => CertStatus::Revoked(RevokedInfo {
                    revocation_time: time(*at)?,
                    revocation_reason: Some(crl_reason(*reason)),
                }),
            };
            responses.push(SingleResponse {
                cert_id: cert_id.clone(),
                cert_status,
                this_update: time(now)?,
                next_update: Some(time(next_update)?),
                single_extensions: None,
            });
        }
        let tbs_response_data = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(OctetString::new(self.signer_key_hash.clone()).ok()?),
            produced_at: time(now)?,
            responses,
            response_extensions: nonce.map(|nonce| vec![nonce]),
        };
        let tbs = tbs_response_data.to_der().ok()?;
        let signature = self.signer_key.sign(&tbs).ok()?;
        let basic = BasicOcspResponse {
            tbs_response_data,
            signature_algorithm: self.algorithm.clone(),
            signature: BitString::from_bytes(&signature).ok()?,
            certs: Some(vec![self.signer.clone()]),
        };
        OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: BASIC,
                response: OctetString::new(basic.to_der().ok()?).ok()?,
            }),
        }
        .to_der()
        .ok()
    }
}

/// A response that is only a status (RFC 6960 §4.2.1: no responseBytes).
fn status_only(status: OcspResponseStatus) -> Vec<u8> {
    OcspResponse {
        response_status: status,
        response_bytes: None,
    }
    .to_der()
    // Two fixed bytes of structure around an ENUMERATED: cannot fail to encode.
    .unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, 0x02])
}

fn signature_algorithm(key: &KeyPair) -> Result<AlgorithmIdentifierOwned, ResponderError> {
    let (oid, null_parameters) = if key.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256 {
        ("1.2.840.10045.4.3.2", false)
    } else if key.algorithm() == &rcgen::PKCS_ECDSA_P384_SHA384 {
        ("1.2.840.10045.4.3.3", false)
    } else if key.algorithm() == &rcgen::PKCS_ED25519 {
        ("1.3.101.112", false)
    } else if key.algorithm() == &rcgen::PKCS_RSA_SHA256 {
        ("1.2.840.113549.1.1.11", true)
    } else {
        return Err(ResponderError::Algorithm);
    };
    Ok(AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new(oid).map_err(|_| ResponderError::Algorithm)?,
        parameters: null_parameters.then(|| Null.into()),
    })
}

fn crl_reason(reason: RevocationReason) -> CrlReason {
    match reason {
        RevocationReason::Unspecified => CrlReason::Unspecified,
        RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
        RevocationReason::CaCompromise => CrlReason::CaCompromise,
        RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
        RevocationReason::Superseded => CrlReason::Superseded,
        RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
        RevocationReason::CertificateHold => CrlReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise => CrlReason::AaCompromise,
    }
}

/// The serial's content octets as the store spells serials.
fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02X}");
    }
    out
}
