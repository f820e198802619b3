//! The public decoder: paste a certificate, chain, CSR, CRL or PKCS#12 (PEM, or DER and
//! PKCS#12 as base64 — the page's script converts a chosen file) and see what `mutual
//! inspect` says of it, its purpose in plain words, what `mutual lint` finds, and for a
//! certificate the `mutual verify` diagnosis against this CA.
//!
//! Nothing here is stored, and nothing of the input is logged: the handler writes no log
//! line at all, and the page is sent with `Cache-Control: no-store`.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use mutual_lint::{Report, Status, TrustMode};
use mutual_verify::{Policy, Purpose as VerifyPurpose, Role, Verdict, Verifier};
use mutual_x509::{Certificate, DecodeOptions, Object, Usage};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{Markup, Section, Viewer, page, when};
use crate::auth::Admin;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub(super) struct DecodeForm {
    #[serde(default)]
    input: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn form(admin: Result<Admin, ApiError>) -> Response {
    let viewer = Viewer::of(admin);
    page(StatusCode::OK, "Decoder", Section::Decoder, &viewer, {
        let mut body = form_markup("");
        body.append(this_ca());
        body
    })
}

pub(super) async fn decode(
    admin: Result<Admin, ApiError>,
    State(state): State<Arc<AppState>>,
    form: Result<Form<DecodeForm>, FormRejection>,
) -> Response {
    let viewer = Viewer::of(admin);
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            let mut body = form_markup("");
            body.append(problem(&format!(
                "The form could not be read: {}. Paste at most {} KiB.",
                rejection.body_text(),
                state.max_body / 1024
            )));
            return page(
                rejection.status(),
                "Decoder",
                Section::Decoder,
                &viewer,
                body,
            );
        }
    };
    // PKCS#12 key derivation and signature checks are CPU work: off the async threads.
    let worker_state = Arc::clone(&state);
    let rendered = tokio::task::spawn_blocking(move || {
        let input = form.input;
        let password = (!form.password.is_empty()).then_some(form.password);
        let result = render(&worker_state, &input, password, OffsetDateTime::now_utc());
        (input, result)
    })
    .await;
    let (input, result) = match rendered {
        Ok(rendered) => rendered,
        Err(_) => (
            String::new(),
            Err("decoding stopped unexpectedly; nothing was kept".to_owned()),
        ),
    };
    let mut body = form_markup(&input);
    let status = match result {
        Ok(report) => {
            body.append(report);
            StatusCode::OK
        }
        Err(message) => {
            body.append(problem(&message));
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    page(status, "Decoder", Section::Decoder, &viewer, body)
}

fn form_markup(input: &str) -> Markup {
    let mut m = Markup::new();
    m.raw("<h1>Decode a certificate, chain, CSR, CRL or PKCS#12</h1>")
        .raw("<p class=\"note\">Nothing you paste here is stored or logged: it is decoded in memory ")
        .raw("for this one answer and forgotten. Private keys in a PKCS#12 file are described, never shown.</p>")
        .raw("<form method=\"post\" action=\"/\">")
        .raw("<label for=\"input\">PEM text, or DER / PKCS#12 as base64</label>")
        .raw("<textarea id=\"input\" name=\"input\" spellcheck=\"false\" autocomplete=\"off\" ")
        .raw("aria-describedby=\"input-help\" required>")
        .text(input)
        .raw("</textarea><p id=\"input-help\">One or more <code>-----BEGIN ...-----</code> blocks: ")
        .raw("a certificate, a chain (leaf first), a certificate request, a CRL, a PKCS#7 or PKCS#12 bundle.</p>")
        .raw("<label for=\"file\" hidden>Or choose a file</label>")
        .raw("<input type=\"file\" id=\"file\" hidden>")
        .raw("<label for=\"password\">PKCS#12 password (if any)</label>")
        .raw("<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"off\">")
        .raw("<button type=\"submit\">Decode</button></form>");
    m
}

/// Where relying parties get this CA's certificates and CRLs (the public routes).
fn this_ca() -> Markup {
    let mut m = Markup::new();
    m.raw("<section aria-labelledby=\"this-ca\"><h2 id=\"this-ca\">This CA</h2><ul>")
        .raw("<li><a href=\"/ca/chain.pem\" download>The CA chain</a> (issuing CAs and root, PEM)</li>")
        .raw("<li><a href=\"/ca/root.pem\" download>The root certificate</a> (PEM), to trust this CA</li>")
        .raw("<li>Current CRLs: <a href=\"/crl/server-ca.crl\" download>server CA</a>, ")
        .raw("<a href=\"/crl/client-ca.crl\" download>client CA</a> (DER)</li></ul></section>");
    m
}

pub(super) fn problem(message: &str) -> Markup {
    let mut m = Markup::new();
    m.raw("<div class=\"problem\" role=\"alert\" id=\"result\"><p>")
        .text(message)
        .raw("</p></div>");
    m
}

/// The bytes the user meant: PEM as written; otherwise base64 of DER or PKCS#12 when it
/// reads as such; otherwise the text itself, for the decoder to say what it found.
fn input_bytes(input: &str) -> Vec<u8> {
    let trimmed = input.trim();
    if trimmed.contains("-----BEGIN") {
        return trimmed.as_bytes().to_vec();
    }
    let compact: String = trimmed
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
        Ok(der) if !der.is_empty() => der,
        _ => trimmed.as_bytes().to_vec(),
    }
}

/// The whole report for one input, or the one message that says why there is none.
fn render(
    state: &AppState,
    input: &str,
    password: Option<String>,
    now: OffsetDateTime,
) -> Result<Markup, String> {
    if input.trim().is_empty() {
        return Err(
            "Nothing was pasted: paste a PEM block, or DER / PKCS#12 as base64.".to_owned(),
        );
    }
    let bytes = input_bytes(input);
    let objects = mutual_x509::decode(&bytes, &DecodeOptions { now, password })
        .map_err(|e| format!("The input {e}"))?;
    let certificates = certificates(&objects);
    let mut m = Markup::new();
    m.raw("<section id=\"result\" aria-labelledby=\"what\"><h2 id=\"what\">What it is</h2>");
    for object in &objects {
        summary(&mut m, object);
    }
    m.raw("</section>");
    if let Some((leaf, chain)) = certificates.split_first() {
        verification(&mut m, state, leaf, chain, now);
    }
    lint(&mut m, &objects, now);
    m.raw("<section aria-labelledby=\"decoding\"><h2 id=\"decoding\">Decoding</h2>")
        .raw("<p>As <code>mutual inspect</code> prints it.</p><pre tabindex=\"0\">")
        .text(mutual_x509::text::render_all(&objects, false))
        .raw("</pre></section>");
    Ok(m)
}

/// Every certificate in the input, loose or in a bundle, in order.
fn certificates(objects: &[Object]) -> Vec<&Certificate> {
    let mut found = Vec::new();
    for object in objects {
        match object {
            Object::Certificate(c) => found.push(c.as_ref()),
            Object::Pkcs7(bundle) => found.extend(bundle.certificates.iter()),
            Object::Pkcs12(bundle) => {
                found.extend(bundle.certificates.iter().map(|b| &b.certificate))
            }
            _ => {}
        }
    }
    found
}

fn summary(m: &mut Markup, object: &Object) {
    match object {
        Object::Certificate(c) => certificate_summary(m, c),
        Object::CertificateRequest(r) => {
            m.raw("<h3>A certificate request</h3><p>Subject <span class=\"mono\">")
                .text(&r.subject.rfc4514)
                .raw("</span></p>");
        }
        Object::Crl(crl) => {
            m.raw("<h3>A certificate revocation list</h3><p>Issuer <span class=\"mono\">")
                .text(&crl.issuer.rfc4514)
                .raw("</span>, ")
                .text(crl.revoked.len())
                .raw(" revoked certificate(s).</p>");
        }
        Object::Pkcs7(bundle) => {
            m.raw("<h3>A PKCS#7 bundle</h3>");
            for c in &bundle.certificates {
                certificate_summary(m, c);
            }
        }
        Object::Pkcs12(bundle) => {
            m.raw("<h3>A PKCS#12 bundle</h3><p>")
                .text(bundle.certificates.len())
                .raw(" certificate(s), ")
                .text(bundle.keys.len())
                .raw(" private key(s) (described in the decoding, never shown).</p>");
            for bag in &bundle.certificates {
                certificate_summary(m, &bag.certificate);
            }
        }
        Object::PrivateKey(_) => {
            m.raw("<h3>A private key</h3><p>Described in the decoding below; its value is never shown. ")
                .raw("A private key pasted into any web page should be considered exposed.</p>");
        }
    }
}

/// The Purpose section in plain words: what the certificate is, and what it may do.
fn certificate_summary(m: &mut Markup, c: &Certificate) {
    m.raw("<h3>")
        .text(capitalised(&c.purpose.kind.with_article()))
        .raw("</h3><p>Subject <span class=\"mono\">")
        .text(&c.subject.rfc4514)
        .raw("</span><br>Serial <span class=\"mono\">")
        .text(&c.serial)
        .raw("</span><br>Valid until ")
        .text(when(c.validity.not_after))
        .raw("</p><p class=\"purpose\">")
        .text(&c.purpose.summary)
        .raw("</p><ul>");
    for verdict in &c.purpose.usages {
        let usage = Usage::ALL.iter().find(|u| **u == verdict.usage);
        if let Some(usage) = usage.filter(|_| verdict.allowed) {
            m.raw("<li><span class=\"ok\">Yes</span> — ")
                .text(usage.plain())
                .raw("</li>");
        }
    }
    m.raw("</ul>");
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `mutual verify` of the first certificate, with the rest as its chain, against this CA.
fn verification(
    m: &mut Markup,
    state: &AppState,
    leaf: &Certificate,
    chain: &[&Certificate],
    now: OffsetDateTime,
) {
    let purpose = if leaf.purpose.allows(Usage::ServerAuth) {
        VerifyPurpose::Server
    } else if leaf.purpose.allows(Usage::ClientAuth) {
        VerifyPurpose::Client
    } else {
        VerifyPurpose::Any
    };
    m.raw("<section aria-labelledby=\"verify\"><h2 id=\"verify\">Against this CA</h2>");
    let verifier = match Verifier::new(vec![state.root.clone()], Policy::new(purpose, now)) {
        Ok(verifier) => verifier.with_pool(state.intermediates.clone()),
        Err(e) => {
            m.raw("<p>").text(e).raw("</p></section>");
            return;
        }
    };
    let chain: Vec<Certificate> = chain.iter().map(|c| (*c).clone()).collect();
    let verdict = verifier.verify(leaf, &chain);
    verdict_markup(m, &verdict);
    m.raw("</section>");
}

pub(super) fn verdict_markup(m: &mut Markup, verdict: &Verdict) {
    let purpose = match verdict.purpose {
        VerifyPurpose::Server => "a TLS server certificate",
        VerifyPurpose::Client => "a TLS client certificate",
        VerifyPurpose::Any => "a certificate for any purpose",
    };
    m.raw("<p>");
    if verdict.valid {
        m.raw("<span class=\"ok\">Valid</span>");
    } else {
        m.raw("<span class=\"bad\">Not valid</span>");
    }
    m.raw(" as ")
        .raw(purpose)
        .raw(" of this CA, checked at ")
        .text(when(verdict.checked_at))
        .raw(" (as <code>mutual verify</code> would).</p>");
    if !verdict.chain.is_empty() {
        m.raw("<div class=\"table-wrap\" tabindex=\"0\"><table><caption>Chain</caption><thead><tr><th scope=\"col\">Role</th>")
            .raw("<th scope=\"col\">Subject</th><th scope=\"col\">Serial</th><th scope=\"col\">Not after</th></tr></thead><tbody>");
        for link in &verdict.chain {
            let role = match link.role {
                Role::Leaf => "leaf",
                Role::Intermediate => "intermediate",
                Role::TrustAnchor => "trust anchor",
                Role::UntrustedRoot => "untrusted root",
            };
            m.raw("<tr><td>")
                .raw(role)
                .raw("</td><td class=\"mono\">")
                .text(&link.subject)
                .raw("</td><td class=\"mono\">")
                .text(&link.serial)
                .raw("</td><td>")
                .text(when(link.not_after))
                .raw("</td></tr>");
        }
        m.raw("</tbody></table></div>");
    }
    for diagnosis in verdict.errors.iter().chain(&verdict.warnings) {
        let class = match diagnosis.severity {
            mutual_x509::Severity::Error => "sev sev-error",
            mutual_x509::Severity::Warning => "sev sev-warn",
            mutual_x509::Severity::Info => "sev sev-notice",
        };
        m.raw("<div class=\"finding\"><p><span class=\"")
            .raw(class)
            .raw("\">")
            .text(diagnosis.severity)
            .raw("</span> <code>")
            .text(diagnosis.code)
            .raw("</code> ")
            .text(&diagnosis.message)
            .raw("</p>");
        if !diagnosis.evidence.is_empty() {
            m.raw("<ul>");
            for evidence in &diagnosis.evidence {
                m.raw("<li>")
                    .text(&evidence.field)
                    .raw(": <span class=\"mono\">")
                    .text(&evidence.value)
                    .raw("</span></li>");
            }
            m.raw("</ul>");
        }
        if let Some(fix) = &diagnosis.fix {
            m.raw("<p>Fix: ").text(fix).raw("</p>");
        }
        m.raw("</div>");
    }
}

fn lint(m: &mut Markup, objects: &[Object], now: OffsetDateTime) {
    let options = mutual_lint::Options {
        profile: None,
        trust: TrustMode::Private,
        now,
    };
    m.raw("<section aria-labelledby=\"lint\"><h2 id=\"lint\">Lint findings</h2>");
    match mutual_lint::lint_objects(objects, &options) {
        Ok(reports) if reports.is_empty() => {
            m.raw(
                "<p>Lints apply to certificates and certificate requests; there are none here.</p>",
            );
        }
        Ok(reports) => {
            for report in &reports {
                lint_report(m, report);
            }
        }
        Err(e) => {
            m.raw("<p>Linting stopped: ").text(e).raw("</p>");
        }
    }
    m.raw("</section>");
}

pub(super) fn lint_report(m: &mut Markup, report: &Report) {
    let (mut passed, mut not_applicable) = (0usize, 0usize);
    for result in &report.results {
        match result.status {
            Status::Pass => passed += 1,
            Status::NotApplicable | Status::NotEffective => not_applicable += 1,
            _ => {}
        }
    }
    m.raw("<h3 class=\"mono\">")
        .text(&report.subject)
        .raw("</h3><p>Linted as ");
    if report.profiles.is_empty() {
        m.raw("a leaf of no particular profile");
    }
    for (i, profile) in report.profiles.iter().enumerate() {
        if i > 0 {
            m.raw(" and ");
        }
        m.text(profile.as_str());
    }
    m.raw(": ")
        .text(passed)
        .raw(" passed, ")
        .text(not_applicable)
        .raw(" not applicable or not yet effective.</p>");
    if report.findings().next().is_none() {
        m.raw("<p class=\"ok\">No findings.</p>");
        return;
    }
    m.raw("<div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Lint</th>")
        .raw("<th scope=\"col\">Finding</th><th scope=\"col\">Source</th></tr></thead><tbody>");
    for result in report.findings() {
        let class = match result.status {
            Status::Error => "sev sev-error",
            Status::Warn => "sev sev-warn",
            _ => "sev sev-notice",
        };
        m.raw("<tr><td><span class=\"")
            .raw(class)
            .raw("\">")
            .text(result.status.as_str())
            .raw("</span></td><td><code>")
            .text(result.code)
            .raw("</code></td><td>")
            .text(result.meta.summary);
        if let Some(details) = &result.details {
            m.raw(" — ").text(details);
        }
        m.raw("</td><td>")
            .text(result.meta.source.as_str())
            .raw(" ")
            .text(result.meta.citation)
            .raw("</td></tr>");
    }
    m.raw("</tbody></table></div>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_der_is_decoded_and_pem_is_kept() {
        assert_eq!(input_bytes(" MIIB\nAA== "), vec![0x30, 0x82, 0x01, 0x00]);
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        assert_eq!(input_bytes(pem), pem.as_bytes());
        assert_eq!(input_bytes("not base64!"), b"not base64!");
    }
}
