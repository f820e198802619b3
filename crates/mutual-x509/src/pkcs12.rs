//! PKCS#12 / PFX bundles: every bag, its friendly name and local key id, how the bundle
//! is protected (modern PBES2/AES or legacy 3DES/RC2 with a SHA-1 MAC), and whether each
//! key matches a certificate in the bundle.

use serde::Serialize;
use time::OffsetDateTime;

use crate::certificate::Certificate;
use crate::error::DecodeError;
use crate::hex;
use crate::key::{self, PrivateKey};
use crate::oids;
use crate::tlv::{self, INTEGER, OCTET_STRING, OID, SEQUENCE};

const DATA: &str = "1.2.840.113549.1.7.1";
const ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
const SHROUDED_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.2";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pkcs12 {
    /// The integrity MAC; absent in MAC-less bundles (which anyone can alter).
    pub mac: Option<MacInfo>,
    /// How each part of the bundle is encrypted: certificates are usually in one
    /// encrypted safe, keys in shrouded key bags.
    pub protection: Vec<String>,
    /// True when any part uses RC2, 3DES or a SHA-1 MAC: what old Windows, macOS and Java
    /// keystores need, and what OpenSSL 3 refuses without `-legacy`.
    pub legacy: bool,
    pub certificates: Vec<Pkcs12Certificate>,
    pub keys: Vec<Pkcs12Key>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MacInfo {
    pub algorithm: String,
    pub iterations: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pkcs12Certificate {
    pub friendly_name: Option<String>,
    pub local_key_id: Option<String>,
    pub certificate: Certificate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pkcs12Key {
    pub friendly_name: Option<String>,
    pub local_key_id: Option<String>,
    pub key: PrivateKey,
    /// Index into `certificates` of the certificate whose public key this key matches.
    pub matches_certificate: Option<usize>,
}

/// True when the DER is shaped like a PFX: version 3 then a ContentInfo.
pub(crate) fn looks_like_pfx(der: &[u8]) -> bool {
    let Ok((outer, _)) = tlv::read(der) else {
        return false;
    };
    let Ok(fields) = tlv::children(outer.value) else {
        return false;
    };
    matches!(fields.as_slice(), [version, auth_safe, ..]
        if version.tag == INTEGER && version.value == [3] && auth_safe.tag == SEQUENCE)
}

impl Pkcs12 {
    /// Decodes with `password`; without one, the empty password is tried (passwordless
    /// bundles exist) and a clear "password required" comes back if it fails.
    pub fn from_der(
        der: &[u8],
        password: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Self, DecodeError> {
        let archive = p12_keystore::Pkcs12Archive::from_pkcs12(der, password.unwrap_or(""))
            .map_err(|error| classify(error, password.is_some()))?;
        let (mac, protection) = outer_protection(der);
        let legacy = mac.as_ref().is_some_and(|m| m.algorithm == "SHA1")
            || protection
                .iter()
                .any(|p| p.contains("RC2") || p.contains("TripleDES"));

        let mut certificates = Vec::new();
        for bag in &archive.certs {
            certificates.push(Pkcs12Certificate {
                friendly_name: bag.friendly_name.clone(),
                local_key_id: bag.local_key_id.as_deref().map(hex::lower),
                certificate: Certificate::from_der(bag.cert.as_der(), now)?,
            });
        }
        let mut keys = Vec::new();
        for bag in &archive.keys {
            let description =
                key::describe_pkcs8(bag.key.as_der()).ok_or_else(|| DecodeError::Pkcs12 {
                    detail: "a key bag does not hold a PKCS#8 private key".to_owned(),
                    source: None,
                })?;
            let local_key_id = bag.local_key_id.as_ref().map(|id| hex::lower(&id.0));
            let matches_certificate = description.public_key.as_ref().and_then(|public| {
                certificates
                    .iter()
                    .position(|c| &c.certificate.public_key.key_bytes == public)
            });
            keys.push(Pkcs12Key {
                friendly_name: bag.friendly_name.clone(),
                local_key_id,
                key: description,
                matches_certificate,
            });
        }
        Ok(Pkcs12 {
            mac,
            protection,
            legacy,
            certificates,
            keys,
        })
    }
}

fn classify(error: p12_keystore::error::Error, password_given: bool) -> DecodeError {
    use p12_keystore::error::Error as E;
    match error {
        // A failed MAC, or (without a MAC) padding that does not decrypt, is the password.
        E::MacError(_) | E::UnpadError if password_given => DecodeError::WrongPassword,
        E::MacError(_) | E::UnpadError => DecodeError::PasswordRequired,
        other => DecodeError::Pkcs12 {
            detail: other.to_string(),
            source: Some(other),
        },
    }
}

/// Reads the MAC algorithm and the encryption of each safe and key bag. Best effort: the
/// archive has already decoded, so a part we cannot describe is just left out.
fn outer_protection(der: &[u8]) -> (Option<MacInfo>, Vec<String>) {
    let mut protection = Vec::new();
    let Ok((pfx, _)) = tlv::read(der) else {
        return (None, protection);
    };
    let fields = tlv::children(pfx.value).unwrap_or_default();
    let mac = fields.get(2).and_then(|mac_data| {
        let parts = tlv::children(mac_data.value).ok()?;
        let digest_info = tlv::children(parts.first()?.value).ok()?;
        let algorithm = tlv::children(digest_info.first()?.value).ok()?;
        let oid = tlv::oid_to_string(algorithm.first().filter(|t| t.tag == OID)?.value);
        let iterations = parts.get(2).filter(|t| t.tag == INTEGER).map_or(1, |t| {
            t.value
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
        });
        Some(MacInfo {
            algorithm: oids::name_or_oid(&oid),
            iterations,
        })
    });
    // AuthenticatedSafe ::= SEQUENCE OF ContentInfo, inside the authSafe's OCTET STRING.
    if let Some(octets) = fields.get(1).and_then(content_octets)
        && let Ok((safes, _)) = tlv::read(&octets)
    {
        for safe in tlv::children(safes.value).unwrap_or_default() {
            describe_safe(&safe, &mut protection);
        }
    }
    (mac, protection)
}

/// The OCTET STRING content of a `data` ContentInfo.
fn content_octets(content_info: &tlv::Tlv<'_>) -> Option<Vec<u8>> {
    let parts = tlv::children(content_info.value).ok()?;
    if tlv::oid_to_string(parts.first()?.value) != DATA {
        return None;
    }
    let (octets, _) = tlv::read(parts.get(1)?.value).ok()?;
    (octets.tag == OCTET_STRING).then(|| octets.value.to_vec())
}

fn describe_safe(safe: &tlv::Tlv<'_>, protection: &mut Vec<String>) {
    let Ok(parts) = tlv::children(safe.value) else {
        return;
    };
    let Some(kind) = parts.first().map(|t| tlv::oid_to_string(t.value)) else {
        return;
    };
    if kind == ENCRYPTED_DATA {
        // [0] { EncryptedData { version, EncryptedContentInfo { type, algorithm, [0] } } }
        let algorithm = parts
            .get(1)
            .and_then(|explicit| tlv::read(explicit.value).ok())
            .and_then(|(encrypted_data, _)| tlv::children(encrypted_data.value).ok())
            .and_then(|fields| fields.get(1).and_then(|eci| tlv::children(eci.value).ok()))
            .and_then(|eci| {
                eci.get(1)
                    .map(|alg| key::describe_encryption_algorithm(alg.raw))
            });
        if let Some(algorithm) = algorithm {
            protection.push(format!("certificates: {algorithm}"));
        }
    } else if kind == DATA {
        // SafeContents ::= SEQUENCE OF SafeBag
        let Some(contents) = content_octets(safe) else {
            return;
        };
        let Ok((bags, _)) = tlv::read(&contents) else {
            return;
        };
        for bag in tlv::children(bags.value).unwrap_or_default() {
            let Ok(bag_fields) = tlv::children(bag.value) else {
                continue;
            };
            let is_shrouded = bag_fields
                .first()
                .is_some_and(|oid| tlv::oid_to_string(oid.value) == SHROUDED_KEY_BAG);
            if !is_shrouded {
                continue;
            }
            let algorithm = bag_fields
                .get(1)
                .and_then(|explicit| tlv::read(explicit.value).ok())
                .and_then(|(epki, _)| tlv::children(epki.value).ok())
                .and_then(|f| {
                    f.first()
                        .map(|alg| key::describe_encryption_algorithm(alg.raw))
                });
            if let Some(algorithm) = algorithm {
                protection.push(format!("private key: {algorithm}"));
            }
        }
    }
}
