//! The diagnosis engine's checks: each looks at the diagnostic path and says, with the
//! evidence and the fix, what a strict validator objects to.

use mutual_x509::{
    Certificate, Diagnosis, Evidence, ExtensionValue, GeneralName, KeyUsageBit, Severity,
    SignatureCheck, Usage, Validity, ValidityStatus,
};

use crate::code::Code;
use crate::hostname::{HostMatch, match_host};
use crate::path::{End, Path, authority_key_id, subject_key_id};
use crate::policy::Policy;

const ANY_EKU: &str = "2.5.29.37.0";

/// What the checks found: errors make the chain invalid, warnings do not.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) errors: Vec<Diagnosis>,
    pub(crate) warnings: Vec<Diagnosis>,
}

impl Findings {
    pub(crate) fn error(&mut self, code: Code, message: impl Into<String>) -> &mut Diagnosis {
        self.errors
            .push(Diagnosis::new(code.as_str(), Severity::Error, message));
        self.errors.last_mut().expect("just pushed")
    }

    pub(crate) fn warning(&mut self, code: Code, message: impl Into<String>) -> &mut Diagnosis {
        self.warnings
            .push(Diagnosis::new(code.as_str(), Severity::Warning, message));
        self.warnings.last_mut().expect("just pushed")
    }

    pub(crate) fn has_error(&self, code: Code) -> bool {
        self.errors.iter().any(|e| e.code == code.as_str())
    }
}

/// Adds evidence and a fix to a diagnosis in place.
pub(crate) trait Explain {
    fn evidence(&mut self, field: impl Into<String>, value: impl Into<String>) -> &mut Self;
    fn fix(&mut self, fix: impl Into<String>) -> &mut Self;
}

impl Explain for Diagnosis {
    fn evidence(&mut self, field: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.evidence.push(Evidence {
            field: field.into(),
            value: value.into(),
        });
        self
    }

    fn fix(&mut self, fix: impl Into<String>) -> &mut Self {
        self.fix = Some(fix.into());
        self
    }
}

/// "the leaf `CN=a`", "intermediate `CN=CA`", "trust anchor `CN=Root`".
pub(crate) fn describe(path: &Path<'_>, certificate: &Certificate) -> String {
    let role = if std::ptr::eq(certificate, path.certs[0]) {
        "the leaf"
    } else if path
        .anchor()
        .is_some_and(|anchor| std::ptr::eq(anchor, certificate))
    {
        "trust anchor"
    } else {
        "intermediate"
    };
    format!("{role} `{}`", certificate.subject.rfc4514)
}

/// How the path ends: the issuer nobody supplied, a root nobody trusts.
pub(crate) fn path_end(path: &Path<'_>, findings: &mut Findings) {
    let Some(&last) = path.certs.last() else {
        return;
    };
    match &path.end {
        End::Anchor(_) => {}
        End::SelfSigned if path.certs.len() == 1 => {
            findings
                .error(
                    Code::SelfSignedLeaf,
                    "the certificate is self-signed and not in the trust store: nothing vouches for it",
                )
                .evidence("subject", &last.subject.rfc4514)
                .evidence("fingerprint_sha256", &last.fingerprints.sha256)
                .fix("trust this exact certificate (--trusted), or have it issued by a CA the verifier trusts");
        }
        End::SelfSigned => {
            findings
                .error(
                    Code::UntrustedRoot,
                    format!(
                        "the chain ends in the root `{}`, which is not in the trust store",
                        last.subject.rfc4514
                    ),
                )
                .evidence("root", &last.subject.rfc4514)
                .evidence("root_fingerprint_sha256", &last.fingerprints.sha256)
                .fix("add this root to the trust store (--trusted) if you trust it; a root sent along with the chain is never trusted by itself");
        }
        End::MissingIssuer { impostors } => {
            let diagnosis = findings.error(
                Code::UnknownIssuer,
                format!(
                    "the issuer of {} was not supplied and is not trusted: `{}`",
                    describe(path, last),
                    last.issuer.rfc4514
                ),
            );
            diagnosis.evidence("missing_issuer", &last.issuer.rfc4514);
            if let Some(aki) = authority_key_id(last) {
                diagnosis.evidence("authority_key_id", aki);
            }
            for url in ca_issuers_urls(last) {
                diagnosis.evidence("ca_issuers_url", url);
            }
            for impostor in impostors {
                diagnosis.evidence(
                    "same_name_other_key",
                    format!(
                        "a certificate named `{}` was supplied, but with another key (subject key id {}, fingerprint {})",
                        impostor.subject.rfc4514,
                        subject_key_id(impostor).unwrap_or("none"),
                        impostor.fingerprints.sha256
                    ),
                );
            }
            let fix = if impostors.is_empty() {
                "supply the missing intermediate (--untrusted, or after the leaf in its file)"
                    .to_owned()
            } else {
                "the CA certificate supplied under that name is not the one that signed this certificate (re-keyed or replaced CA): supply the matching one, or reissue the certificate".to_owned()
            };
            diagnosis.fix(fix);
        }
        End::TooLong => {
            findings
                .error(
                    Code::MaxDepthExceeded,
                    "no path to a trust anchor within 12 certificates",
                )
                .fix("remove the loop or the unrelated certificates from the bundle");
        }
    }
}

fn ca_issuers_urls(certificate: &Certificate) -> Vec<&str> {
    certificate
        .extensions
        .iter()
        .filter_map(|e| match &e.value {
            ExtensionValue::AuthorityInfoAccess { access } => Some(access),
            _ => None,
        })
        .flatten()
        .filter(|access| access.method == "1.3.6.1.5.5.7.48.2" || access.method == "CA Issuers")
        .filter_map(|access| match &access.location {
            GeneralName::Uri(url) => Some(url.as_str()),
            _ => None,
        })
        .collect()
}

/// Validity of every certificate on the path, the trust anchor included (as OpenSSL does).
pub(crate) fn validity(path: &Path<'_>, policy: &Policy, findings: &mut Findings) {
    for certificate in path.all() {
        let validity = Validity::new(
            certificate.validity.not_before,
            certificate.validity.not_after,
            policy.at,
        );
        let who = describe(path, certificate);
        match validity.status {
            ValidityStatus::Valid => {}
            ValidityStatus::Expired => {
                findings
                    .error(Code::Expired, format!("{who} {}", validity.relative))
                    .evidence("not_after", rfc3339(validity.not_after))
                    .evidence("checked_at", rfc3339(policy.at))
                    .fix(if std::ptr::eq(certificate, path.certs[0]) {
                        "renew the certificate"
                    } else {
                        "replace the expired CA certificate with its renewed one (same key, new validity) or reissue under a valid CA"
                    });
            }
            ValidityStatus::NotYetValid => {
                findings
                    .error(
                        Code::NotYetValid,
                        format!("{who} is not valid yet: it {}", validity.relative),
                    )
                    .evidence("not_before", rfc3339(validity.not_before))
                    .evidence("checked_at", rfc3339(policy.at))
                    .fix("check this machine's clock, or wait until notBefore");
            }
        }
    }
}

/// Each link's signature, and its algorithm: SHA-1 and MD5 are refused everywhere but on a
/// trust anchor's self-signature, which nobody checks.
pub(crate) fn signatures(path: &Path<'_>, check_math: bool, findings: &mut Findings) {
    for (index, &certificate) in path.certs.iter().enumerate() {
        let who = describe(path, certificate);
        let algorithm = &certificate.signature_algorithm;
        if is_weak_signature_algorithm(&algorithm.oid) {
            findings
                .error(
                    Code::UnsupportedSignatureAlgorithm,
                    format!(
                        "{who} is signed with {}, which is broken and refused by browsers and TLS libraries",
                        algorithm.name
                    ),
                )
                .evidence("signature_algorithm", format!("{} ({})", algorithm.name, algorithm.oid))
                .fix("reissue it with SHA-256 or better");
            continue;
        }
        if !check_math {
            continue;
        }
        let Some(issuer) = path.issuer_of(index) else {
            continue;
        };
        match certificate.signature_by(issuer) {
            SignatureCheck::Valid => {}
            SignatureCheck::Invalid => {
                findings
                    .error(
                        Code::BadSignature,
                        format!(
                            "the signature on {who} does not verify with the key of its issuer `{}`",
                            issuer.subject.rfc4514
                        ),
                    )
                    .evidence("signature_algorithm", &algorithm.name)
                    .evidence("issuer_spki_sha256", &issuer.public_key.spki_sha256)
                    .fix("the certificate was altered or signed by another key with the same issuer name: get an intact copy from its CA");
            }
            SignatureCheck::Unsupported => {
                findings
                    .error(
                        Code::UnsupportedSignatureAlgorithm,
                        format!(
                            "{who} is signed with {} under a {} key, which this verifier does not support",
                            algorithm.name,
                            issuer.public_key.summary()
                        ),
                    )
                    .evidence(
                        "signature_algorithm",
                        format!("{} ({})", algorithm.name, algorithm.oid),
                    )
                    .fix("reissue it with ECDSA P-256/P-384, RSA PKCS#1 v1.5 or PSS with SHA-256+, or Ed25519");
            }
        }
    }
}

fn is_weak_signature_algorithm(oid: &str) -> bool {
    matches!(
        oid,
        "1.2.840.113549.1.1.2" // md2WithRSAEncryption
            | "1.2.840.113549.1.1.4" // md5WithRSAEncryption
            | "1.2.840.113549.1.1.5" // sha1WithRSAEncryption
            | "1.3.14.3.2.29" // sha1WithRSASignature (OIW)
            | "1.2.840.10045.4.1" // ecdsa-with-SHA1
            | "1.2.840.10040.4.3" // dsa-with-sha1
    )
}

/// Keys too weak to rely on, anywhere on the path.
pub(crate) fn key_strength(path: &Path<'_>, findings: &mut Findings) {
    for certificate in path.all() {
        let key = &certificate.public_key;
        let weakness = match key.oid.as_str() {
            "1.2.840.113549.1.1.1" => key
                .bits
                .filter(|&bits| bits < 2048)
                .map(|bits| format!("a {bits}-bit RSA key (at least 2048 bits are required)")),
            "1.2.840.10045.2.1" => match key.curve.as_deref() {
                Some("P-256" | "P-384" | "P-521") => None,
                other => Some(format!(
                    "an EC key on {} (P-256, P-384 or P-521 are required)",
                    other.unwrap_or("an unnamed curve")
                )),
            },
            "1.2.840.10040.4.1" => Some("a DSA key (DSA is no longer accepted)".to_owned()),
            _ => None,
        };
        if let Some(weakness) = weakness {
            findings
                .error(
                    Code::WeakKey,
                    format!("{} has {weakness}", describe(path, certificate)),
                )
                .evidence("public_key", key.summary())
                .fix("generate a new key (EC P-256 or RSA 3072) and reissue the certificate");
        }
    }
}

/// Every issuer must be a CA allowed to sign certificates, and path lengths must hold.
pub(crate) fn issuers(path: &Path<'_>, findings: &mut Findings) {
    let intermediates = path.intermediates();
    for (index, &ca) in intermediates.iter().enumerate() {
        let who = describe(path, ca);
        let basic = basic_constraints(ca);
        if basic.map(|(is_ca, _)| is_ca) != Some(true) {
            findings
                .error(
                    Code::CaNotAuthorized,
                    format!("{who} issued a certificate but is not a CA (basicConstraints CA:TRUE is missing)"),
                )
                .evidence(
                    "basic_constraints",
                    match basic {
                        Some((false, _)) => "CA:FALSE",
                        _ => "absent",
                    },
                )
                .fix("an end-entity certificate cannot sign others: issue from a real CA certificate");
        } else if let Some(usages) = key_usage(ca)
            && !usages.contains(&KeyUsageBit::KeyCertSign)
        {
            findings
                .error(
                    Code::CaNotAuthorized,
                    format!("{who} is a CA but its key usage does not allow signing certificates (keyCertSign)"),
                )
                .evidence("key_usage", usages_text(usages))
                .fix("reissue the CA certificate with keyUsage keyCertSign, cRLSign");
        }
        // Intermediates below this one on the path: those at lower indices.
        path_length(path, ca, index, findings);
    }
    if let Some(anchor) = path.anchor() {
        path_length(path, anchor, intermediates.len(), findings);
    }
}

fn path_length(path: &Path<'_>, ca: &Certificate, below: usize, findings: &mut Findings) {
    let Some((true, Some(limit))) = basic_constraints(ca) else {
        return;
    };
    // Self-issued intermediates (key rollover) do not count (RFC 5280 §6.1.4 (l)).
    let counted = path
        .intermediates()
        .iter()
        .take(below)
        .filter(|c| c.subject.rfc4514 != c.issuer.rfc4514)
        .count();
    if counted > limit as usize {
        findings
            .error(
                Code::PathLengthExceeded,
                format!(
                    "{} allows {limit} intermediate CA(s) below it (pathlen:{limit}), but the path has {counted}",
                    describe(path, ca)
                ),
            )
            .evidence("path_len_constraint", limit.to_string())
            .evidence("intermediates_below", counted.to_string())
            .fix("issue the leaf from a CA higher up, or reissue the constrained CA with a larger pathlen");
    }
}

/// Purpose: the leaf's EKU, every issuer's EKU when it carries one, and the leaf's key
/// usage against its EKU.
pub(crate) fn purpose(path: &Path<'_>, policy: &Policy, findings: &mut Findings) {
    let leaf = path.certs[0];
    let required = policy.required_ekus();

    if let Some((true, _)) = basic_constraints(leaf) {
        findings
            .error(
                Code::NoUsablePurpose,
                "the leaf is a CA certificate (CA:TRUE), which cannot be used as an end-entity certificate",
            )
            .evidence("basic_constraints", "CA:TRUE")
            .fix("issue an end-entity certificate (CA:FALSE) for the server or client");
        return;
    }
    // With a purpose to check, its EKU and key usage checks below say precisely what is
    // missing; "usable for nothing" is the answer only to "usable for anything?".
    if policy.purpose == crate::policy::Purpose::Any
        && leaf.purpose.kind == mutual_x509::PurposeKind::Unusable
    {
        findings
            .error(
                Code::NoUsablePurpose,
                format!("the leaf can be used for nothing: {}", leaf.purpose.summary),
            )
            .evidence("key_usage", key_usage(leaf).map_or("absent".into(), usages_text))
            .evidence("extended_key_usage", ekus_text(leaf))
            .fix("reissue it with a key usage and EKU that belong together (e.g. digitalSignature + serverAuth)");
        return;
    }

    match ekus(leaf) {
        None => {
            findings
                .warning(
                    Code::NoEku,
                    "the leaf has no extended key usage, so it is accepted for any purpose (RFC 5280 §4.2.1.12), as browsers and OpenSSL do",
                )
                .fix("issue certificates with an explicit EKU (serverAuth or clientAuth)");
        }
        Some(present) => {
            for oid in &required {
                if !present.iter().any(|p| p == oid) {
                    leaf_eku_mismatch(path, leaf, oid, &present, findings);
                }
            }
        }
    }

    // Issuers restrict what they issue through their own EKU (CA/B Forum, Chrome, webpki,
    // OpenSSL): a serverAuth-only CA cannot vouch for a client certificate.
    for &ca in path.intermediates().iter().chain(path.anchor().iter()) {
        let Some(present) = ekus(ca) else {
            continue;
        };
        for oid in &required {
            if !present.iter().any(|p| p == oid) {
                findings
                    .error(
                        Code::EkuMismatch,
                        format!(
                            "{} may only issue certificates for {}, not {}",
                            describe(path, ca),
                            names(&present),
                            eku_name(oid)
                        ),
                    )
                    .evidence("issuer_extended_key_usage", names(&present))
                    .evidence("required", eku_name(oid))
                    .fix(format!(
                        "issue {} certificates from a CA whose EKU includes {} (with mutual: the {} CA)",
                        eku_name(oid),
                        eku_name(oid),
                        if oid == Usage::ClientAuth.oid() { "client" } else { "server" }
                    ));
            }
        }
    }

    // Key usage must allow what the EKU is for (RFC 5280 §4.2.1.12).
    if let (Some(usage), Some(usages)) = (policy.purpose.usage(), key_usage(leaf))
        && !findings.has_error(Code::EkuMismatch)
    {
        let compatible = usage.compatible_key_usages();
        if !usages.iter().any(|bit| compatible.contains(bit)) {
            findings
                .error(
                    Code::KuEkuInconsistent,
                    format!(
                        "the leaf's key usage ({}) does not allow {}, which needs one of {}",
                        usages_text(usages),
                        usage.eku_name(),
                        usages_text(compatible)
                    ),
                )
                .evidence("key_usage", usages_text(usages))
                .evidence("extended_key_usage", ekus_text(leaf))
                .fix("reissue it with keyUsage digitalSignature (plus keyEncipherment for RSA server keys)");
        }
    }
}

fn leaf_eku_mismatch(
    path: &Path<'_>,
    leaf: &Certificate,
    required: &str,
    present: &[String],
    findings: &mut Findings,
) {
    let _ = path;
    let kind = if present.iter().all(|p| p == ANY_EKU) {
        "a certificate with only anyExtendedKeyUsage, which TLS clients and servers do not accept for a specific purpose".to_owned()
    } else {
        format!(
            "{} (EKU {})",
            leaf.purpose.kind.with_article(),
            names(present)
        )
    };
    let fix = match required {
        r if r == Usage::ServerAuth.oid() => {
            "a server certificate needs serverAuth: reissue it with the server profile (`mutual issue server`)"
        }
        r if r == Usage::ClientAuth.oid() => {
            "a client certificate needs clientAuth: reissue it with the client profile (`mutual issue client`)"
        }
        _ => "reissue it with the EKU the relying party requires",
    };
    findings
        .error(
            Code::EkuMismatch,
            format!(
                "this is {kind}; it cannot be used for {}",
                eku_name(required)
            ),
        )
        .evidence("extended_key_usage", names(present))
        .evidence("required", eku_name(required))
        .fix(fix);
}

/// Name constraints of every CA on the path (the anchor's included) against the names of
/// every certificate below it.
pub(crate) fn name_constraints(path: &Path<'_>, findings: &mut Findings) {
    let all = path.all();
    for (index, &ca) in all.iter().enumerate().skip(1) {
        let Some((permitted, excluded)) = constraints(ca) else {
            continue;
        };
        for &below in &all[..index] {
            for name in below.subject_alt_names() {
                let violation = if excluded.iter().any(|c| within(name, c)) {
                    Some("excluded")
                } else if permitted.iter().any(|c| same_kind(name, c))
                    && !permitted
                        .iter()
                        .any(|c| same_kind(name, c) && within(name, c))
                {
                    Some("not permitted")
                } else {
                    None
                };
                if let Some(violation) = violation {
                    findings
                        .error(
                            Code::NameConstraintsViolated,
                            format!(
                                "{} names `{}`, which {} constrains as {violation}",
                                describe(path, below),
                                name.display(),
                                describe(path, ca)
                            ),
                        )
                        .evidence("name", name.display())
                        .evidence(
                            "permitted",
                            permitted.iter().map(GeneralName::display).collect::<Vec<_>>().join(", "),
                        )
                        .evidence(
                            "excluded",
                            excluded.iter().map(GeneralName::display).collect::<Vec<_>>().join(", "),
                        )
                        .fix("issue certificates only for names inside the CA's constraints, or use a CA that covers the name");
                }
            }
        }
    }
}

fn constraints(ca: &Certificate) -> Option<(&[GeneralName], &[GeneralName])> {
    ca.extensions.iter().find_map(|e| match &e.value {
        ExtensionValue::NameConstraints {
            permitted,
            excluded,
        } => Some((permitted.as_slice(), excluded.as_slice())),
        _ => None,
    })
}

fn same_kind(name: &GeneralName, constraint: &GeneralName) -> bool {
    std::mem::discriminant(name) == std::mem::discriminant(constraint)
}

/// RFC 5280 §4.2.1.10 subtree membership for the name forms TLS uses.
fn within(name: &GeneralName, constraint: &GeneralName) -> bool {
    match (name, constraint) {
        (GeneralName::Dns(name), GeneralName::Dns(base)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            let base = base.trim_end_matches('.').to_ascii_lowercase();
            let base = base.trim_start_matches('.');
            base.is_empty() || name == base || name.ends_with(&format!(".{base}"))
        }
        (GeneralName::Email(email), GeneralName::Email(base)) => {
            let email = email.to_ascii_lowercase();
            let base = base.to_ascii_lowercase();
            if base.contains('@') {
                email == base
            } else if let Some(domain) = base.strip_prefix('.') {
                email
                    .rsplit_once('@')
                    .is_some_and(|(_, host)| host.ends_with(&format!(".{domain}")))
            } else {
                email.rsplit_once('@').is_some_and(|(_, host)| host == base)
            }
        }
        (GeneralName::Ip(address), GeneralName::Ip(subnet)) => ip_in_subnet(address, subnet),
        (GeneralName::Uri(uri), GeneralName::Uri(base)) => {
            let host = uri
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or(uri)
                .split(['/', ':', '?', '#'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            let base = base.to_ascii_lowercase();
            match base.strip_prefix('.') {
                Some(domain) => host.ends_with(&format!(".{domain}")),
                None => host == base,
            }
        }
        _ => false,
    }
}

fn ip_in_subnet(address: &str, subnet: &str) -> bool {
    let Ok(address) = address.parse::<std::net::IpAddr>() else {
        return false;
    };
    let Some((network, prefix)) = subnet.split_once('/') else {
        return false;
    };
    let (Ok(network), Ok(prefix)) = (network.parse::<std::net::IpAddr>(), prefix.parse::<u32>())
    else {
        return false;
    };
    let bits = |ip: std::net::IpAddr| -> (u128, u32) {
        match ip {
            std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
            std::net::IpAddr::V6(v6) => (u128::from(v6), 128),
        }
    };
    let ((a, width_a), (n, width_n)) = (bits(address), bits(network));
    if width_a != width_n || prefix > width_a {
        return false;
    }
    let shift = width_a - prefix;
    shift >= 128 || (a >> shift) == (n >> shift)
}

/// The leaf must name the host in its subjectAltName.
pub(crate) fn host(path: &Path<'_>, policy: &Policy, findings: &mut Findings) {
    let Some(host) = &policy.host else {
        return;
    };
    let HostMatch::Mismatch(mismatch) = match_host(host, path.certs[0]) else {
        return;
    };
    let message = if mismatch.only_in_common_name {
        format!(
            "`{host}` appears only in the subject CN, which clients have ignored since RFC 6125 (2011): it must be in the subjectAltName"
        )
    } else {
        format!("the certificate is not valid for `{host}`")
    };
    let diagnosis = findings.error(Code::HostnameMismatch, message);
    diagnosis.evidence("host", host.to_string()).evidence(
        "subject_alt_names",
        if mismatch.sans.is_empty() {
            "none".to_owned()
        } else {
            mismatch.sans.join(", ")
        },
    );
    if let Some(cn) = path.certs[0].common_name() {
        diagnosis.evidence("subject_cn", cn);
    }
    for (wildcard, why) in &mismatch.refused_wildcards {
        diagnosis.evidence("refused_wildcard", format!("{wildcard}: {why}"));
    }
    diagnosis.fix(format!(
        "reissue the certificate with `{host}` as a subjectAltName (`mutual issue server {host}`), or connect with a name it carries"
    ));
}

/// `--max-depth`: the most intermediates the path may hold.
pub(crate) fn depth(path: &Path<'_>, policy: &Policy, findings: &mut Findings) {
    let Some(limit) = policy.max_depth else {
        return;
    };
    let count = path.intermediates().len();
    if count > limit {
        findings
            .error(
                Code::MaxDepthExceeded,
                format!("the path holds {count} intermediate CA certificates; at most {limit} are allowed (--max-depth)"),
            )
            .evidence("intermediates", count.to_string())
            .evidence("max_depth", limit.to_string())
            .fix("raise --max-depth if this PKI is meant to be this deep");
    }
}

pub(crate) fn basic_constraints(certificate: &Certificate) -> Option<(bool, Option<u32>)> {
    certificate.extensions.iter().find_map(|e| match &e.value {
        ExtensionValue::BasicConstraints { ca, path_len } => Some((*ca, *path_len)),
        _ => None,
    })
}

pub(crate) fn key_usage(certificate: &Certificate) -> Option<&[KeyUsageBit]> {
    certificate.extensions.iter().find_map(|e| match &e.value {
        ExtensionValue::KeyUsage { usages } => Some(usages.as_slice()),
        _ => None,
    })
}

/// The EKU OIDs, or `None` when the extension is absent.
pub(crate) fn ekus(certificate: &Certificate) -> Option<Vec<String>> {
    certificate.extensions.iter().find_map(|e| match &e.value {
        ExtensionValue::ExtendedKeyUsage { purposes } => {
            Some(purposes.iter().map(|p| p.oid.clone()).collect())
        }
        _ => None,
    })
}

fn ekus_text(certificate: &Certificate) -> String {
    ekus(certificate).map_or_else(|| "absent".to_owned(), |ekus| names(&ekus))
}

fn usages_text(usages: &[KeyUsageBit]) -> String {
    usages
        .iter()
        .map(|bit| bit.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn eku_name(oid: &str) -> String {
    Usage::ALL
        .iter()
        .find(|usage| usage.oid() == oid)
        .map(|usage| usage.eku_name().to_owned())
        .unwrap_or_else(|| {
            if oid == ANY_EKU {
                "anyExtendedKeyUsage".to_owned()
            } else {
                oid.to_owned()
            }
        })
}

fn names(oids: &[String]) -> String {
    oids.iter()
        .map(|oid| eku_name(oid))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtrees() {
        let dns = |s: &str| GeneralName::Dns(s.into());
        assert!(within(&dns("a.example.internal"), &dns("example.internal")));
        assert!(within(
            &dns("a.example.internal"),
            &dns(".example.internal")
        ));
        assert!(within(&dns("example.internal"), &dns("example.internal")));
        assert!(!within(
            &dns("badexample.internal"),
            &dns("example.internal")
        ));
        assert!(!within(&dns("example.com"), &dns("example.internal")));
        let ip = |s: &str| GeneralName::Ip(s.into());
        assert!(within(&ip("10.1.2.3"), &ip("10.0.0.0/8")));
        assert!(!within(&ip("11.1.2.3"), &ip("10.0.0.0/8")));
        assert!(!within(&ip("::1"), &ip("10.0.0.0/8")));
        assert!(within(&ip("::1"), &ip("::/0")));
        let email = |s: &str| GeneralName::Email(s.into());
        assert!(within(&email("a@example.com"), &email("example.com")));
        assert!(within(&email("a@x.example.com"), &email(".example.com")));
        assert!(!within(&email("a@example.com"), &email(".example.com")));
    }
}
