//! Purpose-aware certificate path validation, and the diagnosis of why a chain fails.
//!
//! rustls-webpki decides: it builds and validates the path (RFC 5280, hardened and fuzzed).
//! Around it, this crate adds what webpki leaves out — key usage of CAs and leaves, weak
//! keys, SHA-1, trust-anchor validity and constraints, hostname rules about public
//! suffixes, CRL status of intermediates — and a diagnosis engine that rebuilds the path
//! itself, broken or not, to say which link fails, with the evidence and the fix. When the
//! two disagree, the stricter verdict wins.
//!
//! ```text
//! Verifier::new(trust anchors, Policy) .with_untrusted(bundles) .with_crls(crls)
//!     .verify(&leaf, &chain_after_leaf) -> Verdict { valid, chain, errors, warnings }
//! ```

mod checks;
mod code;
mod hostname;
mod ocsp;
mod path;
mod policy;
mod revocation;
mod strict;
mod verdict;

use mutual_x509::Certificate;
use rustls_pki_types::{CertificateDer, TrustAnchor};
use webpki::CertRevocationList;

pub use code::Code;
pub use ocsp::{OcspAnswer, OcspOptions, OcspProblem, judge_response};
pub use policy::{Host, Policy, PolicyError, Purpose};
pub use revocation::CrlSource;
pub use verdict::{ChainLink, Role, Verdict};

use crate::checks::{Explain, Findings};
use crate::path::{End, Path};

/// Certificates that arrived together in one file, in the order given; named for the
/// evidence of `chain_order`.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub source: String,
    pub certificates: Vec<Certificate>,
}

/// A trust anchor webpki cannot use (its subject or key does not parse).
#[derive(Debug, thiserror::Error)]
#[error("trust anchor `{subject}` cannot be used: {reason}")]
pub struct AnchorError {
    pub subject: String,
    pub reason: String,
}

/// One trust setup (anchors, untrusted intermediates, CRLs, policy), reused for as many
/// leaves as `verify` is given.
pub struct Verifier {
    anchors: Vec<Certificate>,
    webpki_anchors: Vec<TrustAnchor<'static>>,
    bundles: Vec<Bundle>,
    /// Every untrusted certificate, deduplicated.
    pool: Vec<Certificate>,
    crls: Vec<CrlSource>,
    webpki_crls: Vec<CertRevocationList<'static>>,
    policy: Policy,
    ekus: Vec<Vec<u8>>,
    ocsp: Option<OcspOptions>,
}

impl Verifier {
    /// A verifier trusting `anchors` (duplicates are dropped).
    ///
    /// # Errors
    /// An anchor webpki cannot read; an `--eku` that is not a dotted OID is reported as
    /// [`PolicyError`] by the policy's parser before this.
    pub fn new(anchors: Vec<Certificate>, policy: Policy) -> Result<Self, AnchorError> {
        let anchors = dedupe(anchors);
        let webpki_anchors = anchors
            .iter()
            .map(|anchor| {
                webpki::anchor_from_trusted_cert(&CertificateDer::from(anchor.der.as_slice()))
                    .map(|a| a.to_owned())
                    .map_err(|error| AnchorError {
                        subject: anchor.subject.rfc4514.clone(),
                        reason: format!("{error}"),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ekus = policy
            .required_ekus()
            .iter()
            .filter_map(|oid| strict::oid_content(oid))
            .collect();
        Ok(Self {
            anchors,
            webpki_anchors,
            bundles: Vec::new(),
            pool: Vec::new(),
            crls: Vec::new(),
            webpki_crls: Vec::new(),
            policy,
            ekus,
            ocsp: None,
        })
    }

    /// Untrusted certificates offered for path building (intermediates, cross-signs).
    /// Each bundle is also checked for order against the path found.
    pub fn with_untrusted(mut self, bundles: Vec<Bundle>) -> Self {
        let all = bundles
            .iter()
            .flat_map(|b| b.certificates.iter().cloned())
            .collect();
        self.pool = dedupe(all);
        self.bundles = bundles;
        self
    }

    /// Untrusted certificates for path building only, never judged for order (a shared
    /// pool in batch mode).
    pub fn with_pool(mut self, certificates: Vec<Certificate>) -> Self {
        self.pool = dedupe(certificates);
        self
    }

    /// CRLs to check revocation against.
    pub fn with_crls(mut self, crls: Vec<CrlSource>) -> Self {
        let ders: Vec<&[u8]> = crls.iter().map(|c| c.crl.der.as_slice()).collect();
        self.webpki_crls = strict::crls(&ders);
        self.crls = crls;
        self
    }

    /// Ask the leaf's OCSP responder too (hard fail).
    pub fn with_ocsp(mut self, options: OcspOptions) -> Self {
        self.ocsp = Some(options);
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn anchor_count(&self) -> usize {
        self.anchors.len()
    }

    /// Validates `leaf` for the policy; `chain` is what came after the leaf in its file
    /// (untrusted, and checked for order).
    pub fn verify(&self, leaf: &Certificate, chain: &[Certificate]) -> Verdict {
        self.verify_with(&self.policy, self.ocsp.as_ref(), leaf, chain)
    }

    /// As [`Verifier::verify`], at `at` instead of the policy's time: a long-running
    /// service (the gateway) builds one verifier and judges every handshake at its own now.
    pub fn verify_at(
        &self,
        leaf: &Certificate,
        chain: &[Certificate],
        at: time::OffsetDateTime,
    ) -> Verdict {
        let mut policy = self.policy.clone();
        policy.at = at;
        let ocsp = self.ocsp.map(|options| OcspOptions { now: at, ..options });
        self.verify_with(&policy, ocsp.as_ref(), leaf, chain)
    }

    fn verify_with(
        &self,
        policy: &Policy,
        ocsp: Option<&OcspOptions>,
        leaf: &Certificate,
        chain: &[Certificate],
    ) -> Verdict {
        // Borrowed, not cloned: in batch mode the pool is shared by every leaf.
        let mut pool: Vec<&Certificate> = chain.iter().collect();
        pool.extend(
            self.pool
                .iter()
                .filter(|c| !chain.iter().any(|d| d.der == c.der)),
        );
        let pool_ders: Vec<CertificateDer<'_>> = pool
            .iter()
            .map(|c| CertificateDer::from(c.der.as_slice()))
            .collect();
        let strict = strict::validate(
            leaf,
            &strict::Inputs {
                anchors: &self.webpki_anchors,
                pool: &pool_ders,
                crls: &self.webpki_crls,
                ekus: &self.ekus,
                at: policy.at,
                max_depth: policy.max_depth,
            },
        );

        let path = match &strict {
            Ok(accepted) => accepted_path(leaf, accepted, &pool, &self.anchors),
            Err(_) => None,
        }
        .unwrap_or_else(|| path::build(leaf, &self.anchors, &pool));

        let mut findings = Findings::default();
        let webpki_failed = strict.is_err();
        checks::path_end(&path, &mut findings);
        checks::validity(&path, policy, &mut findings);
        checks::signatures(&path, webpki_failed, &mut findings);
        checks::key_strength(&path, &mut findings);
        checks::issuers(&path, &mut findings);
        checks::purpose(&path, policy, &mut findings);
        if webpki_failed {
            checks::name_constraints(&path, &mut findings);
        }
        checks::host(&path, policy, &mut findings);
        checks::depth(&path, policy, &mut findings);
        revocation::check(&path, &self.crls, policy, &mut findings);
        if let Some(options) = ocsp {
            ocsp::check(&path, options, &mut findings);
        }
        if matches!(path.end, End::Anchor(_)) {
            let leaf_bundle = Bundle {
                source: "the leaf's file".to_owned(),
                certificates: std::iter::once(leaf.clone())
                    .chain(chain.iter().cloned())
                    .collect(),
            };
            for bundle in std::iter::once(&leaf_bundle).chain(&self.bundles) {
                chain_order(&path, bundle, &mut findings);
            }
        }

        if let Err(error) = &strict
            && findings.errors.is_empty()
        {
            // webpki saw something the diagnosis did not: its word stands.
            findings
                .error(
                    strict::code_for(error),
                    format!("the chain is rejected by the path validator: {error}"),
                )
                .evidence("webpki_error", format!("{error:?}"));
        }
        verdict::Verdict::new(&path, policy, findings)
    }
}

/// The path webpki accepted, in terms of our decoded certificates.
fn accepted_path<'a>(
    leaf: &'a Certificate,
    accepted: &strict::Accepted,
    pool: &[&'a Certificate],
    anchors: &'a [Certificate],
) -> Option<Path<'a>> {
    let mut certs = vec![leaf];
    for der in &accepted.intermediates {
        certs.push(*pool.iter().find(|c| &c.der == der)?);
    }
    Some(Path {
        certs,
        end: End::Anchor(anchors.get(accepted.anchor)?),
    })
}

/// A bundle (what a server sends, or a file of intermediates) should run leaf → root and
/// hold nothing else. Out of order or with strangers, clients that do not rebuild paths
/// (older Java, embedded TLS stacks, some load balancers) fail.
fn chain_order(path: &Path<'_>, bundle: &Bundle, findings: &mut Findings) {
    let on_path = |c: &Certificate| {
        path.all()
            .iter()
            .position(|p| p.der == c.der || path::same_certificate(p, c))
    };
    let positions: Vec<Option<usize>> = bundle.certificates.iter().map(on_path).collect();
    let unrelated: Vec<&Certificate> = bundle
        .certificates
        .iter()
        .zip(&positions)
        .filter(|(_, position)| position.is_none())
        .map(|(c, _)| c)
        .collect();
    let ordered: Vec<usize> = positions.iter().flatten().copied().collect();
    let out_of_order = ordered.windows(2).any(|pair| pair[0] >= pair[1]);
    if !out_of_order && unrelated.is_empty() {
        return;
    }
    let mut problems = Vec::new();
    if out_of_order {
        problems.push("is out of order".to_owned());
    }
    if !unrelated.is_empty() {
        problems.push(format!(
            "holds {} certificate(s) unrelated to this chain",
            unrelated.len()
        ));
    }
    let diagnosis = findings.warning(
        Code::ChainOrder,
        format!(
            "{} {}; a path was still found, but clients that take the chain as sent may fail",
            bundle.source,
            problems.join(" and ")
        ),
    );
    diagnosis.evidence(
        "order_given",
        bundle
            .certificates
            .iter()
            .map(|c| format!("`{}`", c.subject.rfc4514))
            .collect::<Vec<_>>()
            .join(" then "),
    );
    for stranger in unrelated {
        diagnosis.evidence("unrelated", &stranger.subject.rfc4514);
    }
    diagnosis.fix("send the leaf first, then each issuer in turn, and nothing else (the root may be left out)");
}

fn dedupe(certificates: Vec<Certificate>) -> Vec<Certificate> {
    let mut seen = std::collections::HashSet::new();
    certificates
        .into_iter()
        .filter(|c| seen.insert(c.fingerprints.sha256.clone()))
        .collect()
}
