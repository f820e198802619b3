//! CA/B Forum TLS BR §7.1.2.7 (subscriber) and §7.1.2.10 (CA) extensions: policies, where
//! relying parties find the issuer and revocation, and what the EKU may hold. Mostly
//! requirements of public trust: notices under `--trust private`.

use mutual_x509::{ExtensionValue, GeneralName, KeyUsageBit};

use crate::meta::prelude::*;
use crate::oids;
use crate::subject::Claims;

/// §7.1.2.7.9: certificatePolicies MUST be present in a subscriber certificate.
pub(crate) const POLICIES_MISSING: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_certificate_policies_missing",
        Error,
        Source::CabfBr,
        "§7.1.2.7.9",
        "a server certificate without certificatePolicies",
    )
    .scope(SERVER)
    .public_only(),
    check: |c| {
        if c.request {
            // The CA adds policies; a request need not ask for them.
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!c.has(oids::CERT_POLICIES), || {
            "no certificatePolicies".to_owned()
        })
    },
};

/// §7.1.6.1 / §7.1.2.7.9: exactly one CA/B Forum reserved policy identifier
/// (2.23.140.1.2.x, DV/OV/IV, or EV 2.23.140.1.1) MUST be present.
pub(crate) const RESERVED_POLICY_MISSING: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_reserved_policy_missing",
        Error,
        Source::CabfBr,
        "§7.1.6.1",
        "certificatePolicies without a CA/B Forum reserved policy (2.23.140.1.x)",
    )
    .scope(SERVER)
    .public_only(),
    check: |c| match c.extension(oids::CERT_POLICIES).map(|e| &e.value) {
        Some(ExtensionValue::CertificatePolicies { policies }) => {
            let reserved = policies
                .iter()
                .any(|p| p.oid.starts_with(oids::CABF_TLS_POLICY_ARC) || p.oid == "2.23.140.1.1");
            Outcome::fail_if(!reserved, || {
                policies
                    .iter()
                    .map(|p| p.oid.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        }
        _ => Outcome::NotApplicable,
    },
};

fn access(c: &Claims) -> Option<&[mutual_x509::AccessDescription]> {
    c.extension(oids::AIA).and_then(|e| match &e.value {
        ExtensionValue::AuthorityInfoAccess { access } => Some(access.as_slice()),
        _ => None,
    })
}

/// §7.1.2.7.7: authorityInformationAccess MUST be present, with id-ad-caIssuers (and,
/// when the CA runs one, id-ad-ocsp).
pub(crate) const AIA_MISSING: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_aia_without_ocsp_or_ca_issuers",
        Error,
        Source::CabfBr,
        "§7.1.2.7.7",
        "a server certificate with no AIA OCSP or caIssuers location",
    )
    .scope(SERVER)
    .public_only(),
    check: |c| {
        if c.request {
            return Outcome::NotApplicable;
        }
        let found = access(c).is_some_and(|list| {
            list.iter()
                .any(|a| a.method == "OCSP" || a.method == "CA Issuers")
        });
        Outcome::fail_if(!found, || "no AIA OCSP or caIssuers".to_owned())
    },
};

fn uris_not_http(names: impl Iterator<Item = GeneralName>) -> Vec<String> {
    names
        .filter_map(|n| match n {
            GeneralName::Uri(u) if !u.to_ascii_lowercase().starts_with("http://") => Some(u),
            _ => None,
        })
        .collect()
}

/// §7.1.2.7.7: each AIA accessLocation "MUST be an HTTP URL" — https needs a validated
/// TLS connection to fetch what validation itself needs; ldap is not fetched by browsers.
pub(crate) const AIA_NOT_HTTP: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_aia_location_not_http",
        Error,
        Source::CabfBr,
        "§7.1.2.7.7",
        "an AIA location that is not an http:// URL (https, ldap...)",
    )
    .public_only(),
    check: |c| match access(c) {
        Some(list) => {
            let bad = uris_not_http(list.iter().map(|a| a.location.clone()));
            Outcome::fail_if(!bad.is_empty(), || bad.join(", "))
        }
        None => Outcome::NotApplicable,
    },
};

/// §7.1.2.11.2: a CRL distribution point's fullName "MUST be a URI ... the scheme MUST be
/// http" — not https, not ldap.
pub(crate) const CRL_DP_NOT_HTTP: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_crl_distribution_point_not_http",
        Error,
        Source::CabfBr,
        "§7.1.2.11.2",
        "a CRL distribution point that is not an http:// URL (https, ldap...)",
    )
    .public_only(),
    check: |c| match c.extension(oids::CRL_DP).map(|e| &e.value) {
        Some(ExtensionValue::CrlDistributionPoints { points }) => {
            let bad = uris_not_http(points.iter().flat_map(|p| p.names.iter().cloned()));
            Outcome::fail_if(!bad.is_empty(), || bad.join(", "))
        }
        _ => Outcome::NotApplicable,
    },
};

/// §7.1.2.7.10: extKeyUsage MUST be present in a subscriber certificate, and
/// id-kp-serverAuth MUST be among its purposes.
pub(crate) const EKU_MISSING: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_eku_without_server_auth",
        Error,
        Source::CabfBr,
        "§7.1.2.7.10",
        "a server certificate whose extendedKeyUsage is absent or lacks serverAuth",
    )
    .scope(SERVER),
    check: |c| {
        if c.request {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!c.has_eku(oids::EKU_SERVER_AUTH), || match c.eku() {
            None => "no extendedKeyUsage".to_owned(),
            Some(list) => format!(
                "EKU lists {}",
                list.iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    },
};

/// §7.1.2.7.10: anyExtendedKeyUsage MUST NOT be present in a subscriber certificate.
pub(crate) const EKU_ANY: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_eku_any",
        Error,
        Source::CabfBr,
        "§7.1.2.7.10",
        "anyExtendedKeyUsage in a server certificate",
    )
    .scope(SERVER)
    .public_only(),
    check: |c| {
        Outcome::fail_if(c.has_eku(oids::EKU_ANY), || {
            "anyExtendedKeyUsage".to_owned()
        })
    },
};

/// §7.1.2.7.10: id-kp-serverAuth MUST, id-kp-clientAuth MAY be present; codeSigning,
/// emailProtection, timeStamping and OCSPSigning MUST NOT.
pub(crate) const EKU_PROHIBITED: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_eku_prohibited_purpose",
        Error,
        Source::CabfBr,
        "§7.1.2.7.10",
        "a server certificate EKU with codeSigning, emailProtection, timeStamping or OCSPSigning",
    )
    .scope(SERVER)
    .public_only(),
    check: |c| {
        let bad: Vec<&str> = c
            .eku()
            .unwrap_or(&[])
            .iter()
            .filter(|e| {
                [
                    "1.3.6.1.5.5.7.3.3",
                    oids::EKU_EMAIL_PROTECTION,
                    "1.3.6.1.5.5.7.3.8",
                    oids::EKU_OCSP_SIGNING,
                ]
                .contains(&e.oid.as_str())
            })
            .map(|e| e.name.as_str())
            .collect();
        Outcome::fail_if(!bad.is_empty(), || bad.join(", "))
    },
};

/// §7.1.2.10.7: a CA certificate's keyUsage MUST include keyCertSign and cRLSign.
pub(crate) const CA_CRL_SIGN_MISSING: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ca_key_usage_crl_sign_missing",
        Error,
        Source::CabfBr,
        "§7.1.2.10.7",
        "a CA certificate whose keyUsage lacks cRLSign",
    )
    .scope(CA)
    .public_only(),
    check: |c| match c.key_usage() {
        Some(ku) => Outcome::fail_if(!ku.contains(&KeyUsageBit::CrlSign), || {
            "no cRLSign".to_owned()
        }),
        None => Outcome::NotApplicable,
    },
};

/// Chrome's and Apple's CT policies: a publicly-trusted server certificate carries
/// SCTs (RFC 6962) or it is rejected; a precertificate (with the poison extension) cannot.
pub(crate) const SCT_MISSING: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_server_sct_list_missing",
        Warn,
        Source::Mutual,
        "Chrome CT Policy; Apple CT Policy; RFC 6962 §3.3",
        "a server certificate without embedded SCTs (Certificate Transparency)",
    )
    .scope(SERVER)
    .public_only(),
    check: |c| {
        if c.has(oids::CT_POISON) || c.request {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!c.has(oids::SCT_LIST), || {
            "no SCT list extension".to_owned()
        })
    },
};

pub(crate) const LINTS: &[&Lint<Claims>] = &[
    &POLICIES_MISSING,
    &RESERVED_POLICY_MISSING,
    &AIA_MISSING,
    &AIA_NOT_HTTP,
    &CRL_DP_NOT_HTTP,
    &EKU_MISSING,
    &EKU_ANY,
    &EKU_PROHIBITED,
    &CA_CRL_SIGN_MISSING,
    &SCT_MISSING,
];
