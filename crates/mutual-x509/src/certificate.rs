//! A certificate decoded into everything `openssl x509 -text` shows, by name, plus what
//! it is for ([`Purpose`]) and what is odd about it ([`Diagnosis`]).

use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::diagnosis::Diagnosis;
use crate::error::DecodeError;
use crate::extensions::{Extension, ExtensionValue, GeneralName};
use crate::findings::Finding;
use crate::hex;
use crate::name::DistinguishedName;
use crate::oids;
use crate::public_key::PublicKeyInfo;
use crate::purpose::{Purpose, PurposeFacts, PurposeKind, Usage};
use crate::signature::{self, SignatureCheck};
use crate::validity::{Validity, ValidityStatus, rfc3339};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Algorithm {
    pub name: String,
    pub oid: String,
}

impl Algorithm {
    pub(crate) fn from_oid(oid: String) -> Self {
        Algorithm {
            name: oids::name_or_oid(&oid),
            oid,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fingerprints {
    pub sha256: String,
    pub sha1: String,
}

impl Fingerprints {
    pub fn of(der: &[u8]) -> Self {
        use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
        Fingerprints {
            sha256: Fingerprints::sha256_of(der),
            sha1: hex::colon_upper(digest(&SHA1_FOR_LEGACY_USE_ONLY, der).as_ref()),
        }
    }

    /// The SHA-256 fingerprint alone, as [`Fingerprints::sha256`] writes it: what a store
    /// keys certificates by, without the SHA-1 nobody asked for.
    pub fn sha256_of(der: &[u8]) -> String {
        use aws_lc_rs::digest::{SHA256, digest};
        hex::colon_upper(digest(&SHA256, der).as_ref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certificate {
    /// 1, 2 or 3, as printed (the encoded value plus one).
    pub version: u32,
    /// Upper-case hex of the serial's DER content octets, as `openssl x509 -serial` prints.
    pub serial: String,
    pub signature_algorithm: Algorithm,
    pub issuer: DistinguishedName,
    pub subject: DistinguishedName,
    pub validity: Validity,
    pub public_key: PublicKeyInfo,
    pub extensions: Vec<Extension>,
    pub fingerprints: Fingerprints,
    /// Subject equals issuer and the certificate's own key verifies its signature.
    pub self_signed: bool,
    pub purpose: Purpose,
    pub findings: Vec<Diagnosis>,
    #[serde(skip)]
    pub der: Vec<u8>,
}

impl Certificate {
    /// Decodes one DER certificate, refusing trailing bytes. `now` is the time validity
    /// is judged at.
    pub fn from_der(der: &[u8], now: OffsetDateTime) -> Result<Self, DecodeError> {
        Ok(Self::from_parsed(&Self::parse(der)?, now))
    }

    /// x509-parser's view of one DER certificate, refusing trailing bytes: for a caller
    /// that reads more from the DER than [`Certificate`] keeps (the linter), so the
    /// certificate is parsed once for both ([`Certificate::from_parsed`]).
    pub fn parse(der: &[u8]) -> Result<X509Certificate<'_>, DecodeError> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|error| DecodeError::Der {
            what: "certificate",
            detail: error.to_string(),
        })?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingData {
                what: "certificate",
                count: rest.len(),
            });
        }
        Ok(cert)
    }

    /// Decodes a certificate [`Certificate::parse`] has read.
    pub fn from_parsed(cert: &X509Certificate<'_>, now: OffsetDateTime) -> Self {
        let tbs = &cert.tbs_certificate;
        let der = cert.as_raw().to_vec();
        let extensions: Vec<Extension> =
            tbs.extensions().iter().map(Extension::from_x509).collect();
        let self_issued = tbs.subject.as_raw() == tbs.issuer.as_raw();
        let self_check = self_issued.then(|| {
            signature::check(
                &crate::oids::dotted(&cert.signature_algorithm.algorithm),
                &tbs.subject_pki,
                tbs.as_ref(),
                &cert.signature_value.data,
            )
        });
        // When we cannot check the algorithm, self-issued is the best evidence we have.
        let self_signed = matches!(
            self_check,
            Some(SignatureCheck::Valid | SignatureCheck::Unsupported)
        );
        let purpose = PurposeFacts::from_extensions(&extensions, self_signed).assess(false);
        let validity = Validity::new(
            tbs.validity.not_before.to_datetime(),
            tbs.validity.not_after.to_datetime(),
            now,
        );
        let mut certificate = Certificate {
            version: tbs.version.0 + 1,
            serial: serial_hex(tbs.raw_serial()),
            signature_algorithm: Algorithm::from_oid(crate::oids::dotted(
                &cert.signature_algorithm.algorithm,
            )),
            issuer: DistinguishedName::from_x509(&tbs.issuer),
            subject: DistinguishedName::from_x509(&tbs.subject),
            validity,
            public_key: PublicKeyInfo::from_spki(&tbs.subject_pki),
            fingerprints: Fingerprints::of(&der),
            extensions,
            self_signed,
            purpose,
            findings: Vec::new(),
            der,
        };
        let mut findings = certificate.find_oddities(tbs.raw_serial());
        if self_check == Some(SignatureCheck::Invalid) {
            findings.push(Finding::SelfSignatureInvalid);
        }
        certificate.findings = findings.iter().map(Finding::diagnosis).collect();
        certificate
    }

    /// Whether `issuer`'s public key verifies this certificate's signature (names are not
    /// compared: that is the caller's business).
    pub fn signature_by(&self, issuer: &Certificate) -> SignatureCheck {
        let (Ok((_, cert)), Ok((_, issuer))) = (
            X509Certificate::from_der(&self.der),
            X509Certificate::from_der(&issuer.der),
        ) else {
            // Both decoded once already; a second decode cannot fail.
            return SignatureCheck::Invalid;
        };
        signature::check(
            &crate::oids::dotted(&cert.signature_algorithm.algorithm),
            &issuer.tbs_certificate.subject_pki,
            cert.tbs_certificate.as_ref(),
            &cert.signature_value.data,
        )
    }

    /// The names in the subjectAltName extension.
    pub fn subject_alt_names(&self) -> &[GeneralName] {
        self.extensions
            .iter()
            .find_map(|e| match &e.value {
                ExtensionValue::SubjectAltName { names } => Some(names.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    pub fn extension(&self, oid: &str) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.oid == oid)
    }

    /// The subject CN, if any (the first one).
    pub fn common_name(&self) -> Option<&str> {
        self.subject.values("CN").next()
    }

    /// The serial as openssl's text output shows it: colon-separated hex.
    pub fn serial_colon_hex(&self) -> String {
        let bytes: Vec<String> = self
            .serial
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        bytes.join(":")
    }

    fn find_oddities(&self, raw_serial: &[u8]) -> Vec<Finding> {
        let mut found = Vec::new();
        let sans = self.subject_alt_names();
        let dns: Vec<String> = sans
            .iter()
            .filter_map(|n| match n {
                GeneralName::Dns(d) => Some(d.clone()),
                _ => None,
            })
            .collect();
        let has_host_name = sans
            .iter()
            .any(|n| matches!(n, GeneralName::Dns(_) | GeneralName::Ip(_)));
        let kind = self.purpose.kind;
        let is_ca = self.purpose.ca.is_some();
        let explicit_server = self
            .extensions
            .iter()
            .any(|e| matches!(&e.value, ExtensionValue::ExtendedKeyUsage { purposes } if purposes.iter().any(|p| p.oid == Usage::ServerAuth.oid())));

        if !is_ca && explicit_server && self.purpose.allows(Usage::ServerAuth) && !has_host_name {
            found.push(Finding::ServerWithoutSan {
                common_name: self.common_name().map(str::to_owned),
            });
        }
        if kind == PurposeKind::Client && !dns.is_empty() {
            found.push(Finding::ClientWithDnsSan { names: dns.clone() });
        }
        if kind == PurposeKind::ServerAndClient {
            found.push(Finding::ServerAndClientEku);
        }
        if kind == PurposeKind::Unusable {
            let ku = self.extensions.iter().find_map(|e| match &e.value {
                ExtensionValue::KeyUsage { usages } => Some(
                    usages
                        .iter()
                        .map(|u| u.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                _ => None,
            });
            let eku = self.extensions.iter().find_map(|e| match &e.value {
                ExtensionValue::ExtendedKeyUsage { purposes } => Some(
                    purposes
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                _ => None,
            });
            found.push(Finding::KeyUsageContradictsEku {
                key_usage: ku.unwrap_or_else(|| "(absent)".to_owned()),
                eku: eku.unwrap_or_else(|| "(absent)".to_owned()),
            });
        }
        let ca_flag = self
            .extensions
            .iter()
            .any(|e| matches!(e.value, ExtensionValue::BasicConstraints { ca: true, .. }));
        if ca_flag {
            if !is_ca {
                found.push(Finding::LeafMarkedCa {
                    reason: "its key usage lacks keyCertSign".to_owned(),
                });
            } else if has_host_name {
                found.push(Finding::LeafMarkedCa {
                    reason: "it names hosts in its SAN".to_owned(),
                });
            }
        }
        if self.self_signed && !is_ca && !ca_flag {
            found.push(Finding::SelfSignedLeaf);
        }
        match self.validity.status {
            ValidityStatus::Expired => found.push(Finding::Expired {
                not_after: rfc3339(self.validity.not_after),
                relative: self.validity.relative.clone(),
            }),
            ValidityStatus::NotYetValid => found.push(Finding::NotYetValid {
                not_before: rfc3339(self.validity.not_before),
                relative: self.validity.relative.clone(),
            }),
            ValidityStatus::Valid => {}
        }
        for extension in &self.extensions {
            match &extension.value {
                ExtensionValue::Unknown { .. } if extension.critical => {
                    found.push(Finding::UnknownCriticalExtension {
                        oid: extension.oid.clone(),
                    });
                }
                ExtensionValue::Malformed { error, .. } => {
                    found.push(Finding::MalformedExtension {
                        name: extension.name.clone(),
                        error: error.clone(),
                    })
                }
                _ => {}
            }
        }
        if raw_serial.first().is_some_and(|b| b & 0x80 != 0) {
            found.push(Finding::NegativeSerial {
                serial: self.serial.clone(),
            });
        }
        if raw_serial.len() > 20 {
            found.push(Finding::SerialTooLong {
                octets: raw_serial.len(),
            });
        }
        if raw_serial.iter().all(|&b| b == 0) {
            found.push(Finding::ZeroSerial);
        }
        for (field, name) in [("subject", &self.subject), ("issuer", &self.issuer)] {
            for attribute in name.attributes.iter().filter(|a| !a.valid_encoding) {
                found.push(Finding::NameNotWellEncoded {
                    field,
                    attribute: attribute.name.clone(),
                    string_type: attribute.string_type,
                });
            }
        }
        found
    }
}

/// Upper-case hex of a serial's content octets without the sign-padding zero DER puts
/// before a high bit, so it reads as `openssl x509 -serial` prints it.
pub(crate) fn serial_hex(raw: &[u8]) -> String {
    let trimmed = match raw {
        [0, next, ..] if next & 0x80 != 0 => &raw[1..],
        _ => raw,
    };
    hex::lower(trimmed).to_uppercase()
}
