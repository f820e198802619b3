//! Certificate signing requests (PKCS#10): who asks, with which key, for which
//! extensions, and what kind of certificate they would become.

use serde::Serialize;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

use crate::certificate::Algorithm;
use crate::error::DecodeError;
use crate::extensions::Extension;
use crate::name::DistinguishedName;
use crate::public_key::PublicKeyInfo;
use crate::purpose::{Purpose, PurposeFacts};
use crate::signature::{self, SignatureCheck};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Csr {
    pub subject: DistinguishedName,
    pub public_key: PublicKeyInfo,
    pub signature_algorithm: Algorithm,
    /// Whether the request is signed by the key it carries (proof of possession).
    pub signature: SignatureCheck,
    pub requested_extensions: Vec<Extension>,
    /// What the request asks to become, judged by the same rules as certificates.
    pub purpose: Purpose,
    #[serde(skip)]
    pub der: Vec<u8>,
}

impl Csr {
    pub fn from_der(der: &[u8]) -> Result<Self, DecodeError> {
        let (rest, csr) =
            X509CertificationRequest::from_der(der).map_err(|error| DecodeError::Der {
                what: "certificate request (PKCS#10)",
                detail: error.to_string(),
            })?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingData {
                what: "certificate request",
                count: rest.len(),
            });
        }
        let info = &csr.certification_request_info;
        let requested_extensions: Vec<Extension> = info
            .iter_attributes()
            .filter_map(|attr| match attr.parsed_attribute() {
                x509_parser::cri_attributes::ParsedCriAttribute::ExtensionRequest(req) => Some(
                    req.extensions
                        .iter()
                        .map(Extension::from_x509)
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            })
            .flatten()
            .collect();
        let algorithm_oid = crate::oids::dotted(&csr.signature_algorithm.algorithm);
        let signature = signature::check(
            &algorithm_oid,
            &info.subject_pki,
            info.raw,
            &csr.signature_value.data,
        );
        let purpose = PurposeFacts::from_extensions(&requested_extensions, false).assess(true);
        Ok(Csr {
            subject: DistinguishedName::from_x509(&info.subject),
            public_key: PublicKeyInfo::from_spki(&info.subject_pki),
            signature_algorithm: Algorithm::from_oid(algorithm_oid),
            signature,
            requested_extensions,
            purpose,
            der: der.to_vec(),
        })
    }
}
