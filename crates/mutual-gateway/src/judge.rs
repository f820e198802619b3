//! The verdict on a client's chain: `mutual verify` for purpose `client` against the
//! listener's client CAs and the loaded CRLs, at the time of the handshake — remembered
//! per chain for a while, because a device reconnects with the same certificate all day
//! and its verdict does not change until the chain expires or the CRLs are reloaded
//! (which builds a new judge, and so a new memory).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mutual_verify::{CrlSource, Policy, Purpose, Verifier};
use mutual_x509::Certificate;
use time::OffsetDateTime;

use crate::config::{FailMode, NoEku, OcspMode, RevocationConfig};
use crate::identity::{Identity, IdentityHeaders};
use crate::refusal::{Presented, Refusal, errors_of};

/// A certificate that passed: who it names, and the headers that say so upstream.
#[derive(Debug)]
pub(crate) struct Admitted {
    pub(crate) identity: Identity,
    pub(crate) presented: Presented,
    pub(crate) headers: IdentityHeaders,
    /// Codes of what was accepted with a warning (soft-failed revocation, no EKU).
    pub(crate) warnings: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub(crate) enum Judgement {
    Admitted(Arc<Admitted>),
    Refused(Arc<Refusal>),
}

/// Verdicts kept at most this long (a refusal less: a certificate not valid yet becomes
/// valid, a missing CRL appears).
const REFUSAL_TTL: Duration = Duration::from_secs(30);
/// How long an OCSP responder gets to answer.
const OCSP_TIMEOUT: Duration = Duration::from_secs(5);
/// Past this many remembered chains, memory starts again from nothing.
const MAX_REMEMBERED: usize = 10_000;

pub(crate) struct Judge {
    verifier: Verifier,
    no_eku: NoEku,
    crl_fail: FailMode,
    ocsp: OcspMode,
    ttl: Duration,
    memory: Mutex<HashMap<[u8; 32], (Judgement, Instant)>>,
    /// The subjects of the client CAs, for the "present a certificate from ..." advice.
    pub(crate) accepted_cas: Vec<String>,
}

impl Judge {
    pub(crate) fn new(
        anchors: Vec<Certificate>,
        crls: Vec<CrlSource>,
        max_depth: usize,
        no_eku: NoEku,
        revocation: &RevocationConfig,
    ) -> Result<Self, mutual_verify::AnchorError> {
        let accepted_cas = anchors.iter().map(|a| a.subject.rfc4514.clone()).collect();
        let now = OffsetDateTime::now_utc();
        let mut policy = Policy::new(Purpose::Client, now);
        policy.max_depth = Some(max_depth);
        let mut verifier = Verifier::new(anchors, policy)?.with_crls(crls);
        if revocation.ocsp != OcspMode::Off {
            verifier = verifier.with_ocsp(mutual_verify::OcspOptions {
                timeout: OCSP_TIMEOUT,
                now,
            });
        }
        Ok(Self {
            verifier,
            no_eku,
            crl_fail: revocation.crl_fail,
            ocsp: revocation.ocsp,
            ttl: revocation.ocsp_cache,
            memory: Mutex::new(HashMap::new()),
            accepted_cas,
        })
    }

    /// The verdict on `end_entity` sent with `intermediates`, at `now`.
    pub(crate) fn judge(&self, end_entity: &[u8], intermediates: &[&[u8]]) -> Judgement {
        let key = chain_key(end_entity, intermediates);
        let instant = Instant::now();
        if let Ok(memory) = self.memory.lock()
            && let Some((judgement, until)) = memory.get(&key)
            && *until > instant
        {
            return judgement.clone();
        }
        let now = OffsetDateTime::now_utc();
        let (judgement, valid_for) = self.judge_afresh(end_entity, intermediates, now);
        if let Ok(mut memory) = self.memory.lock() {
            if memory.len() >= MAX_REMEMBERED {
                memory.clear();
            }
            memory.insert(key, (judgement.clone(), instant + valid_for));
        }
        judgement
    }

    fn judge_afresh(
        &self,
        end_entity: &[u8],
        intermediates: &[&[u8]],
        now: OffsetDateTime,
    ) -> (Judgement, Duration) {
        let leaf = match Certificate::from_der(end_entity, now) {
            Ok(leaf) => leaf,
            Err(e) => {
                let verdict = mutual_verify::Verdict::malformed(
                    self.verifier.policy(),
                    "the client certificate",
                    &e.to_string(),
                );
                return (self.refused(None, verdict.errors), REFUSAL_TTL);
            }
        };
        // An intermediate that does not decode is simply not offered for path building:
        // the path then fails with the code that says what is missing.
        let chain: Vec<Certificate> = intermediates
            .iter()
            .filter_map(|der| Certificate::from_der(der, now).ok())
            .collect();
        let verdict = self.verify(&leaf, &chain, now);
        let mut errors = errors_of(&verdict, self.no_eku == NoEku::Refuse);
        let mut warnings: Vec<&'static str> = verdict.warnings.iter().map(|w| w.code).collect();
        let before = errors.len();
        errors.retain(|e| !self.fails_soft(e));
        if errors.len() < before {
            warnings.push(mutual_verify::Code::RevocationUnknown.as_str());
        }
        if !errors.is_empty() {
            return (self.refused(Some(&leaf), errors), REFUSAL_TTL);
        }
        // Remembered no longer than the chain is valid.
        let earliest_expiry = std::iter::once(&leaf)
            .chain(chain.iter())
            .map(|c| c.validity.not_after)
            .min()
            .unwrap_or(now);
        let left = (earliest_expiry - now).try_into().unwrap_or(Duration::ZERO);
        let identity = Identity::of(&leaf);
        let headers = identity.headers();
        (
            Judgement::Admitted(Arc::new(Admitted {
                identity,
                presented: Presented::of(&leaf),
                headers,
                warnings,
            })),
            self.ttl.min(left),
        )
    }
}

impl Judge {
    /// With OCSP on, verifying may wait on a responder: off the async worker (so other
    /// connections go on), on a thread of its own (the OCSP client is a blocking one).
    fn verify(
        &self,
        leaf: &Certificate,
        chain: &[Certificate],
        now: OffsetDateTime,
    ) -> mutual_verify::Verdict {
        if self.ocsp == OcspMode::Off {
            return self.verifier.verify_at(leaf, chain, now);
        }
        let verify = || {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| self.verifier.verify_at(leaf, chain, now))
                    .join()
                    .unwrap_or_else(|_| {
                        mutual_verify::Verdict::malformed(
                            self.verifier.policy(),
                            "the client certificate",
                            "verification failed unexpectedly",
                        )
                    })
            })
        };
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread {
            tokio::task::block_in_place(verify)
        } else {
            verify()
        }
    }

    /// A `revocation_unknown` from a mechanism configured to fail soft.
    fn fails_soft(&self, error: &mutual_x509::Diagnosis) -> bool {
        if error.code != mutual_verify::Code::RevocationUnknown.as_str() {
            return false;
        }
        let from_ocsp = error
            .evidence
            .iter()
            .any(|e| e.field == "source" && e.value == "OCSP");
        if from_ocsp {
            self.ocsp == OcspMode::Soft
        } else {
            self.crl_fail == FailMode::Soft
        }
    }

    fn refused(
        &self,
        leaf: Option<&Certificate>,
        errors: Vec<mutual_x509::Diagnosis>,
    ) -> Judgement {
        Judgement::Refused(Arc::new(Refusal::invalid(leaf, errors, &self.accepted_cas)))
    }
}

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge")
            .field("accepted_cas", &self.accepted_cas)
            .finish_non_exhaustive()
    }
}

/// SHA-256 over each certificate's length and bytes: two different chains never share a
/// key, however their bytes are split.
fn chain_key(end_entity: &[u8], intermediates: &[&[u8]]) -> [u8; 32] {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for der in std::iter::once(&end_entity).chain(intermediates) {
        context.update(&(der.len() as u64).to_be_bytes());
        context.update(der);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(context.finish().as_ref());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_keys_tell_splits_apart() {
        assert_ne!(chain_key(b"ab", &[b"c"]), chain_key(b"a", &[b"bc"]));
        assert_eq!(chain_key(b"ab", &[b"c"]), chain_key(b"ab", &[b"c"]));
    }
}
