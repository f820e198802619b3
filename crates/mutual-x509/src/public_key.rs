//! Public keys: algorithm, size or curve, and the SPKI pin people paste into configs.

use base64::Engine;
use serde::Serialize;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::oids;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicKeyInfo {
    /// `RSA`, `EC`, `Ed25519`, `Ed448`, `DSA`, or the algorithm OID.
    pub algorithm: String,
    pub oid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits: Option<u32>,
    /// `P-256`, `P-384`, `P-521` or the curve OID, for EC keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rsa_exponent: Option<u64>,
    /// base64(SHA-256(SubjectPublicKeyInfo)), the pin `curl --pinnedpubkey sha256//...`
    /// and HPKP-style configs take.
    pub spki_sha256: String,
    /// The subjectPublicKey BIT STRING content, to match private keys against.
    #[serde(skip)]
    pub key_bytes: Vec<u8>,
}

impl PublicKeyInfo {
    pub fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Self {
        let oid = crate::oids::dotted(&spki.algorithm.algorithm);
        let curve = ec_curve_oid(spki).map(|c| oids::name_or_oid(&c));
        let parsed = spki.parsed().ok();
        let (bits, rsa_exponent) = match &parsed {
            Some(PublicKey::RSA(rsa)) => (Some(rsa.key_size() as u32), rsa.try_exponent().ok()),
            Some(PublicKey::EC(point)) => (Some(point.key_size() as u32), None),
            _ => match oid.as_str() {
                "1.3.101.112" => (Some(256), None),
                "1.3.101.113" => (Some(456), None),
                _ => (None, None),
            },
        };
        let bits = match curve.as_deref() {
            Some("P-256") => Some(256),
            Some("P-384") => Some(384),
            Some("P-521") => Some(521),
            _ => bits,
        };
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, spki.raw);
        PublicKeyInfo {
            algorithm: oids::name_or_oid(&oid),
            oid,
            bits,
            curve,
            rsa_exponent,
            spki_sha256: base64::engine::general_purpose::STANDARD.encode(digest.as_ref()),
            key_bytes: spki.subject_public_key.data.to_vec(),
        }
    }

    /// `RSA 2048`, `EC P-256`, `Ed25519`.
    pub fn summary(&self) -> String {
        match (&self.curve, self.bits) {
            (Some(curve), _) => format!("{} {curve}", self.algorithm),
            (None, Some(bits)) if self.algorithm == "RSA" || self.algorithm == "DSA" => {
                format!("{} {bits}", self.algorithm)
            }
            _ => self.algorithm.clone(),
        }
    }
}

/// The named curve of an EC key, in dotted form.
pub(crate) fn ec_curve_oid(spki: &SubjectPublicKeyInfo<'_>) -> Option<String> {
    if crate::oids::dotted(&spki.algorithm.algorithm) != "1.2.840.10045.2.1" {
        return None;
    }
    let params = spki.algorithm.parameters.as_ref()?;
    params.as_oid().ok().map(|oid| crate::oids::dotted(&oid))
}
