//! RFC 5280 §4.2: extensions — each at most once, critical or not as the profile says, and
//! basicConstraints, keyUsage and pathLenConstraint telling one consistent story.

use mutual_x509::{ExtensionValue, KeyUsageBit};

use crate::meta::prelude::*;
use crate::oids;
use crate::subject::Claims;

fn criticality(c: &Claims, oid: &str, must_be: bool) -> Outcome {
    match c.raw(oid) {
        None => Outcome::NotApplicable,
        Some(e) => Outcome::fail_if(e.critical != must_be, || {
            format!("critical is {}", e.critical)
        }),
    }
}

/// §4.2: "A certificate MUST NOT include more than one instance of a particular
/// extension."
pub(crate) const DUPLICATE: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_duplicate",
        Error,
        Source::Rfc5280,
        "§4.2",
        "an extension appears more than once",
    ),
    check: |c| {
        let mut seen: Vec<&str> = Vec::new();
        let mut repeated: Vec<&str> = Vec::new();
        for e in &c.raw_extensions {
            if seen.contains(&e.oid.as_str()) {
                if !repeated.contains(&e.oid.as_str()) {
                    repeated.push(&e.oid);
                }
            } else {
                seen.push(&e.oid);
            }
        }
        Outcome::fail_if(!repeated.is_empty(), || {
            format!("repeated: {}", repeated.join(", "))
        })
    },
};

/// §4.2: an extension whose value does not decode as its type says cannot be processed.
pub(crate) const MALFORMED: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_malformed",
        Error,
        Source::Rfc5280,
        "§4.2",
        "an extension's value does not decode as its type",
    ),
    check: |c| {
        let bad: Vec<String> = c
            .raw_extensions
            .iter()
            .filter_map(|e| e.malformed.as_ref().map(|why| format!("{}: {why}", e.oid)))
            .collect();
        Outcome::fail_if(!bad.is_empty(), || bad.join("; "))
    },
};

/// §4.2: "A certificate-using system MUST reject the certificate if it encounters a
/// critical extension it does not recognize".
pub(crate) const UNKNOWN_CRITICAL: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_ext_unknown_critical",
        Warn,
        Source::Rfc5280,
        "§4.2",
        "a critical extension most relying parties do not recognise: they must reject it",
    ),
    check: |c| {
        let unknown: Vec<&str> = c
            .extensions
            .iter()
            .filter(|e| e.critical && matches!(e.value, ExtensionValue::Unknown { .. }))
            .map(|e| e.oid.as_str())
            .collect();
        Outcome::fail_if(!unknown.is_empty(), || unknown.join(", "))
    },
};

/// §4.2.1.6: "If the subject field contains an empty sequence, then the issuing CA MUST
/// include a subjectAltName extension that is marked as critical."
pub(crate) const SAN_NOT_CRITICAL_EMPTY_SUBJECT: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_san_not_critical_without_subject",
        Error,
        Source::Rfc5280,
        "§4.2.1.6",
        "the subject is empty and the subjectAltName is not critical",
    ),
    check: |c| match c.raw(oids::SAN) {
        Some(e) if c.subject.is_empty() => {
            Outcome::fail_if(!e.critical, || "empty subject, SAN not critical".to_owned())
        }
        _ => Outcome::NotApplicable,
    },
};

/// §4.2.1.6: "When including the subjectAltName extension in a certificate that has a
/// non-empty subject distinguished name, conforming CAs SHOULD mark the subjectAltName
/// extension as non-critical."
pub(crate) const SAN_CRITICAL_WITH_SUBJECT: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_ext_san_critical_with_subject",
        Warn,
        Source::Rfc5280,
        "§4.2.1.6",
        "the subject is not empty and the subjectAltName is critical",
    ),
    check: |c| match c.raw(oids::SAN) {
        Some(e) if !c.subject.is_empty() => {
            Outcome::fail_if(e.critical, || "non-empty subject, SAN critical".to_owned())
        }
        _ => Outcome::NotApplicable,
    },
};

/// §4.2.1.6: "subjectAltName ::= GeneralNames; GeneralNames ::= SEQUENCE SIZE (1..MAX)":
/// "If the subjectAltName extension is present, the sequence MUST contain at least one
/// entry."
pub(crate) const SAN_EMPTY: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_san_empty",
        Error,
        Source::Rfc5280,
        "§4.2.1.6",
        "the subjectAltName extension holds no names",
    ),
    check: |c| match c.raw(oids::SAN) {
        Some(e) => Outcome::fail_if(e.value == [0x30, 0x00], || "empty GeneralNames".to_owned()),
        None => Outcome::NotApplicable,
    },
};

/// §4.2.1.2: "Conforming CAs MUST mark this extension as non-critical."
pub(crate) const SKI_CRITICAL: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_subject_key_identifier_critical",
        Error,
        Source::Rfc5280,
        "§4.2.1.2",
        "subjectKeyIdentifier is marked critical",
    ),
    check: |c| criticality(c, oids::SKI, false),
};

/// §4.2.1.1: "Conforming CAs MUST mark this extension as non-critical."
pub(crate) const AKI_CRITICAL: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_authority_key_identifier_critical",
        Error,
        Source::Rfc5280,
        "§4.2.1.1",
        "authorityKeyIdentifier is marked critical",
    ),
    check: |c| criticality(c, oids::AKI, false),
};

/// §4.2.2.1: "Conforming CAs MUST mark this extension as non-critical."
pub(crate) const AIA_CRITICAL: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_authority_info_access_critical",
        Error,
        Source::Rfc5280,
        "§4.2.2.1",
        "authorityInfoAccess is marked critical",
    ),
    check: |c| criticality(c, oids::AIA, false),
};

/// §4.2.1.13: "The extension SHOULD be non-critical".
pub(crate) const CRL_DP_CRITICAL: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_ext_crl_distribution_points_critical",
        Warn,
        Source::Rfc5280,
        "§4.2.1.13",
        "cRLDistributionPoints is marked critical",
    ),
    check: |c| criticality(c, oids::CRL_DP, false),
};

/// §4.2.1.9: CAs "MUST mark the extension as critical in such certificates".
pub(crate) const BASIC_CONSTRAINTS_NOT_CRITICAL: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_basic_constraints_not_critical_ca",
        Error,
        Source::Rfc5280,
        "§4.2.1.9",
        "a CA certificate's basicConstraints is not critical",
    )
    .scope(CA),
    check: |c| criticality(c, oids::BASIC_CONSTRAINTS, true),
};

/// §4.2.1.3: "If the keyCertSign bit is asserted, then the cA bit in the basic constraints
/// extension MUST also be asserted" — and §4.2.1.9: "If the cA boolean is asserted [and
/// keyUsage is present], then the keyCertSign bit in the key usage extension MUST be
/// asserted."
pub(crate) const CA_WITHOUT_KEY_CERT_SIGN: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ca_true_without_key_cert_sign",
        Error,
        Source::Rfc5280,
        "§4.2.1.9",
        "basicConstraints says CA:TRUE but keyUsage lacks keyCertSign",
    ),
    check: |c| match c.key_usage() {
        Some(ku) if c.ca_flag() => {
            Outcome::fail_if(!ku.contains(&KeyUsageBit::KeyCertSign), || {
                "CA:TRUE, keyUsage without keyCertSign".to_owned()
            })
        }
        _ => Outcome::NotApplicable,
    },
};

/// §4.2.1.3: "If the keyCertSign bit is asserted, then the cA bit in the basic constraints
/// extension (Section 4.2.1.9) MUST also be asserted."
pub(crate) const KEY_CERT_SIGN_WITHOUT_CA: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_key_cert_sign_without_ca",
        Error,
        Source::Rfc5280,
        "§4.2.1.3",
        "keyUsage has keyCertSign but basicConstraints does not say CA:TRUE",
    ),
    check: |c| {
        if !c.has_key_usage(KeyUsageBit::KeyCertSign) {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!c.ca_flag(), || "keyCertSign without CA:TRUE".to_owned())
    },
};

/// §4.2.1.9: "CAs MUST NOT include the pathLenConstraint field unless the cA boolean is
/// asserted and the key usage extension asserts the keyCertSign bit."
pub(crate) const PATH_LEN_IMPROPER: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_path_len_constraint_improperly_included",
        Error,
        Source::Rfc5280,
        "§4.2.1.9",
        "pathLenConstraint without CA:TRUE and keyCertSign",
    ),
    check: |c| match c.basic_constraints() {
        Some((ca, Some(len))) => {
            let ks = c
                .key_usage()
                .is_none_or(|ku| ku.contains(&KeyUsageBit::KeyCertSign));
            Outcome::fail_if(!ca || !ks, || {
                format!(
                    "pathLenConstraint {len} with CA:{} and keyCertSign {}",
                    ca,
                    if ks { "present" } else { "absent" }
                )
            })
        }
        _ => Outcome::NotApplicable,
    },
};

/// §4.2.1.3: "When the keyUsage extension appears in a certificate, at least one of the
/// bits MUST be set to 1."
pub(crate) const KEY_USAGE_EMPTY: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_key_usage_empty",
        Error,
        Source::Rfc5280,
        "§4.2.1.3",
        "keyUsage is present with no bit set",
    ),
    check: |c| match c.key_usage() {
        Some(ku) => Outcome::fail_if(ku.is_empty(), || "no bits set".to_owned()),
        None => Outcome::NotApplicable,
    },
};

/// §4.2.1.3: "When present, conforming CAs SHOULD mark this extension as critical."
pub(crate) const KEY_USAGE_NOT_CRITICAL: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_ext_key_usage_not_critical",
        Warn,
        Source::Rfc5280,
        "§4.2.1.3",
        "keyUsage is not marked critical",
    ),
    check: |c| criticality(c, oids::KEY_USAGE, true),
};

/// §4.2.1.3: "Conforming CAs MUST include this extension in certificates that contain
/// public keys that are used to validate digital signatures on other public key
/// certificates or CRLs."
pub(crate) const CA_KEY_USAGE_MISSING: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ca_key_usage_missing",
        Error,
        Source::Rfc5280,
        "§4.2.1.3",
        "a CA certificate has no keyUsage",
    )
    .scope(CA),
    check: |c| {
        Outcome::fail_if(c.key_usage().is_none(), || {
            "no keyUsage extension".to_owned()
        })
    },
};

/// §4.2.1.3: "The meaning of the encipherOnly [decipherOnly] bit is undefined in the
/// absence of the keyAgreement bit."
pub(crate) const ENCIPHER_ONLY_WITHOUT_KEY_AGREEMENT: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_key_usage_encipher_decipher_only_without_key_agreement",
        Warn,
        Source::Rfc5280,
        "§4.2.1.3",
        "encipherOnly or decipherOnly without keyAgreement means nothing",
    ),
    check: |c| match c.key_usage() {
        Some(ku)
            if ku.contains(&KeyUsageBit::EncipherOnly)
                || ku.contains(&KeyUsageBit::DecipherOnly) =>
        {
            Outcome::fail_if(!ku.contains(&KeyUsageBit::KeyAgreement), || {
                "encipherOnly/decipherOnly set, keyAgreement not".to_owned()
            })
        }
        _ => Outcome::NotApplicable,
    },
};

/// §4.2.1.12: "ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId".
pub(crate) const EKU_EMPTY: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_extended_key_usage_empty",
        Error,
        Source::Rfc5280,
        "§4.2.1.12",
        "extendedKeyUsage is present with no purpose",
    ),
    check: |c| match c.raw(oids::EKU) {
        Some(e) => Outcome::fail_if(
            e.value == [0x30, 0x00] || c.eku().is_some_and(<[_]>::is_empty),
            || "empty KeyPurposeId sequence".to_owned(),
        ),
        None => Outcome::NotApplicable,
    },
};

/// §4.2.1.10: "Conforming CAs MUST mark this extension as critical".
pub(crate) const NAME_CONSTRAINTS_NOT_CRITICAL: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_name_constraints_not_critical",
        Error,
        Source::Rfc5280,
        "§4.2.1.10",
        "nameConstraints is not marked critical",
    ),
    check: |c| criticality(c, oids::NAME_CONSTRAINTS, true),
};

/// §4.2.1.10: "The name constraints extension, which MUST be used only in a CA
/// certificate".
pub(crate) const NAME_CONSTRAINTS_ON_LEAF: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_name_constraints_not_in_ca",
        Error,
        Source::Rfc5280,
        "§4.2.1.10",
        "nameConstraints in a certificate that is not a CA",
    )
    .scope(LEAF),
    check: |c| {
        Outcome::fail_if(c.has(oids::NAME_CONSTRAINTS), || {
            "nameConstraints present".to_owned()
        })
    },
};

/// §4.2.1.10: "Conforming CAs MUST NOT issue certificates where name constraints is an
/// empty sequence. That is, either the permittedSubtrees field or the excludedSubtrees
/// MUST be present."
pub(crate) const NAME_CONSTRAINTS_EMPTY: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_name_constraints_empty",
        Error,
        Source::Rfc5280,
        "§4.2.1.10",
        "nameConstraints has neither permitted nor excluded subtrees",
    ),
    check: |c| match c.raw(oids::NAME_CONSTRAINTS) {
        Some(e) => Outcome::fail_if(e.value == [0x30, 0x00], || {
            "empty NameConstraints".to_owned()
        }),
        None => Outcome::NotApplicable,
    },
};

/// §4.2.1.11: "Conforming CAs MUST mark this extension as critical."
pub(crate) const POLICY_CONSTRAINTS_NOT_CRITICAL: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_policy_constraints_not_critical",
        Error,
        Source::Rfc5280,
        "§4.2.1.11",
        "policyConstraints is not marked critical",
    ),
    check: |c| criticality(c, oids::POLICY_CONSTRAINTS, true),
};

/// §4.2.1.14: "Conforming CAs MUST mark this extension as critical."
pub(crate) const INHIBIT_ANY_POLICY_NOT_CRITICAL: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_inhibit_any_policy_not_critical",
        Error,
        Source::Rfc5280,
        "§4.2.1.14",
        "inhibitAnyPolicy is not marked critical",
    ),
    check: |c| criticality(c, oids::INHIBIT_ANY_POLICY, true),
};

/// §4.2.1.4: "A certificate policy OID MUST NOT appear more than once in a certificate
/// policies extension."
pub(crate) const POLICY_DUPLICATE: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_cert_policy_duplicate",
        Error,
        Source::Rfc5280,
        "§4.2.1.4",
        "a policy OID appears twice in certificatePolicies",
    ),
    check: |c| match c.extension(oids::CERT_POLICIES).map(|e| &e.value) {
        Some(ExtensionValue::CertificatePolicies { policies }) => {
            let mut seen: Vec<&str> = Vec::new();
            let mut twice: Vec<&str> = Vec::new();
            for p in policies {
                if seen.contains(&p.oid.as_str()) {
                    twice.push(&p.oid);
                }
                seen.push(&p.oid);
            }
            Outcome::fail_if(!twice.is_empty(), || twice.join(", "))
        }
        _ => Outcome::NotApplicable,
    },
};

pub(crate) const LINTS: &[&Lint<Claims>] = &[
    &DUPLICATE,
    &MALFORMED,
    &UNKNOWN_CRITICAL,
    &SAN_NOT_CRITICAL_EMPTY_SUBJECT,
    &SAN_CRITICAL_WITH_SUBJECT,
    &SAN_EMPTY,
    &SKI_CRITICAL,
    &AKI_CRITICAL,
    &AIA_CRITICAL,
    &CRL_DP_CRITICAL,
    &BASIC_CONSTRAINTS_NOT_CRITICAL,
    &CA_WITHOUT_KEY_CERT_SIGN,
    &KEY_CERT_SIGN_WITHOUT_CA,
    &PATH_LEN_IMPROPER,
    &KEY_USAGE_EMPTY,
    &KEY_USAGE_NOT_CRITICAL,
    &CA_KEY_USAGE_MISSING,
    &ENCIPHER_ONLY_WITHOUT_KEY_AGREEMENT,
    &EKU_EMPTY,
    &NAME_CONSTRAINTS_NOT_CRITICAL,
    &NAME_CONSTRAINTS_ON_LEAF,
    &NAME_CONSTRAINTS_EMPTY,
    &POLICY_CONSTRAINTS_NOT_CRITICAL,
    &INHIBIT_ANY_POLICY_NOT_CRITICAL,
    &POLICY_DUPLICATE,
];
