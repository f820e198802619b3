//! `--ocsp`: ask the responder the leaf's AIA names (RFC 6960, over HTTP POST with a
//! timeout) whether the leaf is revoked, and believe the answer only when it is signed by
//! the issuer or by a responder the issuer delegated to (EKU OCSPSigning), is about this
//! very certificate, is fresh, and echoes our nonce.
//!
//! OCSP speaks about *now*: freshness and the delegate's validity are judged at the time
//! passed in [`OcspOptions::now`], whatever time the chain is validated at. Hard fail:
//! anything short of a trustworthy "good" or "revoked" is `revocation_unknown`.

use std::io::Read;
use std::time::Duration;

use aws_lc_rs::digest;
use der_07::asn1::{Null, ObjectIdentifier, OctetString};
use der_07::{Decode, Encode};
use mutual_x509::{Certificate, ExtensionValue, GeneralName, SignatureCheck};
use time::OffsetDateTime;
use x509_cert_02::Certificate as Cert;
use x509_cert_02::ext::Extension;
use x509_cert_02::spki::AlgorithmIdentifierOwned;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponderId, TbsRequest, Version,
};

use crate::checks::{Explain, Findings, ekus, rfc3339};
use crate::code::Code;
use crate::path::Path;

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
const BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
const OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
const ACCESS_OCSP: &str = "1.3.6.1.5.5.7.48.1";
/// Clocks disagree; a response a few minutes "from the future" is still believed.
const SKEW: time::Duration = time::Duration::minutes(5);
/// A response without nextUpdate is believed this long after thisUpdate.
const NO_NEXT_UPDATE_MAX_AGE: time::Duration = time::Duration::days(1);
const MAX_RESPONSE_BYTES: u64 = 1 << 20;

/// How to ask.
#[derive(Debug, Clone, Copy)]
pub struct OcspOptions {
    pub timeout: Duration,
    /// The time the answer must be fresh at: the real clock.
    pub now: OffsetDateTime,
}

/// Why an answer is not believed, or never came.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OcspProblem {
    #[error("the leaf names no OCSP responder (no AIA OCSP URL)")]
    NoResponder,
    #[error("the OCSP request could not be built: {0}")]
    Request(String),
    #[error("the responder {url} did not answer: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the responder {url} answered HTTP {status}")]
    Http { url: String, status: u16 },
    #[error("the responder's answer is not an OCSP response: {0}")]
    Malformed(String),
    #[error("the responder refused: {0}")]
    Refused(&'static str),
    #[error("the response is signed by a certificate the issuer did not authorize: {0}")]
    Unauthorized(String),
    #[error("the response's signature does not verify")]
    BadSignature,
    #[error("the response does not speak about this certificate")]
    NotAbout,
    #[error("the response is not fresh: {0}")]
    Stale(String),
    #[error("the response carries another nonce than the request's (a replay?)")]
    NonceMismatch,
    #[error("the responder does not know this certificate (status unknown)")]
    NotKnownToResponder,
}

/// What a believed answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcspAnswer {
    Good {
        nonce_echoed: bool,
    },
    Revoked {
        at: OffsetDateTime,
        reason: Option<String>,
    },
}

pub(crate) fn check(path: &Path<'_>, options: &OcspOptions, findings: &mut Findings) {
    let leaf = path.certs[0];
    // Without the issuer there is no question to ask; unknown_issuer says why.
    let Some(issuer) = path.issuer_of(0) else {
        return;
    };
    let urls = responder_urls(leaf);
    let Some(url) = urls.first() else {
        unknown(findings, &OcspProblem::NoResponder, None);
        return;
    };
    match ask(leaf, issuer, url, options) {
        Ok(OcspAnswer::Good { nonce_echoed }) => {
            if !nonce_echoed {
                findings
                    .warning(
                        Code::OcspNoNonce,
                        "the OCSP responder did not echo the request's nonce: the (signed, fresh) answer may be a cached one",
                    )
                    .evidence("responder", url.as_str());
            }
        }
        Ok(OcspAnswer::Revoked { at, reason }) => {
            findings
                .error(
                    Code::Revoked,
                    format!(
                        "the leaf was revoked on {}{} (OCSP)",
                        rfc3339(at),
                        reason
                            .as_deref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default()
                    ),
                )
                .evidence("serial", &leaf.serial)
                .evidence("revoked_at", rfc3339(at))
                .evidence("reason", reason.as_deref().unwrap_or("unspecified"))
                .evidence("source", format!("OCSP {url}"))
                .fix("replace the certificate: issue a new one and install it");
        }
        Err(why) => unknown(findings, &why, Some(url)),
    }
}

fn unknown(findings: &mut Findings, why: &OcspProblem, url: Option<&String>) {
    let diagnosis = findings.error(
        Code::RevocationUnknown,
        format!("the leaf's revocation status is unknown: {why} (hard fail: --ocsp rejects what it cannot confirm)"),
    );
    if let Some(url) = url {
        diagnosis.evidence("responder", url.as_str());
    }
    // Which mechanism could not tell, for callers that fail soft on one and hard on the other.
    diagnosis.evidence("source", "OCSP");
    diagnosis.fix(match why {
        OcspProblem::NoResponder => "give the issuer's CRL with --crl instead, or drop --ocsp",
        OcspProblem::Unreachable { .. } | OcspProblem::Http { .. } => {
            "check that the responder is up and reachable from here, or use the issuer's CRL (--crl)"
        }
        _ => "the responder is misconfigured or the answer was tampered with: ask its operator",
    });
}

fn responder_urls(leaf: &Certificate) -> Vec<String> {
    leaf.extensions
        .iter()
        .filter_map(|e| match &e.value {
            ExtensionValue::AuthorityInfoAccess { access } => Some(access),
            _ => None,
        })
        .flatten()
        .filter(|a| a.method == ACCESS_OCSP || a.method == "OCSP")
        .filter_map(|a| match &a.location {
            GeneralName::Uri(url) => Some(url.clone()),
            _ => None,
        })
        .collect()
}

fn ask(
    leaf: &Certificate,
    issuer: &Certificate,
    url: &str,
    options: &OcspOptions,
) -> Result<OcspAnswer, OcspProblem> {
    let parsed_leaf = Cert::from_der(&leaf.der).map_err(|e| OcspProblem::Request(e.to_string()))?;
    let parsed_issuer =
        Cert::from_der(&issuer.der).map_err(|e| OcspProblem::Request(e.to_string()))?;
    let sha1_id = cert_id(&parsed_issuer, &parsed_leaf, SHA1)?;
    let mut nonce = [0u8; 16];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| OcspProblem::Request("no randomness".into()))?;
    let request = request(sha1_id, &nonce)?;
    let body = post(url, request, options.timeout)?;
    judge_response(&body, leaf, issuer, Some(&nonce), options.now)
}

/// Judges an OCSP response about `leaf` (issued by `issuer`) obtained any way — asked for
/// by `--ocsp`, or stapled to a TLS handshake: its signer, subject, freshness at `now`, and,
/// when `nonce` is given, that it carries no other nonce.
///
/// # Errors
/// Why the answer cannot be believed; a believed "unknown" status is
/// [`OcspProblem::NotKnownToResponder`].
pub fn judge_response(
    der: &[u8],
    leaf: &Certificate,
    issuer: &Certificate,
    nonce: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<OcspAnswer, OcspProblem> {
    let parsed_leaf = Cert::from_der(&leaf.der).map_err(|e| OcspProblem::Request(e.to_string()))?;
    let parsed_issuer =
        Cert::from_der(&issuer.der).map_err(|e| OcspProblem::Request(e.to_string()))?;
    let response =
        OcspResponse::from_der(der).map_err(|e| OcspProblem::Malformed(e.to_string()))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(OcspProblem::Refused(status_name(response.response_status)));
    }
    let bytes = response
        .response_bytes
        .ok_or_else(|| OcspProblem::Malformed("successful, but no response bytes".into()))?;
    if bytes.response_type != BASIC {
        return Err(OcspProblem::Malformed(format!(
            "response type {} is not id-pkix-ocsp-basic",
            bytes.response_type
        )));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|e| OcspProblem::Malformed(e.to_string()))?;

    authenticate(&basic, issuer, &parsed_issuer, now)?;

    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|single| {
            let algorithm = if single.cert_id.hash_algorithm.oid == SHA256 {
                SHA256
            } else {
                SHA1
            };
            cert_id(&parsed_issuer, &parsed_leaf, algorithm).is_ok_and(|ours| {
                ours.issuer_name_hash == single.cert_id.issuer_name_hash
                    && ours.issuer_key_hash == single.cert_id.issuer_key_hash
                    && ours.serial_number == single.cert_id.serial_number
            })
        })
        .ok_or(OcspProblem::NotAbout)?;

    let this_update = time_of(&single.this_update.0);
    if this_update > now + SKEW {
        return Err(OcspProblem::Stale(format!(
            "thisUpdate {} is in the future",
            rfc3339(this_update)
        )));
    }
    match single.next_update.as_ref().map(|t| time_of(&t.0)) {
        Some(next) if next + SKEW < now => {
            return Err(OcspProblem::Stale(format!(
                "nextUpdate {} has passed",
                rfc3339(next)
            )));
        }
        None if this_update + NO_NEXT_UPDATE_MAX_AGE < now => {
            return Err(OcspProblem::Stale(format!(
                "no nextUpdate, and thisUpdate {} is over a day old",
                rfc3339(this_update)
            )));
        }
        _ => {}
    }

    let echoed = basic
        .tbs_response_data
        .response_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == NONCE)
        .map(|e| nonce_value(e.extn_value.as_bytes()));
    let nonce_echoed = match (echoed, nonce) {
        (Some(value), Some(nonce)) if value == nonce => true,
        (Some(_), Some(_)) => return Err(OcspProblem::NonceMismatch),
        _ => false,
    };

    match &single.cert_status {
        CertStatus::Good(_) => Ok(OcspAnswer::Good { nonce_echoed }),
        CertStatus::Revoked(info) => Ok(OcspAnswer::Revoked {
            at: time_of(&info.revocation_time.0),
            reason: info.revocation_reason.map(|r| format!("{r:?}")),
        }),
        CertStatus::Unknown(_) => Err(OcspProblem::NotKnownToResponder),
    }
}

/// The nonce extension's value is the DER of an OCTET STRING (RFC 8954); some responders
/// put the raw bytes there instead.
fn nonce_value(extn_value: &[u8]) -> Vec<u8> {
    OctetString::from_der(extn_value)
        .map(|inner| inner.as_bytes().to_vec())
        .unwrap_or_else(|_| extn_value.to_vec())
}

fn cert_id(issuer: &Cert, leaf: &Cert, algorithm: ObjectIdentifier) -> Result<CertId, OcspProblem> {
    let digest_algorithm = if algorithm == SHA256 {
        &digest::SHA256
    } else {
        &digest::SHA1_FOR_LEGACY_USE_ONLY
    };
    let name = issuer
        .tbs_certificate
        .subject
        .to_der()
        .map_err(|e| OcspProblem::Request(e.to_string()))?;
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let octets = |bytes: &[u8]| {
        OctetString::new(digest::digest(digest_algorithm, bytes).as_ref())
            .map_err(|e| OcspProblem::Request(e.to_string()))
    };
    Ok(CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: algorithm,
            parameters: Some(Null.into()),
        },
        issuer_name_hash: octets(&name)?,
        issuer_key_hash: octets(key)?,
        serial_number: leaf.tbs_certificate.serial_number.clone(),
    })
}

fn request(cert_id: CertId, nonce: &[u8]) -> Result<Vec<u8>, OcspProblem> {
    let encode_error = |e: der_07::Error| OcspProblem::Request(e.to_string());
    let nonce_der = OctetString::new(nonce)
        .and_then(|octets| octets.to_der())
        .map_err(encode_error)?;
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: cert_id,
                single_request_extensions: None,
            }],
            request_extensions: Some(vec![Extension {
                extn_id: NONCE,
                critical: false,
                extn_value: OctetString::new(nonce_der).map_err(encode_error)?,
            }]),
        },
        optional_signature: None,
    };
    request.to_der().map_err(encode_error)
}

fn post(url: &str, body: Vec<u8>, timeout: Duration) -> Result<Vec<u8>, OcspProblem> {
    let unreachable = |detail: String| OcspProblem::Unreachable {
        url: url.to_owned(),
        detail,
    };
    if !url.starts_with("http://") {
        return Err(unreachable(
            "only http:// responders are supported (OCSP runs over plain HTTP, RFC 6960 A.1)"
                .into(),
        ));
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| unreachable(e.to_string()))?;
    let response = client
        .post(url)
        .header("Content-Type", "application/ocsp-request")
        .header("Accept", "application/ocsp-response")
        .body(body)
        .send()
        .map_err(|e| unreachable(error_chain(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(OcspProblem::Http {
            url: url.to_owned(),
            status: status.as_u16(),
        });
    }
    let mut bytes = Vec::new();
    response
        .take(MAX_RESPONSE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| unreachable(e.to_string()))?;
    Ok(bytes)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The response must be signed by the issuer itself, or by a certificate the issuer signed
/// with EKU OCSPSigning that is valid now (RFC 6960 §4.2.2.2).
fn authenticate(
    basic: &BasicOcspResponse,
    issuer: &Certificate,
    parsed_issuer: &Cert,
    now: OffsetDateTime,
) -> Result<(), OcspProblem> {
    let tbs = basic
        .tbs_response_data
        .to_der()
        .map_err(|e| OcspProblem::Malformed(e.to_string()))?;
    let algorithm = basic.signature_algorithm.oid.to_string();
    let signature = basic
        .signature
        .as_bytes()
        .ok_or_else(|| OcspProblem::Malformed("the signature has unused bits".into()))?;

    let names_signer = |candidate: &Cert| match &basic.tbs_response_data.responder_id {
        ResponderId::ByName(name) => *name == candidate.tbs_certificate.subject,
        ResponderId::ByKey(hash) => {
            let key = candidate
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes();
            digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, key).as_ref() == hash.as_bytes()
        }
    };
    let verifies = |candidate: &Cert| {
        candidate
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .is_ok_and(|spki| {
                mutual_x509::verify_with_spki(&spki, &algorithm, &tbs, signature)
                    == SignatureCheck::Valid
            })
    };

    if names_signer(parsed_issuer) {
        return if verifies(parsed_issuer) {
            Ok(())
        } else {
            Err(OcspProblem::BadSignature)
        };
    }
    for delegate in basic.certs.iter().flatten() {
        if !names_signer(delegate) {
            continue;
        }
        let der = delegate
            .to_der()
            .map_err(|e| OcspProblem::Malformed(e.to_string()))?;
        let decoded =
            Certificate::from_der(&der, now).map_err(|e| OcspProblem::Malformed(e.to_string()))?;
        let who = decoded.subject.rfc4514.clone();
        if decoded.issuer.rfc4514 != issuer.subject.rfc4514
            || decoded.signature_by(issuer) != SignatureCheck::Valid
        {
            return Err(OcspProblem::Unauthorized(format!(
                "`{who}` is not issued by the leaf's issuer"
            )));
        }
        if !ekus(&decoded).is_some_and(|ekus| ekus.iter().any(|e| e == OCSP_SIGNING)) {
            return Err(OcspProblem::Unauthorized(format!(
                "`{who}` lacks EKU OCSPSigning"
            )));
        }
        if now < decoded.validity.not_before || now > decoded.validity.not_after {
            return Err(OcspProblem::Unauthorized(format!(
                "`{who}` is not valid at {}",
                rfc3339(now)
            )));
        }
        return if verifies(delegate) {
            Ok(())
        } else {
            Err(OcspProblem::BadSignature)
        };
    }
    Err(OcspProblem::Unauthorized(
        "the responder named in the response is neither the issuer nor a certificate included in it".into(),
    ))
}

fn time_of(time: &der_07::asn1::GeneralizedTime) -> OffsetDateTime {
    let seconds = time.to_unix_duration().as_secs();
    OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).unwrap_or(i64::MAX))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn status_name(status: OcspResponseStatus) -> &'static str {
    match status {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformedRequest",
        OcspResponseStatus::InternalError => "internalError",
        OcspResponseStatus::TryLater => "tryLater",
        OcspResponseStatus::SigRequired => "sigRequired",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}
