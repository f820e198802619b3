//! PKCS#7 / CMS SignedData bundles (`.p7b`, `.p7c`): the degenerate "certs-only" form
//! Windows and Java export chains in. Walked with the TLV reader rather than a strict
//! CMS decoder so that an odd certificate inside is decoded and flagged, not refused.

use serde::Serialize;
use time::OffsetDateTime;

use crate::certificate::Certificate;
use crate::crl::Crl;
use crate::error::DecodeError;
use crate::tlv::{self, OID, SEQUENCE, SET};

const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pkcs7 {
    pub certificates: Vec<Certificate>,
    pub crls: Vec<Crl>,
    /// How many signatures the SignedData carries; 0 for a certs-only bundle.
    pub signer_count: usize,
}

fn bad(detail: impl Into<String>) -> DecodeError {
    DecodeError::Der {
        what: "PKCS#7 SignedData",
        detail: detail.into(),
    }
}

/// The content type OID of a ContentInfo, when the DER is one.
pub(crate) fn content_type(der: &[u8]) -> Option<String> {
    let (outer, _) = tlv::read(der).ok()?;
    let fields = tlv::children(outer.value).ok()?;
    let oid = fields.first().filter(|t| t.tag == OID)?;
    Some(tlv::oid_to_string(oid.value))
}

impl Pkcs7 {
    pub fn from_der(der: &[u8], now: OffsetDateTime) -> Result<Self, DecodeError> {
        let (outer, rest) = tlv::read(der)?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingData {
                what: "PKCS#7 bundle",
                count: rest.len(),
            });
        }
        let info = tlv::children(outer.value)?;
        let [content_type, explicit, ..] = info.as_slice() else {
            return Err(bad("expected a ContentInfo (content type and content)"));
        };
        let kind = tlv::oid_to_string(content_type.value);
        if content_type.tag != OID || kind != SIGNED_DATA {
            return Err(bad(format!(
                "expected content type signedData ({SIGNED_DATA}); found {kind}"
            )));
        }
        let (signed_data, _) = tlv::read(explicit.value)?;
        if signed_data.tag != SEQUENCE {
            return Err(bad("expected a SignedData SEQUENCE"));
        }
        let mut pkcs7 = Pkcs7 {
            certificates: Vec::new(),
            crls: Vec::new(),
            signer_count: 0,
        };
        for field in tlv::children(signed_data.value)?.into_iter().skip(3) {
            match field.tag {
                // [0] IMPLICIT CertificateSet
                0xa0 => {
                    for (index, cert) in tlv::children(field.value)?.into_iter().enumerate() {
                        let certificate = Certificate::from_der(cert.raw, now).map_err(|e| {
                            bad(format!("certificate {} of the bundle: {e}", index + 1))
                        })?;
                        pkcs7.certificates.push(certificate);
                    }
                }
                // [1] IMPLICIT RevocationInfoChoices
                0xa1 => {
                    for (index, crl) in tlv::children(field.value)?.into_iter().enumerate() {
                        let crl = Crl::from_der(crl.raw, now)
                            .map_err(|e| bad(format!("CRL {} of the bundle: {e}", index + 1)))?;
                        pkcs7.crls.push(crl);
                    }
                }
                SET => pkcs7.signer_count = tlv::children(field.value)?.len(),
                _ => {}
            }
        }
        Ok(pkcs7)
    }
}
