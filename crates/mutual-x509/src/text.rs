//! The human rendering of decoded objects: the Purpose first, because it is the question
//! people open a certificate to answer, then every field `openssl x509 -text` shows.

use std::fmt::Write;

use crate::certificate::Certificate;
use crate::crl::Crl;
use crate::csr::Csr;
use crate::diagnosis::Diagnosis;
use crate::extensions::{Extension, ExtensionValue, GeneralName};
use crate::key::{KeyFormat, PrivateKey};
use crate::name::DistinguishedName;
use crate::object::Object;
use crate::pkcs7::Pkcs7;
use crate::pkcs12::Pkcs12;
use crate::purpose::Purpose;
use crate::signature::SignatureCheck;
use crate::validity::rfc3339;

/// Text output with indentation, and ANSI colour when the caller asks for it (the binary
/// does when stdout is a terminal and NO_COLOR is unset).
struct Out {
    buf: String,
    indent: usize,
    colour: bool,
}

const GOOD: anstyle::Style = anstyle::AnsiColor::Green.on_default();
const QUIET: anstyle::Style = anstyle::Style::new().dimmed();
const ERROR: anstyle::Style = anstyle::AnsiColor::Red.on_default().bold();
const WARNING: anstyle::Style = anstyle::AnsiColor::Yellow.on_default().bold();
const HEADING: anstyle::Style = anstyle::Style::new().bold();

impl Out {
    fn paint(&self, style: anstyle::Style, text: &str) -> String {
        if self.colour {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    fn line(&mut self, text: impl AsRef<str>) {
        for _ in 0..self.indent {
            self.buf.push_str("  ");
        }
        self.buf.push_str(text.as_ref());
        self.buf.push('\n');
    }

    /// A comma-separated list, wrapped so long SAN lists stay readable.
    fn list(&mut self, items: &[String]) {
        let mut current = String::new();
        for item in items {
            if !current.is_empty() && current.len() + item.len() > 96 {
                self.line(format!("{current},"));
                current.clear();
            }
            if !current.is_empty() {
                current.push_str(", ");
            }
            current.push_str(item);
        }
        if !current.is_empty() {
            self.line(current);
        }
    }

    fn field(&mut self, name: &str, value: impl AsRef<str>) {
        self.line(format!("{:<12} {}", format!("{name}:"), value.as_ref()));
    }

    fn nested(&mut self, body: impl FnOnce(&mut Out)) {
        self.indent += 1;
        body(self);
        self.indent -= 1;
    }
}

/// Renders one object as plain text.
pub fn render(object: &Object) -> String {
    render_with(object, false)
}

/// Renders one object, with ANSI colour when `colour` is set.
pub fn render_with(object: &Object, colour: bool) -> String {
    let mut out = Out {
        buf: String::new(),
        indent: 0,
        colour,
    };
    match object {
        Object::Certificate(cert) => certificate(&mut out, cert),
        Object::CertificateRequest(csr) => request(&mut out, csr),
        Object::Crl(crl) => revocation_list(&mut out, crl),
        Object::Pkcs7(bundle) => pkcs7(&mut out, bundle),
        Object::Pkcs12(bundle) => pkcs12(&mut out, bundle),
        Object::PrivateKey(key) => private_key(&mut out, key),
    }
    out.buf
}

fn name(dn: &DistinguishedName) -> String {
    if dn.is_empty() {
        "(empty)".to_owned()
    } else {
        dn.rfc4514.clone()
    }
}

fn certificate(out: &mut Out, cert: &Certificate) {
    let title = out.paint(HEADING, cert.purpose.kind.title());
    out.line(format!("Certificate: {title}"));
    out.nested(|out| {
        purpose(out, &cert.purpose, "Purpose");
        findings(out, &cert.findings);
        out.field("Subject", name(&cert.subject));
        out.field("Issuer", name(&cert.issuer));
        out.field("Serial", cert.serial_colon_hex());
        out.field("Version", cert.version.to_string());
        let v = &cert.validity;
        out.field(
            "Validity",
            format!(
                "{} to {} ({} days); {}",
                rfc3339(v.not_before),
                rfc3339(v.not_after),
                v.lifetime_days,
                v.relative
            ),
        );
        out.field("Public key", cert.public_key.summary());
        out.field(
            "SPKI pin",
            format!("sha256//{}", cert.public_key.spki_sha256),
        );
        out.field("Signature", cert.signature_algorithm.name.clone());
        out.field("Self-signed", if cert.self_signed { "yes" } else { "no" });
        extensions(out, "Extensions", &cert.extensions);
        out.line("Fingerprints:");
        out.nested(|out| {
            out.field("SHA-256", cert.fingerprints.sha256.clone());
            out.field("SHA-1", cert.fingerprints.sha1.clone());
        });
    });
}

fn purpose(out: &mut Out, purpose: &Purpose, title: &str) {
    out.field(title, purpose.summary.clone());
    out.nested(|out| {
        for verdict in &purpose.usages {
            let line = format!(
                "{} {:<16} {} ({})",
                if verdict.allowed { "yes" } else { "no " },
                verdict.eku,
                verdict.description,
                verdict.reason
            );
            let painted = out.paint(if verdict.allowed { GOOD } else { QUIET }, &line);
            out.line(painted);
        }
    });
}

fn findings(out: &mut Out, findings: &[Diagnosis]) {
    if findings.is_empty() {
        return;
    }
    out.line("Findings:");
    out.nested(|out| {
        for finding in findings {
            let severity = match finding.severity {
                crate::Severity::Error => out.paint(ERROR, finding.severity.as_str()),
                crate::Severity::Warning => out.paint(WARNING, finding.severity.as_str()),
                crate::Severity::Info => finding.severity.to_string(),
            };
            out.line(format!("{severity} [{}] {}", finding.code, finding.message));
            out.nested(|out| {
                for evidence in &finding.evidence {
                    out.line(format!("{}: {}", evidence.field, evidence.value));
                }
                if let Some(fix) = &finding.fix {
                    out.line(format!("fix: {fix}"));
                }
            });
        }
    });
}

fn names(list: &[GeneralName]) -> String {
    list.iter()
        .map(GeneralName::display)
        .collect::<Vec<_>>()
        .join(", ")
}

fn extensions(out: &mut Out, title: &str, list: &[Extension]) {
    if list.is_empty() {
        out.field(title, "none");
        return;
    }
    out.line(format!("{title}:"));
    out.nested(|out| {
        for extension in list {
            let critical = if extension.critical {
                " (critical)"
            } else {
                ""
            };
            out.line(format!("{}{critical}:", extension.name));
            out.nested(|out| extension_value(out, &extension.value));
        }
    });
}

fn extension_value(out: &mut Out, value: &ExtensionValue) {
    use ExtensionValue as V;
    match value {
        V::SubjectAltName { names: list } | V::IssuerAltName { names: list } => {
            out.list(&list.iter().map(GeneralName::display).collect::<Vec<_>>());
        }
        V::KeyUsage { usages } => out.line(
            usages
                .iter()
                .map(|u| u.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        V::ExtendedKeyUsage { purposes } => out.line(
            purposes
                .iter()
                .map(|p| {
                    if p.name == p.oid {
                        p.oid.clone()
                    } else {
                        format!("{} ({})", p.name, p.oid)
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        V::BasicConstraints { ca, path_len } => out.line(match (ca, path_len) {
            (true, Some(len)) => format!("CA:TRUE, pathlen:{len}"),
            (true, None) => "CA:TRUE".to_owned(),
            (false, _) => "CA:FALSE".to_owned(),
        }),
        V::SubjectKeyIdentifier { key_id } => out.line(key_id),
        V::AuthorityKeyIdentifier {
            key_id,
            issuer,
            serial,
        } => {
            if let Some(id) = key_id {
                out.line(format!("keyid:{id}"));
            }
            if !issuer.is_empty() {
                out.line(format!("issuer:{}", names(issuer)));
            }
            if let Some(serial) = serial {
                out.line(format!("serial:{serial}"));
            }
        }
        V::AuthorityInfoAccess { access } | V::SubjectInfoAccess { access } => {
            for entry in access {
                out.line(format!("{} - {}", entry.method, entry.location.display()));
            }
        }
        V::CrlDistributionPoints { points } => {
            for point in points {
                out.line(format!("Full Name: {}", names(&point.names)));
                if !point.crl_issuer.is_empty() {
                    out.line(format!("CRL Issuer: {}", names(&point.crl_issuer)));
                }
            }
        }
        V::CertificatePolicies { policies } => {
            for policy in policies {
                match policy.name {
                    Some(name) => out.line(format!("Policy: {} ({name})", policy.oid)),
                    None => out.line(format!("Policy: {}", policy.oid)),
                }
                for cps in &policy.cps {
                    out.line(format!("  CPS: {cps}"));
                }
            }
        }
        V::NameConstraints {
            permitted,
            excluded,
        } => {
            if !permitted.is_empty() {
                out.line(format!("Permitted: {}", names(permitted)));
            }
            if !excluded.is_empty() {
                out.line(format!("Excluded: {}", names(excluded)));
            }
        }
        V::PolicyConstraints {
            require_explicit_policy,
            inhibit_policy_mapping,
        } => {
            if let Some(n) = require_explicit_policy {
                out.line(format!("Require Explicit Policy: {n}"));
            }
            if let Some(n) = inhibit_policy_mapping {
                out.line(format!("Inhibit Policy Mapping: {n}"));
            }
        }
        V::InhibitAnyPolicy { skip_certs } => out.line(skip_certs.to_string()),
        V::SignedCertificateTimestamps { count, timestamps } => {
            out.line(format!("{count} SCT(s)"));
            for sct in timestamps {
                out.line(format!("log {} at {}", sct.log_id, rfc3339(sct.timestamp)));
            }
        }
        V::CrlNumber { number } => out.line(number),
        V::ReasonCode { reason } => out.line(reason),
        V::NetscapeCertType { types } => out.line(types.join(", ")),
        V::Unknown { value_hex } => out.line(format!("unknown extension, value {value_hex}")),
        V::Malformed { error, value_hex } => {
            out.line(format!("malformed ({error}), value {value_hex}"))
        }
    }
}

fn request(out: &mut Out, csr: &Csr) {
    let asks = match csr.purpose.kind {
        crate::PurposeKind::Unspecified => {
            "asks for no particular kind; the CA's profile decides".to_owned()
        }
        kind => format!("asks to become {}", kind.with_article()),
    };
    out.line(format!("Certificate request: {asks}"));
    out.nested(|out| {
        purpose(out, &csr.purpose, "Requests");
        out.field("Subject", name(&csr.subject));
        out.field("Public key", csr.public_key.summary());
        out.field(
            "Signature",
            format!(
                "{}, {}",
                csr.signature_algorithm.name,
                match csr.signature {
                    SignatureCheck::Valid => "valid (the requester holds the private key)",
                    SignatureCheck::Invalid =>
                        "INVALID: the request was altered or not signed by its key",
                    SignatureCheck::Unsupported => "not checked (algorithm not supported)",
                }
            ),
        );
        extensions(out, "Requested extensions", &csr.requested_extensions);
    });
}

fn revocation_list(out: &mut Out, crl: &Crl) {
    out.line(format!("CRL: {} revoked certificate(s)", crl.revoked.len()));
    out.nested(|out| {
        out.field("Issuer", name(&crl.issuer));
        out.field("Version", crl.version.to_string());
        out.field("This update", rfc3339(crl.this_update));
        out.field(
            "Next update",
            match crl.next_update {
                Some(next) if crl.stale => format!("{} (STALE: it has passed)", rfc3339(next)),
                Some(next) => rfc3339(next),
                None => "none".to_owned(),
            },
        );
        out.field(
            "CRL number",
            crl.crl_number.clone().unwrap_or_else(|| "none".to_owned()),
        );
        out.field("Signature", crl.signature_algorithm.name.clone());
        extensions(out, "Extensions", &crl.extensions);
        if !crl.revoked.is_empty() {
            out.line("Revoked:");
            out.nested(|out| {
                for entry in &crl.revoked {
                    let reason = entry.reason.map(|r| format!(", {r}")).unwrap_or_default();
                    out.line(format!(
                        "{} at {}{reason}",
                        entry.serial,
                        rfc3339(entry.revoked_at)
                    ));
                }
            });
        }
    });
}

fn pkcs7(out: &mut Out, bundle: &Pkcs7) {
    out.line(format!(
        "PKCS#7 bundle: {} certificate(s), {} CRL(s), {} signer(s)",
        bundle.certificates.len(),
        bundle.crls.len(),
        bundle.signer_count
    ));
    out.nested(|out| {
        for cert in &bundle.certificates {
            certificate(out, cert);
        }
        for crl in &bundle.crls {
            revocation_list(out, crl);
        }
    });
}

fn pkcs12(out: &mut Out, bundle: &Pkcs12) {
    out.line(format!(
        "PKCS#12 bundle: {} certificate(s), {} private key(s){}",
        bundle.certificates.len(),
        bundle.keys.len(),
        if bundle.legacy {
            ", legacy encryption"
        } else {
            ""
        }
    ));
    out.nested(|out| {
        match &bundle.mac {
            Some(mac) => out.field(
                "MAC",
                format!("{}, {} iterations", mac.algorithm, mac.iterations),
            ),
            None => out.field("MAC", "none: anyone can alter this bundle undetected"),
        }
        for protection in &bundle.protection {
            out.field("Encryption", protection);
        }
        for (index, key) in bundle.keys.iter().enumerate() {
            out.line(format!("Key bag {}: {}", index + 1, key.key.summary()));
            out.nested(|out| {
                bag_attributes(
                    out,
                    key.friendly_name.as_deref(),
                    key.local_key_id.as_deref(),
                );
                out.field(
                    "Matches",
                    match key.matches_certificate {
                        Some(i) => format!("certificate bag {} (same public key)", i + 1),
                        None => "no certificate in this bundle".to_owned(),
                    },
                );
            });
        }
        for (index, bag) in bundle.certificates.iter().enumerate() {
            out.line(format!("Certificate bag {}:", index + 1));
            out.nested(|out| {
                bag_attributes(
                    out,
                    bag.friendly_name.as_deref(),
                    bag.local_key_id.as_deref(),
                );
                certificate(out, &bag.certificate);
            });
        }
    });
}

fn bag_attributes(out: &mut Out, friendly_name: Option<&str>, local_key_id: Option<&str>) {
    if let Some(name) = friendly_name {
        out.field("Friendly name", name);
    }
    if let Some(id) = local_key_id {
        out.field("Local key id", id);
    }
}

fn private_key(out: &mut Out, key: &PrivateKey) {
    let format = match key.format {
        KeyFormat::Pkcs8 => "PKCS#8, unencrypted",
        KeyFormat::EncryptedPkcs8 => "PKCS#8, encrypted",
        KeyFormat::Pkcs1 => "PKCS#1 (traditional RSA), unencrypted",
        KeyFormat::Sec1 => "SEC 1 (traditional EC), unencrypted",
        KeyFormat::LegacyEncryptedPem => "traditional PEM, encrypted",
    };
    out.line(format!("Private key: {} ({format})", key.summary()));
    out.nested(|out| {
        if let Some(encryption) = &key.encryption {
            out.field("Encryption", encryption);
        }
        out.line("The key material is not shown.");
    });
}

/// Joins renderings of several objects with a blank line, as one document.
pub fn render_all(objects: &[Object], colour: bool) -> String {
    let mut buf = String::new();
    for (index, object) in objects.iter().enumerate() {
        if index > 0 {
            buf.push('\n');
        }
        let _ = write!(buf, "{}", render_with(object, colour));
    }
    buf
}
