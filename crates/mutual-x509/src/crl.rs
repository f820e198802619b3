//! Certificate revocation lists: who issued it, when it goes stale, and what it revokes.

use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::certificate::Algorithm;
use crate::error::DecodeError;
use crate::extensions::{Extension, reason_name};
use crate::name::DistinguishedName;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Crl {
    pub version: u32,
    pub issuer: DistinguishedName,
    pub signature_algorithm: Algorithm,
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_update: Option<OffsetDateTime>,
    /// True when `next_update` has passed at the time of inspection: relying parties
    /// that insist on fresh CRLs will fail closed.
    pub stale: bool,
    pub crl_number: Option<String>,
    pub extensions: Vec<Extension>,
    pub revoked: Vec<RevokedEntry>,
    #[serde(skip)]
    pub der: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevokedEntry {
    /// Upper-case hex, as `openssl crl -text` prints serials.
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub invalidity_date: Option<OffsetDateTime>,
}

impl Crl {
    pub fn from_der(der: &[u8], now: OffsetDateTime) -> Result<Self, DecodeError> {
        let (rest, crl) =
            CertificateRevocationList::from_der(der).map_err(|error| DecodeError::Der {
                what: "CRL",
                detail: error.to_string(),
            })?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingData {
                what: "CRL",
                count: rest.len(),
            });
        }
        let next_update = crl.next_update().map(|t| t.to_datetime());
        Ok(Crl {
            version: crl.version().map_or(1, |v| v.0 + 1),
            issuer: DistinguishedName::from_x509(crl.issuer()),
            signature_algorithm: Algorithm::from_oid(crate::oids::dotted(
                &crl.signature_algorithm.algorithm,
            )),
            this_update: crl.last_update().to_datetime(),
            next_update,
            stale: next_update.is_some_and(|next| next < now),
            crl_number: crl.crl_number().map(|n| n.to_string()),
            extensions: crl.extensions().iter().map(Extension::from_x509).collect(),
            revoked: crl
                .iter_revoked_certificates()
                .map(|entry| RevokedEntry {
                    serial: crate::certificate::serial_hex(entry.raw_serial()),
                    revoked_at: entry.revocation_date.to_datetime(),
                    reason: entry.reason_code().map(|(_, code)| reason_name(code.0)),
                    invalidity_date: entry.invalidity_date().map(|(_, t)| t.to_datetime()),
                })
                .collect(),
            der: der.to_vec(),
        })
    }

    /// Whether `issuer`'s public key verifies this CRL's signature (names are not compared).
    pub fn signature_by(&self, issuer: &crate::Certificate) -> crate::SignatureCheck {
        use x509_parser::certificate::X509Certificate;
        let (Ok((_, crl)), Ok((_, issuer))) = (
            CertificateRevocationList::from_der(&self.der),
            X509Certificate::from_der(&issuer.der),
        ) else {
            // Both decoded once already; a second decode cannot fail.
            return crate::SignatureCheck::Invalid;
        };
        crate::signature::check(
            &crate::oids::dotted(&crl.signature_algorithm.algorithm),
            &issuer.tbs_certificate.subject_pki,
            crl.tbs_cert_list.as_ref(),
            &crl.signature_value.data,
        )
    }
}
