//! Revocation from CRLs the user supplied: which CRL speaks for which certificate (issuer
//! name and a signature by the issuer's key), whether it is current, and what it says.
//! Hard fail: with CRLs given, a leaf none of them covers is `revocation_unknown`.

use mutual_x509::{Crl, KeyUsageBit, SignatureCheck};

use crate::checks::{Explain, Findings, describe, key_usage, rfc3339};
use crate::code::Code;
use crate::path::Path;
use crate::policy::Policy;

/// A CRL and where it came from (file name or URL), for the evidence.
#[derive(Debug, Clone)]
pub struct CrlSource {
    pub source: String,
    pub crl: Crl,
}

pub(crate) fn check(path: &Path<'_>, crls: &[CrlSource], policy: &Policy, findings: &mut Findings) {
    if crls.is_empty() {
        return;
    }
    for (index, &certificate) in path.certs.iter().enumerate() {
        let Some(issuer) = path.issuer_of(index) else {
            continue;
        };
        let who = describe(path, certificate);
        let named: Vec<&CrlSource> = crls
            .iter()
            .filter(|c| c.crl.issuer.rfc4514 == certificate.issuer.rfc4514)
            .collect();
        let signer_allowed =
            key_usage(issuer).is_none_or(|usages| usages.contains(&KeyUsageBit::CrlSign));
        let covering: Vec<&CrlSource> = named
            .iter()
            .copied()
            .filter(|c| signer_allowed && c.crl.signature_by(issuer) == SignatureCheck::Valid)
            .collect();

        if let Some((source, entry)) = covering.iter().find_map(|c| {
            c.crl
                .revoked
                .iter()
                .find(|entry| entry.serial == certificate.serial)
                .map(|entry| (c, entry))
        }) {
            let diagnosis = findings.error(
                Code::Revoked,
                format!(
                    "{who} was revoked on {}{}",
                    rfc3339(entry.revoked_at),
                    entry
                        .reason
                        .map(|reason| format!(" ({reason})"))
                        .unwrap_or_default()
                ),
            );
            diagnosis
                .evidence("serial", &certificate.serial)
                .evidence("revoked_at", rfc3339(entry.revoked_at))
                .evidence("reason", entry.reason.unwrap_or("unspecified"))
                .evidence("source", format!("CRL {}", source.source))
                .fix("replace the certificate: issue a new one and install it");
            continue;
        }

        let current = covering.iter().any(|c| {
            c.crl.this_update <= policy.at && c.crl.next_update.is_none_or(|next| policy.at <= next)
        });
        if current {
            continue;
        }
        // Intermediates are checked when a CRL from their issuer was given; the leaf always.
        if index > 0 && covering.is_empty() {
            continue;
        }
        let diagnosis = findings.error(
            Code::RevocationUnknown,
            if covering.is_empty() {
                format!(
                    "no CRL given speaks for {who}: none is signed by its issuer `{}` (hard fail: unknown status is rejected)",
                    certificate.issuer.rfc4514
                )
            } else {
                format!(
                    "the CRL for {who} is not current at {}, so its status is unknown (hard fail)",
                    rfc3339(policy.at)
                )
            },
        );
        diagnosis.evidence("source", "CRL");
        for c in &covering {
            diagnosis.evidence(
                "crl",
                format!(
                    "{}: thisUpdate {}, nextUpdate {}",
                    c.source,
                    rfc3339(c.crl.this_update),
                    c.crl.next_update.map_or("absent".to_owned(), rfc3339)
                ),
            );
        }
        for c in named
            .iter()
            .filter(|c| !covering.iter().any(|k| std::ptr::eq(*k, **c)))
        {
            diagnosis.evidence(
                "crl_not_by_issuer",
                format!(
                    "{} names the issuer but is not signed by its key{}",
                    c.source,
                    if signer_allowed {
                        ""
                    } else {
                        " (the issuer lacks keyUsage cRLSign)"
                    }
                ),
            );
        }
        diagnosis.fix(if covering.is_empty() {
            "give the CRL published by the certificate's issuer (--crl), or drop --crl to skip the check"
        } else {
            "fetch the issuer's current CRL; a CA must publish a new one before nextUpdate"
        });
    }
}
