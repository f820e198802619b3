//! Private keys are described, never printed: format, algorithm, size or curve, how they
//! are protected, and enough of the public half to tell which certificate they belong to.

use serde::Serialize;

use crate::error::DecodeError;
use crate::oids;
use crate::tlv::{self, INTEGER, OCTET_STRING, OID, SEQUENCE};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyFormat {
    /// `PRIVATE KEY`: PKCS#8 PrivateKeyInfo.
    Pkcs8,
    /// `ENCRYPTED PRIVATE KEY`: PKCS#8 EncryptedPrivateKeyInfo.
    EncryptedPkcs8,
    /// `RSA PRIVATE KEY`: PKCS#1.
    Pkcs1,
    /// `EC PRIVATE KEY`: SEC 1.
    Sec1,
    /// A traditional PEM key encrypted with `Proc-Type: 4,ENCRYPTED` headers.
    LegacyEncryptedPem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivateKey {
    pub format: KeyFormat,
    /// `RSA`, `EC`, `Ed25519`..., unknown for encrypted keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    /// How the key is encrypted, e.g. `PBES2 (scrypt, AES-256-CBC)`; absent when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<String>,
    /// The public key as it appears in a certificate's SubjectPublicKeyInfo BIT STRING,
    /// used to find the certificate that goes with the key.
    #[serde(skip)]
    pub public_key: Option<Vec<u8>>,
}

const RSA: &str = "1.2.840.113549.1.1.1";
const EC: &str = "1.2.840.10045.2.1";
const ED25519: &str = "1.3.101.112";

impl PrivateKey {
    /// Describes a key from its PEM label (or `PRIVATE KEY` for DER PKCS#8), the DER and
    /// the PEM headers.
    pub fn describe(
        label: &str,
        der: &[u8],
        headers: &[(String, String)],
    ) -> Result<Self, DecodeError> {
        if headers
            .iter()
            .any(|(k, v)| k == "Proc-Type" && v.contains("ENCRYPTED"))
        {
            let cipher = headers
                .iter()
                .find(|(k, _)| k == "DEK-Info")
                .and_then(|(_, v)| v.split(',').next())
                .unwrap_or("unknown cipher");
            return Ok(PrivateKey {
                format: KeyFormat::LegacyEncryptedPem,
                algorithm: label.strip_suffix(" PRIVATE KEY").map(str::to_owned),
                bits: None,
                curve: None,
                encryption: Some(format!(
                    "legacy PEM encryption ({cipher}, MD5 key derivation)"
                )),
                public_key: None,
            });
        }
        let bad = |detail: &str| DecodeError::Der {
            what: "private key",
            detail: detail.to_owned(),
        };
        match label {
            "PRIVATE KEY" => describe_pkcs8(der).ok_or_else(|| bad("not a PKCS#8 PrivateKeyInfo")),
            "RSA PRIVATE KEY" => {
                describe_pkcs1(der).ok_or_else(|| bad("not a PKCS#1 RSAPrivateKey"))
            }
            "EC PRIVATE KEY" => {
                describe_sec1(der, None).ok_or_else(|| bad("not a SEC 1 ECPrivateKey"))
            }
            "ENCRYPTED PRIVATE KEY" => {
                describe_encrypted(der).ok_or_else(|| bad("not a PKCS#8 EncryptedPrivateKeyInfo"))
            }
            _ => Err(bad("unknown key type")),
        }
    }

    /// `EC P-256`, `RSA 2048`, `encrypted`.
    pub fn summary(&self) -> String {
        match (&self.algorithm, &self.curve, self.bits) {
            (Some(alg), Some(curve), _) => format!("{alg} {curve}"),
            (Some(alg), None, Some(bits)) if alg == "RSA" => format!("{alg} {bits}"),
            (Some(alg), _, _) => alg.clone(),
            (None, _, _) => "unknown algorithm (encrypted)".to_owned(),
        }
    }
}

/// True when the DER looks like a PKCS#8 PrivateKeyInfo (version, algorithm, key).
pub(crate) fn is_pkcs8(der: &[u8]) -> bool {
    describe_pkcs8(der).is_some()
}

pub(crate) fn describe_pkcs8(der: &[u8]) -> Option<PrivateKey> {
    let (outer, rest) = tlv::read(der).ok()?;
    if outer.tag != SEQUENCE || !rest.is_empty() {
        return None;
    }
    let fields = tlv::children(outer.value).ok()?;
    let [version, algorithm, key, ..] = fields.as_slice() else {
        return None;
    };
    if version.tag != INTEGER || algorithm.tag != SEQUENCE || key.tag != OCTET_STRING {
        return None;
    }
    let alg_fields = tlv::children(algorithm.value).ok()?;
    let oid = alg_fields.first().filter(|t| t.tag == OID)?;
    let oid = tlv::oid_to_string(oid.value);
    let param_oid = alg_fields
        .get(1)
        .filter(|t| t.tag == OID)
        .map(|t| tlv::oid_to_string(t.value));
    match oid.as_str() {
        RSA => describe_pkcs1(key.value).map(|k| PrivateKey {
            format: KeyFormat::Pkcs8,
            ..k
        }),
        EC => describe_sec1(key.value, param_oid).map(|k| PrivateKey {
            format: KeyFormat::Pkcs8,
            ..k
        }),
        ED25519 => {
            let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).ok();
            Some(PrivateKey {
                format: KeyFormat::Pkcs8,
                algorithm: Some("Ed25519".to_owned()),
                bits: Some(256),
                curve: None,
                encryption: None,
                public_key: pair.map(|p| {
                    use aws_lc_rs::signature::KeyPair;
                    p.public_key().as_ref().to_vec()
                }),
            })
        }
        other => Some(PrivateKey {
            format: KeyFormat::Pkcs8,
            algorithm: Some(oids::name_or_oid(other)),
            bits: None,
            curve: None,
            encryption: None,
            public_key: None,
        }),
    }
}

fn describe_pkcs1(der: &[u8]) -> Option<PrivateKey> {
    let (outer, _) = tlv::read(der).ok()?;
    let fields = tlv::children(outer.value).ok()?;
    let [_version, modulus, exponent, ..] = fields.as_slice() else {
        return None;
    };
    if outer.tag != SEQUENCE || modulus.tag != INTEGER || exponent.tag != INTEGER {
        return None;
    }
    let significant: &[u8] = {
        let mut m = modulus.value;
        while let [0, rest @ ..] = m {
            m = rest;
        }
        m
    };
    let bits = significant
        .first()
        .map(|&top| (significant.len() as u32 - 1) * 8 + (8 - top.leading_zeros()));
    // RSAPublicKey ::= SEQUENCE { modulus, publicExponent }: what a certificate carries.
    let mut body = modulus.raw.to_vec();
    body.extend_from_slice(exponent.raw);
    let mut public = vec![SEQUENCE];
    public.extend(tlv::length_octets(body.len()));
    public.extend(body);
    Some(PrivateKey {
        format: KeyFormat::Pkcs1,
        algorithm: Some("RSA".to_owned()),
        bits,
        curve: None,
        encryption: None,
        public_key: Some(public),
    })
}

fn describe_sec1(der: &[u8], curve_from_pkcs8: Option<String>) -> Option<PrivateKey> {
    let (outer, _) = tlv::read(der).ok()?;
    if outer.tag != SEQUENCE {
        return None;
    }
    let fields = tlv::children(outer.value).ok()?;
    // ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING, [0], [1] }
    match fields.as_slice() {
        [version, private, ..] if version.tag == INTEGER && private.tag == OCTET_STRING => {}
        _ => return None,
    }
    let mut curve = curve_from_pkcs8;
    let mut public_key = None;
    for field in fields.iter().skip(2) {
        match field.tag {
            0xa0 => {
                let (oid, _) = tlv::read(field.value).ok()?;
                curve = Some(tlv::oid_to_string(oid.value));
            }
            0xa1 => {
                let (bits, _) = tlv::read(field.value).ok()?;
                // BIT STRING: the first content octet counts unused bits.
                public_key = bits.value.get(1..).map(<[u8]>::to_vec);
            }
            _ => {}
        }
    }
    let curve_name = curve.as_deref().map(oids::name_or_oid);
    let bits = match curve_name.as_deref() {
        Some("P-256") => Some(256),
        Some("P-384") => Some(384),
        Some("P-521") => Some(521),
        _ => None,
    };
    Some(PrivateKey {
        format: KeyFormat::Sec1,
        algorithm: Some("EC".to_owned()),
        bits,
        curve: curve_name,
        encryption: None,
        public_key,
    })
}

fn describe_encrypted(der: &[u8]) -> Option<PrivateKey> {
    let (outer, _) = tlv::read(der).ok()?;
    let fields = tlv::children(outer.value).ok()?;
    let [algorithm, data, ..] = fields.as_slice() else {
        return None;
    };
    if outer.tag != SEQUENCE || algorithm.tag != SEQUENCE || data.tag != OCTET_STRING {
        return None;
    }
    Some(PrivateKey {
        format: KeyFormat::EncryptedPkcs8,
        algorithm: None,
        bits: None,
        curve: None,
        encryption: Some(describe_encryption_algorithm(algorithm.raw)),
        public_key: None,
    })
}

/// Names a PKCS#5/PKCS#12 encryption AlgorithmIdentifier: `PBES2 (scrypt, AES-256-CBC)`,
/// `pbeWithSHA1And3-KeyTripleDES-CBC`.
pub(crate) fn describe_encryption_algorithm(algorithm_identifier: &[u8]) -> String {
    let describe = || -> Option<String> {
        let (alg, _) = tlv::read(algorithm_identifier).ok()?;
        let fields = tlv::children(alg.value).ok()?;
        let oid = tlv::oid_to_string(fields.first().filter(|t| t.tag == OID)?.value);
        let name = oids::name_or_oid(&oid);
        if name != "PBES2" {
            return Some(name);
        }
        // PBES2-params ::= SEQUENCE { keyDerivationFunc, encryptionScheme }
        let params = tlv::children(fields.get(1)?.value).ok()?;
        fn first_oid<'a>(t: &tlv::Tlv<'a>) -> Option<(String, Vec<tlv::Tlv<'a>>)> {
            let inner = tlv::children(t.value).ok()?;
            let oid = oids::name_or_oid(&tlv::oid_to_string(inner.first()?.value));
            Some((oid, inner))
        }
        let (kdf, kdf_fields) = first_oid(params.first()?)?;
        let (cipher, _) = first_oid(params.get(1)?)?;
        let mut detail = kdf.clone();
        if kdf == "PBKDF2" {
            // PBKDF2-params ::= SEQUENCE { salt, iterationCount, keyLength?, prf? }
            if let Some(kdf_params) = kdf_fields.get(1).and_then(|p| tlv::children(p.value).ok()) {
                if let Some(count) = kdf_params.get(1).filter(|t| t.tag == INTEGER) {
                    let iterations = count
                        .value
                        .iter()
                        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
                    detail.push_str(&format!(", {iterations} iterations"));
                }
                let prf = kdf_params
                    .iter()
                    .skip(2)
                    .find(|t| t.tag == SEQUENCE)
                    .and_then(|t| tlv::children(t.value).ok())
                    .and_then(|f| {
                        f.first()
                            .map(|o| oids::name_or_oid(&tlv::oid_to_string(o.value)))
                    })
                    .unwrap_or_else(|| "hmacWithSHA1".to_owned());
                detail.push_str(&format!(", {prf}"));
            }
        }
        Some(format!("PBES2 ({detail}, {cipher})"))
    };
    describe().unwrap_or_else(|| "unrecognised encryption algorithm".to_owned())
}
