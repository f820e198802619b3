//! From bytes to objects: detect PEM or DER and which PKI structure it holds, so the
//! user never has to say.

use serde::Serialize;
use time::OffsetDateTime;

use crate::certificate::Certificate;
use crate::crl::Crl;
use crate::csr::Csr;
use crate::error::{DecodeError, PemProblem};
use crate::key::{self, PrivateKey};
use crate::pem;
use crate::pkcs7::{self, Pkcs7};
use crate::pkcs12::{self, Pkcs12};
use crate::tlv::{self, INTEGER, OCTET_STRING, OID, SEQUENCE};

/// The most any input may weigh. The largest real PKI objects (CRLs of big public CAs)
/// are a few MiB; anything beyond this is a mistake or an attack.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// One decoded PKI object; `type` in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Object {
    Certificate(Box<Certificate>),
    CertificateRequest(Box<Csr>),
    Crl(Box<Crl>),
    Pkcs7(Pkcs7),
    Pkcs12(Pkcs12),
    PrivateKey(PrivateKey),
}

impl Object {
    pub fn type_name(&self) -> &'static str {
        match self {
            Object::Certificate(_) => "certificate",
            Object::CertificateRequest(_) => "certificate request",
            Object::Crl(_) => "CRL",
            Object::Pkcs7(_) => "PKCS#7 bundle",
            Object::Pkcs12(_) => "PKCS#12 bundle",
            Object::PrivateKey(_) => "private key",
        }
    }
}

/// What decoding needs besides the bytes.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// The time validity is judged at.
    pub now: OffsetDateTime,
    /// The PKCS#12 password, if one was given.
    pub password: Option<String>,
}

/// Decodes every object in `bytes`, detecting the format.
pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Vec<Object>, DecodeError> {
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(DecodeError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_INPUT_BYTES,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    if pem::looks_like_pem(bytes) {
        let blocks = pem::parse(bytes)?;
        if blocks.is_empty() {
            return Err(DecodeError::Unrecognized {
                found: "text that mentions -----BEGIN but holds no complete PEM block".to_owned(),
            });
        }
        return blocks
            .iter()
            .enumerate()
            .map(|(index, block)| {
                decode_pem_block(block, options).map_err(|source| DecodeError::InPemBlock {
                    index: index + 1,
                    label: block.label.clone(),
                    line: block.line,
                    source: Box::new(source),
                })
            })
            .collect();
    }
    decode_der(bytes, options).map(|object| vec![object])
}

fn decode_pem_block(block: &pem::PemBlock, options: &DecodeOptions) -> Result<Object, DecodeError> {
    let der = block.der.as_slice();
    let now = options.now;
    Ok(match block.label.as_str() {
        "CERTIFICATE" | "X509 CERTIFICATE" => {
            Object::Certificate(Box::new(Certificate::from_der(der, now)?))
        }
        // openssl's TRUSTED CERTIFICATE: a certificate followed by trust settings.
        "TRUSTED CERTIFICATE" => {
            let (cert, _) = tlv::read(der)?;
            Object::Certificate(Box::new(Certificate::from_der(cert.raw, now)?))
        }
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
            Object::CertificateRequest(Box::new(Csr::from_der(der)?))
        }
        "X509 CRL" => Object::Crl(Box::new(Crl::from_der(der, now)?)),
        "PKCS7" | "CMS" | "PKCS #7 SIGNED DATA" => Object::Pkcs7(Pkcs7::from_der(der, now)?),
        "PKCS12" => Object::Pkcs12(Pkcs12::from_der(der, options.password.as_deref(), now)?),
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
            Object::PrivateKey(PrivateKey::describe(&block.label, der, &block.headers)?)
        }
        other => {
            return Err(DecodeError::Pem {
                line: block.line,
                problem: PemProblem::UnsupportedLabel {
                    label: other.to_owned(),
                },
            });
        }
    })
}

/// Which structure a DER blob holds, read from its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DerKind {
    Certificate,
    Csr,
    Crl,
    Pkcs7,
    Pkcs12,
    Pkcs8,
    Pkcs1,
    Sec1,
}

fn decode_der(der: &[u8], options: &DecodeOptions) -> Result<Object, DecodeError> {
    let now = options.now;
    Ok(match sniff(der)? {
        DerKind::Certificate => Object::Certificate(Box::new(Certificate::from_der(der, now)?)),
        DerKind::Csr => Object::CertificateRequest(Box::new(Csr::from_der(der)?)),
        DerKind::Crl => Object::Crl(Box::new(Crl::from_der(der, now)?)),
        DerKind::Pkcs7 => Object::Pkcs7(Pkcs7::from_der(der, now)?),
        DerKind::Pkcs12 => Object::Pkcs12(Pkcs12::from_der(der, options.password.as_deref(), now)?),
        DerKind::Pkcs8 => Object::PrivateKey(PrivateKey::describe("PRIVATE KEY", der, &[])?),
        DerKind::Pkcs1 => Object::PrivateKey(PrivateKey::describe("RSA PRIVATE KEY", der, &[])?),
        DerKind::Sec1 => Object::PrivateKey(PrivateKey::describe("EC PRIVATE KEY", der, &[])?),
    })
}

fn sniff(der: &[u8]) -> Result<DerKind, DecodeError> {
    if der.first() != Some(&SEQUENCE) {
        return Err(DecodeError::Unrecognized {
            found: describe_bytes(der),
        });
    }
    let (outer, _) = tlv::read(der).map_err(|e| DecodeError::Der {
        what: "object (it starts like DER but does not parse)",
        detail: e.to_string(),
    })?;
    let fields = tlv::children(outer.value).map_err(|e| DecodeError::Der {
        what: "object",
        detail: e.to_string(),
    })?;
    let tag = |i: usize| fields.get(i).map(|t| t.tag);
    match (tag(0), tag(1), tag(2)) {
        (Some(OID), _, _) => match pkcs7::content_type(der).as_deref() {
            Some("1.2.840.113549.1.7.2") => Ok(DerKind::Pkcs7),
            other => Err(DecodeError::Unrecognized {
                found: format!("a CMS ContentInfo of type {}", other.unwrap_or("?")),
            }),
        },
        _ if pkcs12::looks_like_pfx(der) => Ok(DerKind::Pkcs12),
        _ if key::is_pkcs8(der) => Ok(DerKind::Pkcs8),
        (Some(INTEGER), Some(INTEGER), Some(INTEGER)) => Ok(DerKind::Pkcs1),
        (Some(INTEGER), Some(OCTET_STRING), _) => Ok(DerKind::Sec1),
        (Some(SEQUENCE), _, _) => Ok(sniff_signed(&fields[0])),
        _ => Err(DecodeError::Unrecognized {
            found: "a DER SEQUENCE that is none of certificate, CSR, CRL, PKCS#7, PKCS#12 or private key".to_owned(),
        }),
    }
}

/// Certificates, CSRs and CRLs are all SEQUENCE { tbs, algorithm, signature }; the
/// to-be-signed part tells them apart.
fn sniff_signed(tbs: &tlv::Tlv<'_>) -> DerKind {
    let Ok(fields) = tlv::children(tbs.value) else {
        return DerKind::Certificate;
    };
    let tags: Vec<u8> = fields.iter().map(|t| t.tag).collect();
    match tags.as_slice() {
        // v2/v3 certificate: [0] EXPLICIT version first.
        [0xa0, ..] => DerKind::Certificate,
        // CSR: version, subject, SubjectPublicKeyInfo, [0] attributes.
        [INTEGER, SEQUENCE, SEQUENCE, 0xa0] => DerKind::Csr,
        // CRL: (version,) algorithm, issuer, thisUpdate (a Time).
        [INTEGER, SEQUENCE, SEQUENCE, 0x17 | 0x18, ..] | [SEQUENCE, SEQUENCE, 0x17 | 0x18, ..] => {
            DerKind::Crl
        }
        _ => DerKind::Certificate,
    }
}

/// Says what unrecognised bytes look like, without dumping them.
fn describe_bytes(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(16)];
    let printable = bytes
        .iter()
        .take(64)
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if printable {
        let text: String = String::from_utf8_lossy(&bytes[..bytes.len().min(24)])
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        format!("text starting `{}`", text.trim())
    } else {
        format!(
            "{} bytes of binary data starting 0x{}",
            bytes.len(),
            crate::hex::lower(head)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> DecodeOptions {
        DecodeOptions {
            now: time::macros::datetime!(2026-01-01 0:00 UTC),
            password: None,
        }
    }

    /// Every PEM label mutual reads, with a body that is not what the label promises:
    /// each gives a DecodeError naming the block, never a panic.
    #[test]
    fn broken_bodies_under_every_label() {
        let labels = [
            "CERTIFICATE",
            "TRUSTED CERTIFICATE",
            "CERTIFICATE REQUEST",
            "X509 CRL",
            "PKCS7",
            "PKCS12",
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
        ];
        let bodies: [&[u8]; 4] = [
            &[0x30, 0x03, 0x02, 0x01, 0x00],
            &[0x30, 0x00],
            &[0x04, 0x01, 0xff],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        ];
        for label in labels {
            for body in bodies {
                let text = pem::encode(label, body);
                let error = decode(text.as_bytes(), &options()).expect_err(label);
                assert!(
                    matches!(error, DecodeError::InPemBlock { .. }),
                    "{label}: {error}"
                );
            }
        }
    }

    #[test]
    fn sniffs_what_is_not_a_pki_object() {
        for bytes in [
            &b"\x02\x01\x05"[..],
            b"\x30\x03\x01\x01\xff",
            b"\x30\x05\x06\x03\x2a\x03\x04",
        ] {
            let error = decode(bytes, &options()).expect_err("not an object");
            assert!(
                matches!(error.code(), "unrecognized_format" | "bad_der"),
                "{error}"
            );
        }
        assert_eq!(
            decode(b"   \n", &options()).expect_err("blank").code(),
            "empty_input"
        );
    }
}
