//! Running the registry over a certificate or request: applicability, effective dates,
//! the trust setting, and the results in zlint's vocabulary.

use serde::Serialize;
use time::OffsetDateTime;

use mutual_x509::{Certificate, Csr, DecodeOptions, Diagnosis, Object, Severity};

use crate::error::LintError;
use crate::lint::{Lint, Outcome};
use crate::meta::{Meta, Profile, Profiles, Trust};
use crate::registry;
use crate::subject::{Cert, Request};

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
    #[serde(skip)]
    pub meta: Meta,
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
    fn run<S>(&mut self, families: &[&[&Lint<S>]], subject: &S) {
        for lint in families.iter().flat_map(|f| f.iter()) {
            let meta = lint.meta;
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
    let mut runner = Runner {
        options,
        profiles: cert.claims.profiles,
        issued: cert.not_before(),
        results: Vec::with_capacity(160),
    };
    runner.run(registry::CERTIFICATE, &cert);
    runner.run(registry::CLAIMS, &cert.claims);
    runner.run(registry::KEY, &cert.key);
    runner.run(registry::SIGNATURE, &cert.signature);
    Ok(Report {
        kind: SubjectKind::Certificate,
        subject: certificate.subject.rfc4514.clone(),
        serial: Some(certificate.serial.clone()),
        sha256: Some(certificate.fingerprints.sha256.clone()),
        profiles: cert.claims.profiles.iter().collect(),
        results: runner.results,
    })
}

/// Lints one certification request (as if it were issued at `options.now`).
pub fn lint_request(request: &Csr, options: &Options) -> Result<Report, LintError> {
    let req = Request::new(request, options.profile)?;
    let mut runner = Runner {
        options,
        profiles: req.claims.profiles,
        issued: options.now,
        results: Vec::with_capacity(120),
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
    let decode_options = DecodeOptions {
        now: options.now,
        password: None,
    };
    let objects = mutual_x509::decode(bytes, &decode_options)?;
    let reports = lint_objects(&objects, options)?;
    if reports.is_empty() {
        return Err(LintError::NotLintable {
            found: objects.first().map_or("nothing", Object::type_name),
        });
    }
    Ok(reports)
}
