//! Saying no clearly: why a client was refused, in the same codes `mutual verify` uses,
//! as a TLS alert (`require` listeners), an HTTP answer in JSON or HTML (`optional`
//! listeners and route rules), a log line and an entry in the flight recorder.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use mutual_x509::{Certificate, Diagnosis, Severity};
use rustls::CertificateError;
use serde::Serialize;
use time::OffsetDateTime;

/// The certificate a refusal is about, as much as an operator needs to find it.
#[derive(Debug, Clone, Serialize)]
pub struct Presented {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub fingerprint_sha256: String,
}

impl Presented {
    pub(crate) fn of(leaf: &Certificate) -> Self {
        Self {
            subject: leaf.subject.rfc4514.clone(),
            issuer: leaf.issuer.rfc4514.clone(),
            serial: leaf.serial.clone(),
            not_before: leaf.validity.not_before,
            not_after: leaf.validity.not_after,
            fingerprint_sha256: crate::rules::normalize_fingerprint(&leaf.fingerprints.sha256),
        }
    }
}

/// Why a client was turned away.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// Stable, snake_case: a `mutual verify` code (`expired`, `unknown_issuer`,
    /// `eku_mismatch`, `revoked`, ...) or one of the gateway's own (`no_certificate`,
    /// `key_not_proven`, `not_allowed`, `no_route`).
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Presented>,
    /// Every error found, the first of which gave `code`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnoses: Vec<Diagnosis>,
    /// The route that was asked for, when the refusal is about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
}

pub(crate) const NO_CERTIFICATE: &str = "no_certificate";
pub(crate) const KEY_NOT_PROVEN: &str = "key_not_proven";
pub(crate) const NOT_ALLOWED: &str = "not_allowed";
pub(crate) const NO_ROUTE: &str = "no_route";

impl Refusal {
    /// A chain `mutual verify` rejected; `errors` is not empty. `accepted_cas` are the
    /// client CAs' names, for advice that `verify`'s own words (about its flags) lack.
    pub(crate) fn invalid(
        leaf: Option<&Certificate>,
        errors: Vec<Diagnosis>,
        accepted_cas: &[String],
    ) -> Self {
        let first = errors.first();
        let code = first.map_or("malformed_certificate", |d| d.code);
        let fix = match code {
            "unknown_issuer" | "untrusted_root" | "self_signed_leaf" => Some(format!(
                "present a certificate issued by {}, and send its intermediate CA certificates with it (e.g. curl --cert with the NAME.chain.pem file)",
                list_or_any(accepted_cas)
            )),
            _ => first.and_then(|d| d.fix.clone()),
        };
        Self {
            code,
            message: first.map_or_else(
                || "the client certificate was rejected".to_owned(),
                |d| d.message.clone(),
            ),
            fix,
            certificate: leaf.map(Presented::of),
            diagnoses: errors,
            route: None,
        }
    }

    pub(crate) fn no_certificate(accepted_cas: &[String]) -> Self {
        Self {
            code: NO_CERTIFICATE,
            message: "no client certificate was presented; this site requires one".to_owned(),
            fix: Some(format!(
                "present a client certificate issued by {}; if the browser offered none, import one (e.g. a .p12 from `mutual issue client NAME --p12 FILE`) whose issuer is in that list",
                list_or_any(accepted_cas)
            )),
            certificate: None,
            diagnoses: Vec::new(),
            route: None,
        }
    }

    pub(crate) fn key_not_proven(leaf: Option<&Certificate>) -> Self {
        Self {
            code: KEY_NOT_PROVEN,
            message: "the client presented a certificate but could not sign the handshake with its private key".to_owned(),
            fix: Some("use the private key that belongs to this certificate (`mutual inspect` on both shows whether their public keys match)".to_owned()),
            certificate: leaf.map(Presented::of),
            diagnoses: Vec::new(),
            route: None,
        }
    }

    pub(crate) fn not_allowed(leaf: Presented, route: &str) -> Self {
        Self {
            code: NOT_ALLOWED,
            message: format!(
                "the client certificate is valid, but no rule of route `{route}` admits `{}`",
                leaf.subject
            ),
            fix: Some(format!(
                "add a [[route.allow]] rule that matches this certificate to route `{route}` (subject, SAN, issuer or fingerprint), or use a certificate the route admits"
            )),
            certificate: Some(leaf),
            diagnoses: Vec::new(),
            route: Some(route.to_owned()),
        }
    }

    pub(crate) fn no_route(host: &str, path: &str) -> Self {
        Self {
            code: NO_ROUTE,
            message: format!("no route serves host `{host}` path `{path}`"),
            fix: Some("add a [[route]] for this host and path prefix".to_owned()),
            certificate: None,
            diagnoses: Vec::new(),
            route: None,
        }
    }

    /// The alert a `require` listener sends: the one the client's library turns into the
    /// most telling message.
    pub(crate) fn certificate_error(&self) -> CertificateError {
        match self.code {
            "expired" | "not_yet_valid" => CertificateError::Expired,
            "unknown_issuer" | "untrusted_root" | "self_signed_leaf" | "revocation_unknown" => {
                CertificateError::UnknownIssuer
            }
            "revoked" => CertificateError::Revoked,
            "eku_mismatch" | "no_usable_purpose" | "ku_eku_inconsistent" | "no_eku" => {
                CertificateError::InvalidPurpose
            }
            "bad_signature" => CertificateError::BadSignature,
            _ => CertificateError::BadEncoding,
        }
    }

    /// 496 without a certificate, 495 for a bad one (NGINX's codes), 403 when a rule says
    /// no, 404 without a route.
    pub(crate) fn status(&self) -> StatusCode {
        let code = match self.code {
            NO_CERTIFICATE => 496,
            NOT_ALLOWED => 403,
            NO_ROUTE => 404,
            _ => 495,
        };
        StatusCode::from_u16(code).unwrap_or(StatusCode::FORBIDDEN)
    }

    /// JSON unless the client prefers HTML (a browser).
    pub(crate) fn response(&self, accept: Option<&HeaderValue>) -> Response<Full<Bytes>> {
        let wants_html = accept
            .and_then(|a| a.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
        let status = self.status();
        let (content_type, body) = if wants_html {
            ("text/html; charset=utf-8", self.html(status))
        } else {
            let body = serde_json::json!({
                "status": status.as_u16(),
                "error": self.code,
                "message": self.message,
                "fix": self.fix,
                "certificate": self.certificate,
                "route": self.route,
                "diagnoses": self.diagnoses,
            });
            ("application/json", body.to_string() + "\n")
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        // 495 and 496 are NGINX's, not IANA's: without a phrase clients print "495 <none>".
        let phrase: Option<&'static [u8]> = match status.as_u16() {
            495 => Some(b"SSL Certificate Error"),
            496 => Some(b"SSL Certificate Required"),
            _ => None,
        };
        if let Some(phrase) = phrase {
            response
                .extensions_mut()
                .insert(hyper::ext::ReasonPhrase::from_static(phrase));
        }
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
        response.headers_mut().insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        response
    }

    fn html(&self, status: StatusCode) -> String {
        let title = match status.as_u16() {
            496 => "A client certificate is required",
            495 => "The client certificate was refused",
            403 => "This certificate may not use this page",
            _ => "Not found",
        };
        let mut html = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n<h1>{} {title}</h1>\n<p><code>{}</code>: {}</p>\n",
            status.as_u16(),
            escape(self.code),
            escape(&self.message)
        );
        if let Some(fix) = &self.fix {
            html.push_str(&format!("<p><strong>Fix:</strong> {}</p>\n", escape(fix)));
        }
        if let Some(c) = &self.certificate {
            html.push_str(&format!(
                "<table>\n<tr><th>Subject</th><td>{}</td></tr>\n<tr><th>Issuer</th><td>{}</td></tr>\n<tr><th>Serial</th><td>{}</td></tr>\n<tr><th>Not after</th><td>{}</td></tr>\n</table>\n",
                escape(&c.subject),
                escape(&c.issuer),
                escape(&c.serial),
                c.not_after
            ));
        }
        html.push_str("</body></html>\n");
        html
    }
}

/// The chain's errors, and warnings promoted to errors by the configuration.
pub(crate) fn errors_of(verdict: &mutual_verify::Verdict, refuse_no_eku: bool) -> Vec<Diagnosis> {
    let mut errors = verdict.errors.clone();
    if refuse_no_eku {
        errors.extend(
            verdict
                .warnings
                .iter()
                .filter(|w| w.code == mutual_verify::Code::NoEku.as_str())
                .cloned()
                .map(|mut d| {
                    d.severity = Severity::Error;
                    d.fix = Some("issue the client a certificate with EKU clientAuth (this gateway refuses certificates without an EKU)".to_owned());
                    d
                }),
        );
    }
    errors
}

fn list_or_any(names: &[String]) -> String {
    if names.is_empty() {
        "a trusted CA".to_owned()
    } else {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_pick_statuses_and_alerts() {
        let no = Refusal::no_certificate(&["CN=Acme Client CA".into()]);
        assert_eq!(no.status().as_u16(), 496);
        assert!(no.fix.as_deref().unwrap().contains("`CN=Acme Client CA`"));
        let expired = Refusal::invalid(
            None,
            vec![Diagnosis::new("expired", Severity::Error, "it expired")],
            &[],
        );
        assert_eq!(expired.status().as_u16(), 495);
        assert_eq!(expired.certificate_error(), CertificateError::Expired);
        let eku = Refusal::invalid(
            None,
            vec![Diagnosis::new(
                "eku_mismatch",
                Severity::Error,
                "server cert",
            )],
            &["CN=Acme Client CA".into()],
        );
        assert_eq!(eku.certificate_error(), CertificateError::InvalidPurpose);
    }

    #[test]
    fn browsers_get_html_and_everyone_else_json() {
        let refusal = Refusal::no_route("<script>", "/");
        let html = refusal.response(Some(&HeaderValue::from_static("text/html,*/*")));
        assert_eq!(html.headers()["content-type"], "text/html; charset=utf-8");
        let json = refusal.response(None);
        assert_eq!(json.status().as_u16(), 404);
        assert_eq!(json.headers()["content-type"], "application/json");
        assert!(
            refusal
                .html(StatusCode::NOT_FOUND)
                .contains("&lt;script&gt;")
        );
    }
}
