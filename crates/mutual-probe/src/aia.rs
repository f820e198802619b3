//! Following the AIA caIssuers URL of a chain that stops short of a trust anchor, as Chrome,
//! Edge and Safari do (and curl, openssl, Go, Java, Python and Firefox do not), to tell
//! whether such a browser would complete the chain the server failed to send.
//!
//! Plain `http://` only (RFC 5280 section 4.2.2.1: caIssuers is HTTP or LDAP, never TLS, so
//! fetching it cannot depend on the chain being fetched), one GET per URL bounded by the
//! probe's timeout, at most [`AIA_MAX_BYTES`] read, at most [`AIA_MAX_URLS`] URLs tried.

use std::io::Read;
use std::time::Duration;

use mutual_verify::{Code, Verdict, Verifier};
use mutual_x509::{Certificate, DecodeOptions, Diagnosis, Object, Severity};
use serde::Serialize;
use time::OffsetDateTime;

/// The most bytes read from one caIssuers URL: a certificate is 1–2 KiB, a `.p7c` bundle a
/// few; anything far larger is not what the URL should serve.
pub const AIA_MAX_BYTES: u64 = 64 * 1024;
/// The most caIssuers URLs of one certificate that are tried.
pub const AIA_MAX_URLS: usize = 2;
/// Redirects followed per URL (to `http://` only).
const MAX_REDIRECTS: usize = 3;

/// Why what a caIssuers URL served is not a certificate.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum AiaDecodeError {
    /// Nothing was served.
    #[error("the answer is empty")]
    Empty,
    /// The bytes are not PEM, DER or PKCS#7 that `mutual inspect` reads.
    #[error("the answer is not a certificate (DER, PEM or a PKCS#7 .p7c bundle)")]
    Undecodable {
        /// The decoder's reason.
        #[source]
        source: mutual_x509::DecodeError,
    },
    /// It decodes, but to something else (a CRL, a key, a CSR) or to a bundle holding no
    /// certificate.
    #[error("the answer holds no certificate (found {found})")]
    NoCertificate {
        /// What it holds instead.
        found: String,
    },
}

/// The certificates in what a caIssuers URL served: a DER certificate (the usual
/// `application/pkix-cert`), PEM certificates, or a certs-only PKCS#7 bundle
/// (`application/pkcs7-mime`, `.p7c`) in DER or PEM. Nothing else is accepted; validity is
/// judged at `at`.
///
/// This takes untrusted bytes from the network; it never panics (the `probe` fuzz
/// target feeds it anything).
///
/// # Errors
/// [`AiaDecodeError`] when the bytes hold no certificate.
pub fn decode_ca_issuers(
    bytes: &[u8],
    at: OffsetDateTime,
) -> Result<Vec<Certificate>, AiaDecodeError> {
    if bytes.is_empty() {
        return Err(AiaDecodeError::Empty);
    }
    let options = DecodeOptions {
        now: at,
        password: None,
    };
    let objects = mutual_x509::decode(bytes, &options)
        .map_err(|source| AiaDecodeError::Undecodable { source })?;
    let mut certificates = Vec::new();
    let mut other = Vec::new();
    for object in objects {
        match object {
            Object::Certificate(certificate) => certificates.push(*certificate),
            Object::Pkcs7(bundle) => certificates.extend(bundle.certificates),
            object => other.push(object.type_name()),
        }
    }
    if certificates.is_empty() {
        return Err(AiaDecodeError::NoCertificate {
            found: if other.is_empty() {
                "nothing".to_owned()
            } else {
                other.join(", ")
            },
        });
    }
    Ok(certificates)
}

/// What following one caIssuers URL came to.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AiaOutcome {
    /// The fetched certificate(s) complete the chain to a trust anchor.
    CompletesChain,
    /// The fetched certificate(s) do not complete it (another CA, or still a gap above).
    DoesNotComplete,
    /// Nothing usable came back: the URL is not `http://`, the server did not answer, answered
    /// an HTTP error, or sent too much.
    Unreachable,
    /// An answer came, but it is not a certificate.
    NotACertificate,
}

/// One caIssuers URL followed.
#[non_exhaustive]
#[derive(Debug, Clone, Serialize)]
pub struct AiaFetch {
    /// The URL as the certificate names it.
    pub url: String,
    /// What it came to.
    pub outcome: AiaOutcome,
    /// The subjects of the certificates it served (RFC 4514), when it served any.
    pub certificates: Vec<String>,
    /// Why it did not help, in words; absent when it completed the chain.
    pub detail: Option<String>,
}

/// GETs `url` (plain HTTP, redirects to `http://` only, `timeout` for the whole exchange)
/// and returns the body, at most [`AIA_MAX_BYTES`].
pub(crate) fn fetch(url: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    if !url.starts_with("http://") {
        return Err(
            "only http:// caIssuers URLs are fetched (browsers, too, fetch them over plain HTTP or not at all)"
                .to_owned(),
        );
    }
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if attempt.url().scheme() != "http" {
            let to = attempt.url().to_string();
            attempt.error(format!("a redirect to `{to}`, not http://"))
        } else {
            attempt.follow()
        }
    });
    let client = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(policy)
        .user_agent("mutual-probe")
        .build()
        .map_err(|error| crate::error::with_causes(&error))?;
    let response = client.get(url).send().map_err(|error| {
        if error.is_timeout() {
            format!("could not fetch it: no answer within {timeout:?}")
        } else {
            // reqwest's own top line only repeats the URL; its causes say what happened.
            let reason = match std::error::Error::source(&error) {
                Some(cause) => crate::error::with_causes(cause),
                None => error.to_string(),
            };
            format!("could not fetch it: {reason}")
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("it answered HTTP {}", status.as_u16()));
    }
    let mut body = Vec::new();
    response
        .take(AIA_MAX_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|error| format!("reading the answer: {error}"))?;
    if body.len() as u64 > AIA_MAX_BYTES {
        return Err(format!(
            "the answer is larger than {} KiB",
            AIA_MAX_BYTES / 1024
        ));
    }
    Ok(body)
}

/// The AIA part of a probe report: present when the server's chain stops at an issuer
/// nobody supplied.
#[non_exhaustive]
#[derive(Debug, Clone, Serialize)]
pub struct Aia {
    /// The caIssuers URLs the last certificate of the chain names (empty: none).
    pub ca_issuers_urls: Vec<String>,
    /// Each URL followed, in order; the probe stops at the first that completes the chain.
    pub fetches: Vec<AiaFetch>,
    /// A browser that follows AIA would complete the chain.
    pub completes_chain: bool,
}

/// Codes that mean "no path to a trust anchor": what fetching an issuer may cure.
const NO_PATH: [Code; 3] = [
    Code::UnknownIssuer,
    Code::UntrustedRoot,
    Code::MaxDepthExceeded,
];

/// When `verdict` says the chain stops at an issuer that was not supplied (and not at a
/// re-keyed CA of the same name), follows the caIssuers URLs `mutual verify` found on the
/// last certificate and verifies again with what they serve as untrusted intermediates.
/// Returns the AIA part of the report and the note that explains it to people.
pub(crate) fn follow(
    verifier: &Verifier,
    leaf: &Certificate,
    rest: &[Certificate],
    verdict: &Verdict,
    timeout: Duration,
    at: OffsetDateTime,
) -> Option<(Aia, Diagnosis)> {
    let unknown = verdict.errors.iter().find(|d| {
        d.code == Code::UnknownIssuer.as_str()
            && d.evidence.iter().any(|e| e.field == "missing_issuer")
            && !d.evidence.iter().any(|e| e.field == "same_name_other_key")
    })?;
    let missing = evidence(unknown, "missing_issuer")
        .next()
        .unwrap_or_default()
        .to_owned();
    let urls: Vec<String> = evidence(unknown, "ca_issuers_url")
        .map(str::to_owned)
        .collect();
    let mut fetches = Vec::new();
    for url in urls.iter().take(AIA_MAX_URLS) {
        let fetch = follow_one(verifier, leaf, rest, url, timeout, at);
        let done = fetch.outcome == AiaOutcome::CompletesChain;
        fetches.push(fetch);
        if done {
            break;
        }
    }
    let completes_chain = fetches
        .iter()
        .any(|fetch| fetch.outcome == AiaOutcome::CompletesChain);
    let note = note(&missing, &urls, &fetches);
    Some((
        Aia {
            ca_issuers_urls: urls,
            fetches,
            completes_chain,
        },
        note,
    ))
}

fn evidence<'a>(diagnosis: &'a Diagnosis, field: &'a str) -> impl Iterator<Item = &'a str> {
    diagnosis
        .evidence
        .iter()
        .filter(move |e| e.field == field)
        .map(|e| e.value.as_str())
}

fn follow_one(
    verifier: &Verifier,
    leaf: &Certificate,
    rest: &[Certificate],
    url: &str,
    timeout: Duration,
    at: OffsetDateTime,
) -> AiaFetch {
    let failed = |outcome, certificates, detail: String| AiaFetch {
        url: url.to_owned(),
        outcome,
        certificates,
        detail: Some(detail),
    };
    let body = match fetch(url, timeout) {
        Ok(body) => body,
        Err(why) => return failed(AiaOutcome::Unreachable, Vec::new(), why),
    };
    let fetched = match decode_ca_issuers(&body, at) {
        Ok(fetched) => fetched,
        Err(why) => {
            return failed(
                AiaOutcome::NotACertificate,
                Vec::new(),
                format!("{why} ({} bytes)", body.len()),
            );
        }
    };
    let subjects: Vec<String> = fetched.iter().map(|c| c.subject.rfc4514.clone()).collect();
    let mut chain = rest.to_vec();
    chain.extend(fetched);
    let again = verifier.verify(leaf, &chain);
    match again
        .errors
        .iter()
        .find(|d| NO_PATH.iter().any(|code| code.as_str() == d.code))
    {
        None => AiaFetch {
            url: url.to_owned(),
            outcome: AiaOutcome::CompletesChain,
            certificates: subjects,
            detail: None,
        },
        Some(still) => failed(
            AiaOutcome::DoesNotComplete,
            subjects,
            format!("with it the chain still fails: {}", still.message),
        ),
    }
}

const FOLLOWERS: &str = "a browser that follows AIA (Chrome, Edge, Safari)";
const OTHERS: &str = "curl, openssl, Go, Java, Python and Firefox";

fn note(missing: &str, urls: &[String], fetches: &[AiaFetch]) -> Diagnosis {
    let send = format!(
        "send the intermediate `{missing}` after the leaf (NGINX: append it to the `ssl_certificate` file; Apache: `SSLCertificateFile` with the chain)"
    );
    if urls.is_empty() {
        return Diagnosis::new(
            "aia_missing",
            Severity::Warning,
            format!(
                "the certificate names no caIssuers URL (AIA), so no client can fetch the missing issuer `{missing}`: every client fails, browsers included"
            ),
        )
        .with_fix(send);
    }
    if let Some(done) = fetches
        .iter()
        .find(|fetch| fetch.outcome == AiaOutcome::CompletesChain)
    {
        let mut diagnosis = Diagnosis::new(
            "aia_completes_chain",
            Severity::Warning,
            format!(
                "{FOLLOWERS} would fetch {} and complete the chain; {OTHERS} would fail — send the intermediate",
                done.url
            ),
        )
        .with_evidence("ca_issuers_url", done.url.clone());
        for subject in &done.certificates {
            diagnosis = diagnosis.with_evidence("fetched", subject.clone());
        }
        return diagnosis.with_fix(send);
    }
    let mut diagnosis = Diagnosis::new(
        "aia_unhelpful",
        Severity::Warning,
        format!(
            "following the certificate's caIssuers URL did not help, so every client fails, browsers included: {}",
            fetches
                .iter()
                .map(|fetch| format!(
                    "{}: {}",
                    fetch.url,
                    fetch.detail.as_deref().unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    );
    for fetch in fetches {
        diagnosis = diagnosis.with_evidence("ca_issuers_url", fetch.url.clone());
    }
    diagnosis.with_fix(format!(
        "{send}; and make the caIssuers URL serve the issuer's certificate (DER) over plain HTTP"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_empty_and_non_certificates_are_refused() {
        let at = OffsetDateTime::now_utc();
        assert!(matches!(
            decode_ca_issuers(b"", at),
            Err(AiaDecodeError::Empty)
        ));
        assert!(matches!(
            decode_ca_issuers(b"<html>Not Found</html>", at),
            Err(AiaDecodeError::Undecodable { .. })
        ));
        let key = rcgen::KeyPair::generate().expect("a key");
        assert!(matches!(
            decode_ca_issuers(key.serialize_pem().as_bytes(), at),
            Err(AiaDecodeError::NoCertificate { .. })
        ));
    }

    #[test]
    fn der_and_pem_certificates_are_read() {
        let at = OffsetDateTime::now_utc();
        let key = rcgen::KeyPair::generate().expect("a key");
        let cert = rcgen::CertificateParams::new(vec!["ca.test".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("self-signed");
        let from_der = decode_ca_issuers(cert.der(), at).expect("DER");
        let from_pem = decode_ca_issuers(cert.pem().as_bytes(), at).expect("PEM");
        assert_eq!(from_der.len(), 1);
        assert_eq!(from_der[0].der, from_pem[0].der);
    }

    #[test]
    fn only_plain_http_is_fetched() {
        let refused = fetch("https://ca.test/ca.crt", Duration::from_secs(1)).expect_err("https");
        assert!(refused.contains("only http://"), "{refused}");
    }
}
