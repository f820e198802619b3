//! Running the registry over a certificate or request: applicability, effective dates,
//! the trust setting, and the results in zlint's vocabulary.

use serde::Serialize;
use time::OffsetDateTime;

use mutual_x509::{Certificate, Csr, DecodeOptions, Diagnosis, Object, Severity};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::error::LintError;
use crate::lint::{Lint, Outcome};
use crate::meta::{Meta, Profile, Profiles, Trust};
use crate::registry;
use crate::subject::{Cert, Decoded, Request};

/// Whether the certificates are meant to chain to a publicly-trusted root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustMode {
    /// A private PKI: requirements of public trust only are notices.
    #[default]
    Private,
    /// Publicly trusted: every rule as its source states it.
    Public,
}

/// How to lint.
#[derive(Debug, Clone)]
pub struct Options {
    /// Lint as this profile instead of the one the certificate's purpose says.
    pub profile: Option<Profile>,
    pub trust: TrustMode,
    /// The issuance time for requests (certificates use their notBefore).
    pub now: OffsetDateTime,
}

/// A lint's result, as zlint names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    #[serde(rename = "pass")]
    Pass,
    #[serde(rename = "error")]
    Error,
    #[serde(rename = "warn")]
    Warn,
    #[serde(rename = "notice")]
    Notice,
    /// Not applicable: the rule does not concern this certificate.
    #[serde(rename = "NA")]
    NotApplicable,
    /// Not effective: the certificate was issued before the rule took effect.
    #[serde(rename = "NE")]
    NotEffective,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Error => "error",
            Status::Warn => "warn",
            Status::Notice => "notice",
            Status::NotApplicable => "NA",
            Status::NotEffective => "NE",
        }
    }

    /// The severity of a finding; `None` for pass, NA and NE.
    pub fn severity(self) -> Option<Severity> {
        match self {
            Status::Error => Some(Severity::Error),
            Status::Warn => Some(Severity::Warning),
            Status::Notice => Some(Severity::Info),
            _ => None,
        }
    }

    fn of(severity: Severity) -> Self {
        match severity {
            Severity::Error => Status::Error,
            Severity::Warning => Status::Warn,
            Severity::Info => Status::Notice,
        }
    }
}

/// One lint's verdict on one certificate or request.
#[derive(Debug, Clone, Serialize)]
pub struct LintResult {
    pub code: &'static str,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// The lint's declaration, shared by every result of that lint.
    #[serde(skip)]
    pub meta: &'static Meta,
}

impl LintResult {
    /// The finding in the shared language of every `mutual` command.
    pub fn diagnosis(&self) -> Option<Diagnosis> {
        let severity = self.status.severity()?;
        let mut diagnosis = Diagnosis::new(self.code, severity, self.meta.summary).with_evidence(
            "source",
            format!("{} {}", self.meta.source.as_str(), self.meta.citation),
        );
        if let Some(details) = &self.details {
            diagnosis = diagnosis.with_evidence("found", details.clone());
        }
        Some(diagnosis)
    }
}

/// What was linted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Certificate,
    CertificateRequest,
}

/// Every lint's result for one certificate or request.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub kind: SubjectKind,
    /// The subject DN (RFC 4514).
    pub subject: String,
    /// Upper-case hex, certificates only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// SHA-256 fingerprint, certificates only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The profiles the lints were chosen by.
    pub profiles: Vec<Profile>,
    pub results: Vec<LintResult>,
}

impl Report {
    /// The results that are findings (error, warn, notice).
    pub fn findings(&self) -> impl Iterator<Item = &LintResult> {
        self.results
            .iter()
            .filter(|r| r.status.severity().is_some())
    }

    /// The most severe finding, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings().filter_map(|r| r.status.severity()).max()
    }

    pub fn result(&self, code: &str) -> Option<&LintResult> {
        self.results.iter().find(|r| r.code == code)
    }
}

struct Runner<'a> {
    options: &'a Options,
    profiles: Profiles,
    issued: OffsetDateTime,
    results: Vec<LintResult>,
}

impl Runner<'_> {
    fn run<S>(&mut self, families: &'static [&'static [&'static Lint<S>]], subject: &S) {
        for lint in families.iter().flat_map(|f| f.iter()) {
            let meta = &lint.meta;
            let (status, details) = if !meta.scope.applies(self.profiles) {
                (Status::NotApplicable, None)
            } else if !meta.effective.applies_to(self.issued) {
                (Status::NotEffective, None)
            } else {
                match (lint.check)(subject) {
                    Outcome::Pass => (Status::Pass, None),
                    Outcome::NotApplicable => (Status::NotApplicable, None),
                    Outcome::Fail(details) => {
                        let downgrade = meta.trust == Trust::PublicOnly
                            && self.options.trust == TrustMode::Private;
                        let severity = if downgrade {
                            Severity::Info
                        } else {
                            meta.severity
                        };
                        (Status::of(severity), Some(details))
                    }
                }
            };
            self.results.push(LintResult {
                code: meta.code,
                status,
                details,
                meta,
            });
        }
    }
}

/// Lints one certificate.
pub fn lint_certificate(certificate: &Certificate, options: &Options) -> Result<Report, LintError> {
    let cert = Cert::new(certificate, options.profile)?;
    Ok(run_certificate(
        cert,
        certificate.serial.clone(),
        certificate.fingerprints.sha256.clone(),
        options,
    ))
}

/// Decodes one DER certificate, as [`Certificate::from_der`] at `now`, and lints it,
/// parsing the DER once for both: a CA checking every certificate it is about to sign
/// needs the decoded certificate and the lints, and the second parse was a quarter of the
/// lints' cost.
pub fn decode_and_lint(
    der: &[u8],
    now: OffsetDateTime,
    options: &Options,
) -> Result<(Certificate, Report), LintError> {
    let parsed = Certificate::parse(der)?;
    let certificate = Certificate::from_parsed(&parsed, now);
    let cert = Cert::from_parsed(&parsed, Decoded::of(&certificate), options.profile)?;
    let report = run_certificate(
        cert,
        certificate.serial.clone(),
        certificate.fingerprints.sha256.clone(),
        options,
    );
    Ok((certificate, report))
}

/// [`lint_certificate`] on a certificate the caller no longer needs: its decoded parts
/// move into the lints' view instead of being copied.
fn lint_owned_certificate(
    certificate: Certificate,
    options: &Options,
) -> Result<Report, LintError> {
    let Certificate {
        der,
        subject,
        extensions,
        validity,
        self_signed,
        purpose,
        serial,
        fingerprints,
        ..
    } = certificate;
    let (_, parsed) = X509Certificate::from_der(&der).map_err(|e| LintError::Der {
        what: "certificate",
        detail: e.to_string(),
    })?;
    let cert = Cert::from_parsed(
        &parsed,
        Decoded {
            subject,
            extensions,
            validity,
            self_signed,
            is_ca: purpose.ca.is_some(),
        },
        options.profile,
    )?;
    Ok(run_certificate(cert, serial, fingerprints.sha256, options))
}

fn run_certificate(mut cert: Cert, serial: String, sha256: String, options: &Options) -> Report {
    let mut runner = Runner {
        options,
        profiles: cert.claims.profiles,
        issued: cert.not_before(),
        results: Vec::with_capacity(registry::CERTIFICATE_RESULTS),
    };
    runner.run(registry::CERTIFICATE, &cert);
    runner.run(registry::CLAIMS, &cert.claims);
    runner.run(registry::KEY, &cert.key);
    runner.run(registry::SIGNATURE, &cert.signature);
    Report {
        kind: SubjectKind::Certificate,
        subject: std::mem::take(&mut cert.claims.subject.rfc4514),
        serial: Some(serial),
        sha256: Some(sha256),
        profiles: cert.claims.profiles.iter().collect(),
        results: runner.results,
    }
}

/// Lints one certification request (as if it were issued at `options.now`).
pub fn lint_request(request: &Csr, options: &Options) -> Result<Report, LintError> {
    let req = Request::new(request, options.profile)?;
    let mut runner = Runner {
        options,
        profiles: req.claims.profiles,
        issued: options.now,
        results: Vec::with_capacity(registry::REQUEST_RESULTS),
    };
    runner.run(registry::CLAIMS, &req.claims);
    runner.run(registry::KEY, &req.key);
    runner.run(registry::SIGNATURE, &req.signature);
    runner.run(registry::REQUEST, &req);
    Ok(Report {
        kind: SubjectKind::CertificateRequest,
        subject: request.subject.rfc4514.clone(),
        serial: None,
        sha256: None,
        profiles: req.claims.profiles.iter().collect(),
        results: runner.results,
    })
}

/// Lints every certificate and request among decoded objects (including those inside
/// PKCS#7 and PKCS#12 bundles); keys and CRLs are skipped.
pub fn lint_objects(objects: &[Object], options: &Options) -> Result<Vec<Report>, LintError> {
    let mut reports = Vec::new();
    for object in objects {
        match object {
            Object::Certificate(c) => reports.push(lint_certificate(c, options)?),
            Object::CertificateRequest(r) => reports.push(lint_request(r, options)?),
            Object::Pkcs7(bundle) => {
                for c in &bundle.certificates {
                    reports.push(lint_certificate(c, options)?);
                }
            }
            Object::Pkcs12(bundle) => {
                for bag in &bundle.certificates {
                    reports.push(lint_certificate(&bag.certificate, options)?);
                }
            }
            Object::Crl(_) | Object::PrivateKey(_) => {}
        }
    }
    Ok(reports)
}

/// Decodes `bytes` (PEM or DER, any format `mutual_x509::decode` reads) and lints every
/// certificate and request in it. An input with none is an error.
pub fn lint_bytes(bytes: &[u8], options: &Options) -> Result<Vec<Report>, LintError> {
    if let Some(reports) = direct::lint_certificates(bytes, options) {
        return Ok(reports);
    }
    let decode_options = DecodeOptions {
        now: options.now,
        password: None,
    };
    let objects = mutual_x509::decode(bytes, &decode_options)?;
    let found = objects.first().map_or("nothing", Object::type_name);
    // The decoded objects are ours: their parts move into the lints' view.
    let mut reports = Vec::with_capacity(objects.len());
    for object in objects {
        match object {
            Object::Certificate(c) => reports.push(lint_owned_certificate(*c, options)?),
            Object::CertificateRequest(r) => reports.push(lint_request(&r, options)?),
            Object::Pkcs7(bundle) => {
                for c in bundle.certificates {
                    reports.push(lint_owned_certificate(c, options)?);
                }
            }
            Object::Pkcs12(bundle) => {
                for bag in bundle.certificates {
                    reports.push(lint_owned_certificate(bag.certificate, options)?);
                }
            }
            Object::Crl(_) | Object::PrivateKey(_) => {}
        }
    }
    if reports.is_empty() {
        return Err(LintError::NotLintable { found });
    }
    Ok(reports)
}

/// The common case of `mutual lint` over an inventory — files of PEM certificates, or
/// one DER certificate — with each certificate parsed once: `mutual_x509::decode` would
/// parse it, then the lints a second time, and build what only `inspect` shows (SHA-1,
/// the issuer's name, the purpose's prose). Anything else, and anything that does not
/// parse, returns `None`: the general path then gives the same reports, or the error.
/// A test holds both paths to the same reports (`tests/it/direct.rs`).
mod direct {
    use aws_lc_rs::digest::{SHA256, digest};
    use mutual_x509::{
        DistinguishedName, Extension, MAX_INPUT_BYTES, PurposeFacts, SignatureCheck, Validity, pem,
    };
    use x509_parser::certificate::X509Certificate;
    use x509_parser::prelude::FromDer;

    use super::{Options, Report, run_certificate};
    use crate::subject::{Cert, Decoded};

    pub(super) fn lint_certificates(bytes: &[u8], options: &Options) -> Option<Vec<Report>> {
        if bytes.len() as u64 > MAX_INPUT_BYTES {
            return None;
        }
        if !pem::looks_like_pem(bytes) {
            return Some(vec![lint_der(bytes, options)?]);
        }
        let blocks = pem::parse(bytes).ok()?;
        let only_certificates = !blocks.is_empty()
            && blocks
                .iter()
                .all(|b| matches!(b.label.as_str(), "CERTIFICATE" | "X509 CERTIFICATE"));
        if !only_certificates {
            return None;
        }
        blocks.iter().map(|b| lint_der(&b.der, options)).collect()
    }

    /// What `mutual_x509::Certificate::from_der` decides, for the parts the lints read.
    fn lint_der(der: &[u8], options: &Options) -> Option<Report> {
        let (rest, parsed) = X509Certificate::from_der(der).ok()?;
        if !rest.is_empty() {
            return None;
        }
        let tbs = &parsed.tbs_certificate;
        let extensions: Vec<Extension> =
            tbs.extensions().iter().map(Extension::from_x509).collect();
        // Self-signed: self-issued, and the certificate's own key verifies it (or the
        // algorithm is one nobody here checks, where self-issued is the best evidence).
        let self_signed = tbs.subject.as_raw() == tbs.issuer.as_raw()
            && matches!(
                mutual_x509::verify_with_spki(
                    tbs.subject_pki.raw,
                    &mutual_x509::tlv::oid_to_string(
                        parsed.signature_algorithm.algorithm.as_bytes()
                    ),
                    tbs.as_ref(),
                    &parsed.signature_value.data,
                ),
                SignatureCheck::Valid | SignatureCheck::Unsupported
            );
        let is_ca = PurposeFacts::from_extensions(&extensions, self_signed).is_ca();
        let decoded = Decoded {
            subject: DistinguishedName::from_x509(&tbs.subject),
            extensions,
            validity: Validity::new(
                tbs.validity.not_before.to_datetime(),
                tbs.validity.not_after.to_datetime(),
                options.now,
            ),
            self_signed,
            is_ca,
        };
        let serial = serial_hex(tbs.raw_serial());
        let sha256 = colon_upper(digest(&SHA256, der).as_ref());
        let cert = Cert::from_parsed(&parsed, decoded, options.profile).ok()?;
        Some(run_certificate(cert, serial, sha256, options))
    }

    const UPPER: &[u8; 16] = b"0123456789ABCDEF";

    /// Upper-case hex of the serial's content octets without a sign octet, as
    /// `Certificate::serial` has it (`openssl x509 -serial`).
    pub(super) fn serial_hex(raw: &[u8]) -> String {
        let trimmed = match raw {
            [0, next, ..] if next & 0x80 != 0 => &raw[1..],
            _ => raw,
        };
        trimmed
            .iter()
            .flat_map(|b| [UPPER[usize::from(b >> 4)], UPPER[usize::from(b & 15)]])
            .map(char::from)
            .collect()
    }

    /// `AB:CD:...`, as `Fingerprints::sha256` has it.
    pub(super) fn colon_upper(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len() * 3);
        for (index, b) in bytes.iter().enumerate() {
            if index > 0 {
                out.push(':');
            }
            out.push(char::from(UPPER[usize::from(b >> 4)]));
            out.push(char::from(UPPER[usize::from(b & 15)]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// tests/it/direct.rs holds both paths to the same reports; this makes sure the
    /// direct one is the one `lint_bytes` takes for certificates, and only for them.
    #[test]
    fn certificates_take_the_direct_path() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(["www.example.com".to_owned()]).unwrap();
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.self_signed(&key).unwrap();
        let options = Options {
            profile: None,
            trust: TrustMode::Private,
            now: OffsetDateTime::now_utc(),
        };
        let der = cert.der().to_vec();
        let pem = cert.pem();
        for input in [der.as_slice(), pem.as_bytes()] {
            let reports = direct::lint_certificates(input, &options).unwrap();
            assert_eq!(reports.len(), 1);
            assert_eq!(reports[0].profiles, [Profile::Server]);
        }
        let chain = [pem.clone(), pem.clone()].concat();
        assert_eq!(
            direct::lint_certificates(chain.as_bytes(), &options)
                .unwrap()
                .len(),
            2
        );
        let request = params.serialize_request(&key).unwrap();
        assert!(direct::lint_certificates(request.der(), &options).is_none());
        let with_key = [pem, key.serialize_pem()].concat();
        assert!(direct::lint_certificates(with_key.as_bytes(), &options).is_none());
        assert!(direct::lint_certificates(b"", &options).is_none());
    }
}
