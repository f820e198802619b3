//! The OCSP responders of the service: one per issuing CA, each signing with a delegated
//! responder certificate that CA issued (EKU OCSPSigning, id-pkix-ocsp-nocheck), kept in
//! `HOME/serve/ocsp-<ca>.pem` and replaced before it runs out.

use std::sync::{Arc, RwLock};

use mutual_ca::home::{Home, IssuingRole};
use mutual_ca::issuance::IssuingCa;
use mutual_ca::key::KeyType;
use mutual_ca::ocsp::Responder;
use mutual_ca::profile::{ProfileKind, Profiles};
use mutual_ca::store::Store;
use time::{Duration, OffsetDateTime};

use crate::bootstrap::{current, failure, serve_dir, write_pair};
use crate::error::ServeError;
use crate::issuer::{Order, issue_with_new_key};

/// Responder certificates are short-lived: a stolen responder key speaks for a week at most.
const SIGNER_DAYS: u32 = 7;
/// A responder certificate with less than this left is replaced.
pub(crate) const SIGNER_RENEW_MARGIN: Duration = Duration::days(2);
/// How long a signed answer is good for (its nextUpdate). A revocation is seen by the next
/// request at once; relying parties that cache honour `Cache-Control`, not this.
pub(crate) const ANSWER_LIFETIME: Duration = Duration::hours(1);
/// `max-age` of a cached (nonce-free) answer: never longer than the responder's refresh
/// margin, so an answer is never cached past its nextUpdate.
pub(crate) const MAX_AGE_SECONDS: u32 = 300;

/// The responders now in force; swapped whole when a signer is rotated.
pub(crate) struct Responders {
    current: RwLock<Arc<Vec<Responder>>>,
    /// When the earliest responder certificate must be replaced.
    renew_at: RwLock<OffsetDateTime>,
}

impl Responders {
    pub(crate) async fn load(
        home: &Home,
        profiles: &Profiles,
        store: &Store,
        cas: [(IssuingRole, &IssuingCa); 2],
        now: OffsetDateTime,
    ) -> Result<Self, ServeError> {
        let (responders, renew_at) = build(home, profiles, store, cas, now).await?;
        Ok(Self {
            current: RwLock::new(Arc::new(responders)),
            renew_at: RwLock::new(renew_at),
        })
    }

    pub(crate) fn current(&self) -> Arc<Vec<Responder>> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the responders when a signer certificate is due; true when it did.
    pub(crate) async fn rotate_if_due(
        &self,
        home: &Home,
        profiles: &Profiles,
        store: &Store,
        cas: [(IssuingRole, &IssuingCa); 2],
        now: OffsetDateTime,
    ) -> Result<bool, ServeError> {
        let due = self.renew_at.read().map(|at| now >= *at).unwrap_or(true);
        if !due {
            return Ok(false);
        }
        let (responders, renew_at) = build(home, profiles, store, cas, now).await?;
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(responders);
        }
        if let Ok(mut at) = self.renew_at.write() {
            *at = renew_at;
        }
        Ok(true)
    }
}

async fn build(
    home: &Home,
    profiles: &Profiles,
    store: &Store,
    cas: [(IssuingRole, &IssuingCa); 2],
    now: OffsetDateTime,
) -> Result<(Vec<Responder>, OffsetDateTime), ServeError> {
    let mut responders = Vec::with_capacity(cas.len());
    let mut renew_at = now + Duration::days(i64::from(SIGNER_DAYS));
    for (role, ca) in cas {
        let (signer_der, signer_key, not_after) =
            signer(home, role, ca, profiles, store, now).await?;
        renew_at = renew_at.min(not_after - SIGNER_RENEW_MARGIN);
        let ca_der = pem_der(&ca.certificate_pem).ok_or(ServeError::Setup {
            what: "the OCSP responder",
            detail: format!("the certificate of {} is not PEM", ca.subject),
        })?;
        let responder = Responder::new(
            &ca_der,
            &ca.key_id,
            &signer_der,
            signer_key,
            ANSWER_LIFETIME,
        )
        .map_err(|e| ServeError::Setup {
            what: "the OCSP responder",
            detail: e.to_string(),
        })?
        .with_revocation_refresh(profiles.ocsp_refresh());
        responders.push(responder);
    }
    Ok((responders, renew_at))
}

/// The responder certificate (DER), key and expiry for `role`'s CA: the one on disk while
/// it has [`SIGNER_RENEW_MARGIN`] left, else a new one.
async fn signer(
    home: &Home,
    role: IssuingRole,
    ca: &IssuingCa,
    profiles: &Profiles,
    store: &Store,
    now: OffsetDateTime,
) -> Result<(Vec<u8>, rcgen::KeyPair, OffsetDateTime), ServeError> {
    let dir = serve_dir(home);
    let cert_path = dir.join(format!("ocsp-{}.pem", role.file_stem()));
    let key_path = dir.join(format!("ocsp-{}.key.pem", role.file_stem()));
    let (pem, key_pem) = match current(&cert_path, &key_path, &[], now + SIGNER_RENEW_MARGIN) {
        Some(found) => found,
        None => {
            let issued = issue_with_new_key(
                Order {
                    profile: ProfileKind::OcspSigner,
                    common_name: format!("{} OCSP Responder", common_name(&ca.subject)),
                    sans: Vec::new(),
                    days: Some(SIGNER_DAYS),
                    key_type: KeyType::EcP256,
                    requester: "mutual-serve".to_owned(),
                    ca,
                    audit: None,
                },
                profiles,
                store,
                now,
            )
            .await
            .map_err(|e| failure("OCSP responder certificate", e))?;
            let key_pem = issued.key_pem().map_err(|e| ServeError::Setup {
                what: "the OCSP responder key",
                detail: e.to_string(),
            })?;
            write_pair(
                &cert_path,
                issued.issued.certificate_pem.as_bytes(),
                &key_path,
                key_pem.as_bytes(),
            )?;
            (issued.issued.certificate_pem, key_pem)
        }
    };
    let bad = |detail: String| ServeError::Setup {
        what: "the OCSP responder certificate",
        detail,
    };
    let der = pem_der(&pem).ok_or_else(|| bad(format!("`{}` is not PEM", cert_path.display())))?;
    let not_after = mutual_x509::Certificate::from_der(&der, now)
        .map_err(|e| bad(e.to_string()))?
        .validity
        .not_after;
    let key = mutual_ca::key::read_key(&key_pem, None).map_err(|e| bad(e.to_string()))?;
    Ok((der, key, not_after))
}

/// The DER of the first CERTIFICATE block of `pem`.
pub(crate) fn pem_der(pem: &str) -> Option<Vec<u8>> {
    mutual_x509::pem::parse(pem.as_bytes())
        .ok()?
        .into_iter()
        .find(|b| b.label == "CERTIFICATE")
        .map(|b| b.der)
}

/// The CN of an RFC 4514 name, or the whole name when it has none.
fn common_name(subject: &str) -> &str {
    subject
        .split(',')
        .find_map(|part| part.trim().strip_prefix("CN="))
        .unwrap_or(subject)
}
