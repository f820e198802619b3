//! Purpose consistency, the subject of this project: what a certificate says it is for
//! (EKU), what its key may do (KU), what it names (SAN) and whether it is a CA must agree,
//! and a server, client or OCSP certificate must be what its relying parties expect.

use mutual_x509::KeyUsageBit;

use crate::meta::prelude::*;
use crate::oids;
use crate::subject::{Claims, KeyKind, SanEntry};

fn usage_consistent(c: &Claims, eku: &str, wanted: &[KeyUsageBit], name: &str) -> Outcome {
    match c.key_usage() {
        Some(ku) if c.has_eku(eku) => {
            Outcome::fail_if(!wanted.iter().any(|b| ku.contains(b)), || {
                format!(
                    "EKU {name} with keyUsage ({}), none of {}",
                    bits(ku),
                    bits(wanted)
                )
            })
        }
        _ => Outcome::NotApplicable,
    }
}

fn bits(list: &[KeyUsageBit]) -> String {
    if list.is_empty() {
        return "none".to_owned();
    }
    list.iter()
        .map(|b| b.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// On a CA the EKU limits what it may vouch for, not how its own key is used, so these
/// three apply to leaves.
///
/// RFC 5280 §4.2.1.12: "id-kp-serverAuth ... Key usage bits that may be consistent:
/// digitalSignature, keyEncipherment or keyAgreement", and "the certificate MUST only be
/// used for a purpose consistent with both extensions".
pub(crate) const SERVER_AUTH_KEY_USAGE: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_auth_key_usage_inconsistent",
        Error,
        Source::Rfc5280,
        "§4.2.1.12",
        "serverAuth with a keyUsage that has none of digitalSignature, keyEncipherment, keyAgreement",
    )
    .scope(LEAF),
    check: |c| {
        usage_consistent(
            c,
            oids::EKU_SERVER_AUTH,
            &[
                KeyUsageBit::DigitalSignature,
                KeyUsageBit::KeyEncipherment,
                KeyUsageBit::KeyAgreement,
            ],
            "serverAuth",
        )
    },
};

/// RFC 5280 §4.2.1.12: "id-kp-clientAuth ... Key usage bits that may be consistent:
/// digitalSignature and/or keyAgreement".
pub(crate) const CLIENT_AUTH_KEY_USAGE: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_client_auth_key_usage_inconsistent",
        Error,
        Source::Rfc5280,
        "§4.2.1.12",
        "clientAuth with a keyUsage that has neither digitalSignature nor keyAgreement",
    )
    .scope(LEAF),
    check: |c| {
        usage_consistent(
            c,
            oids::EKU_CLIENT_AUTH,
            &[KeyUsageBit::DigitalSignature, KeyUsageBit::KeyAgreement],
            "clientAuth",
        )
    },
};

/// RFC 5280 §4.2.1.12: "id-kp-OCSPSigning ... Key usage bits that may be consistent:
/// digitalSignature and/or nonRepudiation".
pub(crate) const OCSP_SIGNING_KEY_USAGE: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ocsp_signing_key_usage_inconsistent",
        Error,
        Source::Rfc5280,
        "§4.2.1.12",
        "OCSPSigning with a keyUsage that has neither digitalSignature nor nonRepudiation",
    )
    .scope(LEAF),
    check: |c| {
        usage_consistent(
            c,
            oids::EKU_OCSP_SIGNING,
            &[KeyUsageBit::DigitalSignature, KeyUsageBit::NonRepudiation],
            "OCSPSigning",
        )
    },
};

/// RFC 5280 §4.2.1.12: with both KU and EKU "the certificate MUST only be used for a purpose
/// consistent with both extensions. If there is no purpose consistent with both
/// extensions, then the certificate MUST NOT be used for any purpose."
pub(crate) const NO_PURPOSE_LEFT: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_key_usage_and_eku_disjoint",
        Error,
        Source::Mutual,
        "RFC 5280 §4.2.1.12",
        "keyUsage and extendedKeyUsage have no purpose in common: the certificate is usable for nothing",
    )
    .scope(LEAF),
    check: |c| {
        let (Some(ku), Some(eku)) = (c.key_usage(), c.eku()) else {
            return Outcome::NotApplicable;
        };
        if eku.iter().any(|e| e.oid == oids::EKU_ANY) {
            return Outcome::NotApplicable;
        }
        let usable = mutual_x509::Usage::ALL.iter().any(|u| {
            c.has_eku(u.oid()) && u.compatible_key_usages().iter().any(|b| ku.contains(b))
        });
        let known = eku.iter().any(|e| mutual_x509::Usage::ALL.iter().any(|u| u.oid() == e.oid));
        if !known {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!usable, || {
            format!(
                "keyUsage ({}) allows none of EKU ({})",
                bits(ku),
                eku.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
            )
        })
    },
};

/// A leaf whose EKU holds anyExtendedKeyUsage may be used for anything: the purpose split
/// `mutual` exists for is gone (CA/B BR §7.1.2.7.10 forbids it in TLS certificates).
pub(crate) const LEAF_ANY_EKU: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_leaf_eku_any",
        Warn,
        Source::Mutual,
        "RFC 5280 §4.2.1.12",
        "anyExtendedKeyUsage on a leaf: it is good for every purpose",
    )
    .scope(LEAF),
    check: |c| {
        Outcome::fail_if(c.has_eku(oids::EKU_ANY), || {
            "EKU lists anyExtendedKeyUsage".to_owned()
        })
    },
};

/// A leaf without EKU is, by RFC 5280 §4.2.1.12, good for any purpose: server, client,
/// code signing, e-mail.
pub(crate) const LEAF_EKU_MISSING: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_leaf_eku_missing",
        Warn,
        Source::Mutual,
        "RFC 5280 §4.2.1.12",
        "a leaf without extendedKeyUsage: it is good for every purpose",
    )
    .scope(LEAF),
    check: |c| {
        if c.request {
            // A request that asks for nothing leaves the purpose to the CA's profile.
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!c.has(oids::EKU), || {
            "no extendedKeyUsage extension".to_owned()
        })
    },
};

/// Chrome's root program and the CA/B Forum are moving public TLS hierarchies to
/// serverAuth only (clientAuth phased out from 2026-06-15): one leaf for both purposes ties
/// a server's life to its clients'.
pub(crate) const SERVER_AND_CLIENT: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_leaf_server_and_client_auth",
        Warn,
        Source::Mutual,
        "Chrome Root Program Policy §3.2.2; CA/B Forum TLS BR §7.1.2.7.10",
        "serverAuth and clientAuth on one leaf",
    )
    .scope(LEAF),
    check: |c| {
        Outcome::fail_if(
            c.has_eku(oids::EKU_SERVER_AUTH) && c.has_eku(oids::EKU_CLIENT_AUTH),
            || "EKU lists serverAuth and clientAuth".to_owned(),
        )
    },
};

/// A TLS client matches the host it connects to against the SAN only (RFC 6125 §6.4.4,
/// CA/B BR §7.1.2.7.12): a server certificate without DNS or IP SAN matches no host.
pub(crate) const SERVER_WITHOUT_HOST_SAN: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_without_dns_or_ip_san",
        Error,
        Source::Mutual,
        "RFC 6125 §6.4.4",
        "a server certificate with no DNS or IP subjectAltName",
    )
    .scope(SERVER),
    check: |c| {
        let hosts = c
            .san
            .iter()
            .any(|n| matches!(n, SanEntry::Dns(_) | SanEntry::Ip(_)));
        Outcome::fail_if(!hosts, || match c.common_names().next() {
            Some(cn) => format!("no DNS/IP SAN; CN `{cn}` is ignored by clients"),
            None => "no DNS/IP SAN".to_owned(),
        })
    },
};

/// CA/B BR §7.1.4.3 (subject commonName): "If present, this field MUST contain exactly one
/// entry that is one of the values contained in the Certificate's subjectAltName
/// extension" — clients ignore the CN, so one that is not in the SAN misleads people.
pub(crate) const SERVER_CN_NOT_IN_SAN: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_common_name_not_in_san",
        Error,
        Source::CabfBr,
        "§7.1.4.3",
        "a server certificate's common name is not one of its subjectAltNames",
    )
    .scope(SERVER),
    check: |c| {
        let mut cns = c.common_names().peekable();
        if cns.peek().is_none() {
            return Outcome::NotApplicable;
        }
        let missing: Vec<String> = cns
            .filter(|cn| {
                !c.san.iter().any(|n| match n {
                    SanEntry::Dns(d) => d.eq_ignore_ascii_case(cn),
                    SanEntry::Ip(b) => crate::subject::ip_text(b) == *cn,
                    _ => false,
                })
            })
            .map(|cn| format!("`{cn}`"))
            .collect();
        Outcome::fail_if(!missing.is_empty(), || {
            format!("CN {} not in SAN", missing.join(", "))
        })
    },
};

/// A client certificate identifies a user, device or service; DNS names in it are unusual
/// and some servers map them to host identities.
pub(crate) const CLIENT_DNS_SAN: Lint<Claims> = Lint {
    meta: Meta::new(
        "n_client_dns_san",
        Notice,
        Source::Mutual,
        "RFC 5280 §4.2.1.6",
        "a client certificate names DNS hosts",
    )
    .scope(CLIENT),
    check: |c| {
        if c.profiles.contains(Profile::Server) {
            return Outcome::NotApplicable;
        }
        let dns: Vec<&str> = c.dns_names().collect();
        Outcome::fail_if(!dns.is_empty(), || dns.join(", "))
    },
};

/// A certificate with CA:TRUE that names hosts, or whose key usage cannot sign
/// certificates, is a leaf marked as a CA: its key could issue certificates.
pub(crate) const LEAF_CA_TRUE: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_leaf_ca_true",
        Error,
        Source::Mutual,
        "RFC 5280 §4.2.1.9",
        "CA:TRUE on a certificate that names hosts (a server certificate that is also a CA)",
    ),
    check: |c| {
        if !c.ca_flag() {
            return Outcome::NotApplicable;
        }
        let hosts: Vec<String> = c
            .san
            .iter()
            .filter(|n| matches!(n, SanEntry::Dns(_) | SanEntry::Ip(_)))
            .map(SanEntry::display)
            .collect();
        let tls = c.has_eku(oids::EKU_SERVER_AUTH) && !c.has_key_usage(KeyUsageBit::KeyCertSign);
        Outcome::fail_if(!hosts.is_empty() || tls, || {
            if hosts.is_empty() {
                "CA:TRUE with serverAuth and no keyCertSign".to_owned()
            } else {
                format!("CA:TRUE with {}", hosts.join(", "))
            }
        })
    },
};

/// RFC 6960 §4.2.2.2.1: a delegated responder's certificate should carry
/// id-pkix-ocsp-nocheck, or relying parties must check the responder's own revocation —
/// by asking the responder.
pub(crate) const OCSP_WITHOUT_NOCHECK: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_ocsp_signer_without_nocheck",
        Warn,
        Source::Mutual,
        "RFC 6960 §4.2.2.2.1",
        "an OCSP signing certificate without id-pkix-ocsp-nocheck",
    )
    .scope(OCSP),
    check: |c| {
        Outcome::fail_if(!c.has(oids::OCSP_NOCHECK), || {
            "no id-pkix-ocsp-nocheck extension".to_owned()
        })
    },
};

/// An OCSP responder's key signs revocation answers; letting it also authenticate TLS
/// peers puts that key on every server.
pub(crate) const OCSP_WITH_OTHER_EKU: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_ocsp_signer_with_other_eku",
        Warn,
        Source::Mutual,
        "RFC 6960 §4.2.2.2",
        "an OCSP signing certificate that is also good for other purposes",
    )
    .scope(OCSP),
    check: |c| {
        let others: Vec<&str> = c
            .eku()
            .unwrap_or(&[])
            .iter()
            .filter(|e| e.oid != oids::EKU_OCSP_SIGNING)
            .map(|e| e.name.as_str())
            .collect();
        Outcome::fail_if(!others.is_empty(), || others.join(", "))
    },
};

/// TLS 1.3 (and every ECDHE suite of TLS 1.2) authenticates a server by a signature: an
/// RSA server key limited to keyEncipherment only works with RSA key transport, which
/// TLS 1.3 removed.
pub(crate) const SERVER_RSA_KEY_ENCIPHERMENT_ONLY: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_server_rsa_key_usage_without_digital_signature",
        Warn,
        Source::Mutual,
        "RFC 8446 §4.4.3",
        "an RSA server certificate whose keyUsage lacks digitalSignature (no TLS 1.3)",
    )
    .scope(SERVER),
    check: |c| match c.key_usage() {
        Some(ku) if c.key_kind == KeyKind::Rsa => {
            Outcome::fail_if(!ku.contains(&KeyUsageBit::DigitalSignature), || {
                format!("keyUsage ({})", bits(ku))
            })
        }
        _ => Outcome::NotApplicable,
    },
};

/// A self-signed leaf can only be trusted by pinning it; worth knowing in an inventory.
pub(crate) const SELF_SIGNED_LEAF: Lint<Claims> = Lint {
    meta: Meta::new(
        "n_leaf_self_signed",
        Notice,
        Source::Mutual,
        "RFC 5280 §3.2",
        "a self-signed certificate that is not a CA",
    )
    .scope(LEAF),
    check: |c| {
        if c.request {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(c.self_signed && !c.ca_flag(), || {
            "self-signed leaf".to_owned()
        })
    },
};

pub(crate) const LINTS: &[&Lint<Claims>] = &[
    &SERVER_AUTH_KEY_USAGE,
    &CLIENT_AUTH_KEY_USAGE,
    &OCSP_SIGNING_KEY_USAGE,
    &NO_PURPOSE_LEFT,
    &LEAF_ANY_EKU,
    &LEAF_EKU_MISSING,
    &SERVER_AND_CLIENT,
    &SERVER_WITHOUT_HOST_SAN,
    &SERVER_CN_NOT_IN_SAN,
    &CLIENT_DNS_SAN,
    &LEAF_CA_TRUE,
    &OCSP_WITHOUT_NOCHECK,
    &OCSP_WITH_OTHER_EKU,
    &SERVER_RSA_KEY_ENCIPHERMENT_ONLY,
    &SELF_SIGNED_LEAF,
];
