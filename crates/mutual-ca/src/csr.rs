//! Requests that arrive as CSRs (`mutual sign`): the CSR is checked (signature, key
//! strength, no CA:TRUE) and its names become the request; everything else it asks for
//! (key usage, EKU, validity) is the profile's to decide, and is reported as ignored.

use mutual_x509::{Csr, ExtensionValue, GeneralName, SignatureCheck};
use x509_parser::prelude::FromDer;

use crate::issuance::{Refusal, Request, SubjectAltName};
use crate::key::KeyType;
use crate::profile::ProfileKind;

/// A CSR turned into a request, with the subject's public key to certify.
pub struct CsrRequest {
    pub request: Request,
    pub public_key: rcgen::SubjectPublicKeyInfo,
    /// What the CSR asked for that the profile overrides, for the user to see.
    pub ignored: Vec<String>,
}

/// Checks a CSR (DER) and turns it into a request under `profile`.
pub fn request_from_csr(
    der: &[u8],
    profile: ProfileKind,
    days: Option<u32>,
    requester: Option<String>,
) -> Result<CsrRequest, Vec<Refusal>> {
    let csr = Csr::from_der(der).map_err(|e| {
        vec![Refusal::BadCsr {
            detail: e.to_string(),
        }]
    })?;
    let mut refusals = Vec::new();
    match csr.signature {
        SignatureCheck::Valid => {}
        SignatureCheck::Invalid => refusals.push(Refusal::BadCsr {
            detail: "its signature does not verify with its own key: it was altered, or the requester does not hold the key".to_owned(),
        }),
        SignatureCheck::Unsupported => refusals.push(Refusal::BadCsr {
            detail: format!("its signature algorithm {} is not one mutual accepts", csr.signature_algorithm.name),
        }),
    }
    let key_type = key_type_of(&csr).map_err(|r| vec![r]);
    let key_type = match key_type {
        Ok(key_type) => Some(key_type),
        Err(mut r) => {
            refusals.append(&mut r);
            None
        }
    };
    let mut sans = Vec::new();
    let mut ignored = Vec::new();
    for extension in &csr.requested_extensions {
        match &extension.value {
            ExtensionValue::BasicConstraints { ca: true, .. } => {
                refusals.push(Refusal::CaRequested)
            }
            ExtensionValue::BasicConstraints { ca: false, .. } => {}
            ExtensionValue::SubjectAltName { names } => {
                for name in names {
                    match name {
                        GeneralName::Dns(v) => sans.push(SubjectAltName::Dns(v.clone())),
                        GeneralName::Email(v) => sans.push(SubjectAltName::Email(v.clone())),
                        GeneralName::Uri(v) => sans.push(SubjectAltName::Uri(v.clone())),
                        GeneralName::Ip(v) => match v.parse() {
                            Ok(ip) => sans.push(SubjectAltName::Ip(ip)),
                            Err(_) => refusals.push(Refusal::BadCsr {
                                detail: format!("IP SAN `{v}` is not an address"),
                            }),
                        },
                        other => refusals.push(Refusal::SanNotAllowed {
                            profile,
                            san: other.display(),
                        }),
                    }
                }
            }
            ExtensionValue::KeyUsage { .. } | ExtensionValue::ExtendedKeyUsage { .. } => {
                ignored.push(format!(
                    "requested {} (the {profile} profile decides it)",
                    extension.name
                ));
            }
            _ => ignored.push(format!(
                "requested extension {} (not copied from CSRs)",
                extension.name
            )),
        }
    }
    let common_name = csr
        .subject
        .values("CN")
        .next()
        .unwrap_or_default()
        .to_owned();
    let public_key = x509_parser::certification_request::X509CertificationRequest::from_der(der)
        .ok()
        .and_then(|(_, parsed)| {
            rcgen::SubjectPublicKeyInfo::from_der(parsed.certification_request_info.subject_pki.raw)
                .ok()
        });
    let Some(public_key) = public_key else {
        refusals.push(Refusal::BadCsr {
            detail: "its public key cannot be used".to_owned(),
        });
        return Err(refusals);
    };
    match (key_type, refusals.is_empty()) {
        (Some(key_type), true) => Ok(CsrRequest {
            request: Request {
                profile,
                common_name,
                sans,
                days,
                key_type,
                requester,
            },
            public_key,
            ignored,
        }),
        _ => Err(refusals),
    }
}

/// The key type of the CSR's key, refusing weak or unsupported keys.
fn key_type_of(csr: &Csr) -> Result<KeyType, Refusal> {
    let key = &csr.public_key;
    let weak = |why: String| Refusal::WeakKey { detail: why };
    match (key.algorithm.as_str(), key.curve.as_deref(), key.bits) {
        ("RSA", _, Some(bits)) if bits < 2048 => {
            Err(weak(format!("RSA {bits} bits; at least 2048 are needed")))
        }
        ("RSA", _, Some(2048)) => Ok(KeyType::Rsa2048),
        ("RSA", _, Some(3072)) => Ok(KeyType::Rsa3072),
        ("RSA", _, Some(4096)) => Ok(KeyType::Rsa4096),
        ("RSA", _, bits) => Err(weak(format!(
            "RSA {} bits; accepted sizes are 2048, 3072 and 4096",
            bits.map_or_else(|| "?".to_owned(), |b| b.to_string())
        ))),
        ("EC", Some("P-256"), _) => Ok(KeyType::EcP256),
        ("EC", Some("P-384"), _) => Ok(KeyType::EcP384),
        ("EC", curve, _) => Err(weak(format!(
            "EC curve {}; accepted curves are P-256 and P-384",
            curve.unwrap_or("?")
        ))),
        ("Ed25519", _, _) => Ok(KeyType::Ed25519),
        (other, _, _) => Err(weak(format!("{other} keys are not accepted"))),
    }
}
