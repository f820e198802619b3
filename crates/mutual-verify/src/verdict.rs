//! The answer: valid or not, for which purpose, along which chain, and why.
//! Serialised as the `mutual.verify/v1` JSON documented in docs/verify-json.md.

use mutual_x509::{Certificate, Diagnosis, Severity};
use serde::Serialize;
use time::OffsetDateTime;

use crate::checks::Findings;
use crate::code::Code;
use crate::path::{End, Path};
use crate::policy::{Host, Policy, Purpose};

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub valid: bool,
    pub purpose: Purpose,
    /// Every EKU the leaf had to allow (the purpose's and `--eku`'s), as names or OIDs.
    pub required_ekus: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<Host>,
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// Leaf first; the trust anchor last when one was reached.
    pub chain: Vec<ChainLink>,
    pub errors: Vec<Diagnosis>,
    pub warnings: Vec<Diagnosis>,
}

/// What a certificate is on the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Leaf,
    Intermediate,
    TrustAnchor,
    /// A self-signed certificate that was supplied but is not trusted.
    UntrustedRoot,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainLink {
    pub role: Role,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub fingerprint_sha256: String,
}

impl ChainLink {
    fn new(role: Role, certificate: &Certificate) -> Self {
        Self {
            role,
            subject: certificate.subject.rfc4514.clone(),
            issuer: certificate.issuer.rfc4514.clone(),
            serial: certificate.serial.clone(),
            not_after: certificate.validity.not_after,
            fingerprint_sha256: certificate.fingerprints.sha256.clone(),
        }
    }
}

impl Verdict {
    pub(crate) fn new(path: &Path<'_>, policy: &Policy, findings: Findings) -> Self {
        let last = path.certs.len() - 1;
        let mut chain: Vec<ChainLink> = path
            .certs
            .iter()
            .enumerate()
            .map(|(index, certificate)| {
                let role = match (index, &path.end) {
                    (0, _) => Role::Leaf,
                    (i, End::SelfSigned) if i == last => Role::UntrustedRoot,
                    _ => Role::Intermediate,
                };
                ChainLink::new(role, certificate)
            })
            .collect();
        if let Some(anchor) = path.anchor()
            && !std::ptr::eq(anchor, path.certs[0])
        {
            chain.push(ChainLink::new(Role::TrustAnchor, anchor));
        }
        Self {
            valid: findings.errors.is_empty(),
            purpose: policy.purpose,
            required_ekus: policy
                .required_ekus()
                .iter()
                .map(|oid| crate::checks::eku_name(oid))
                .collect(),
            host: policy.host.clone(),
            checked_at: policy.at,
            chain,
            errors: findings.errors,
            warnings: findings.warnings,
        }
    }

    /// The verdict on a leaf that is not a well-formed certificate: `what` names it,
    /// `detail` is the decoder's complaint.
    pub fn malformed(policy: &Policy, what: &str, detail: &str) -> Self {
        let diagnosis = Diagnosis::new(
            Code::MalformedCertificate.as_str(),
            Severity::Error,
            format!("{what} is not a well-formed X.509 certificate: {detail}"),
        )
        .with_evidence("decoder", detail)
        .with_fix("get an intact copy from the issuer; a certificate that does not decode cannot be validated");
        Self {
            valid: false,
            purpose: policy.purpose,
            required_ekus: policy
                .required_ekus()
                .iter()
                .map(|oid| crate::checks::eku_name(oid))
                .collect(),
            host: policy.host.clone(),
            checked_at: policy.at,
            chain: Vec::new(),
            errors: vec![diagnosis],
            warnings: Vec::new(),
        }
    }

    /// The codes of the errors, in order.
    pub fn error_codes(&self) -> Vec<&'static str> {
        self.errors.iter().map(|e| e.code).collect()
    }

    pub fn warning_codes(&self) -> Vec<&'static str> {
        self.warnings.iter().map(|e| e.code).collect()
    }
}
