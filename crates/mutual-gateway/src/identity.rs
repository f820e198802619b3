//! Who a verified client certificate says its holder is, in the forms rules match on and
//! upstreams read: the `X-Client-Cert-*` headers and Envoy's `X-Forwarded-Client-Cert`.

use http::{HeaderMap, HeaderName, HeaderValue};
use mutual_x509::{Certificate, GeneralName};
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// RFC 4514.
    pub(crate) subject: String,
    pub(crate) cn: Vec<String>,
    pub(crate) o: Vec<String>,
    pub(crate) ou: Vec<String>,
    pub(crate) issuer: String,
    /// Upper-case hex, as `openssl x509 -serial` prints it.
    pub(crate) serial: String,
    /// Lower-case hex without colons.
    pub(crate) fingerprint_sha256: String,
    pub(crate) san_dns: Vec<String>,
    pub(crate) san_email: Vec<String>,
    pub(crate) san_uri: Vec<String>,
    pub(crate) not_after: OffsetDateTime,
    pub(crate) pem: String,
}

impl Identity {
    pub(crate) fn of(leaf: &Certificate) -> Self {
        let names = leaf.subject_alt_names();
        let pick = |f: fn(&GeneralName) -> Option<&String>| -> Vec<String> {
            names.iter().filter_map(f).cloned().collect()
        };
        Self {
            subject: leaf.subject.rfc4514.clone(),
            cn: leaf.subject.values("CN").map(str::to_owned).collect(),
            o: leaf.subject.values("O").map(str::to_owned).collect(),
            ou: leaf.subject.values("OU").map(str::to_owned).collect(),
            issuer: leaf.issuer.rfc4514.clone(),
            serial: leaf.serial.clone(),
            fingerprint_sha256: crate::rules::normalize_fingerprint(&leaf.fingerprints.sha256),
            san_dns: pick(|n| match n {
                GeneralName::Dns(d) => Some(d),
                _ => None,
            }),
            san_email: pick(|n| match n {
                GeneralName::Email(e) => Some(e),
                _ => None,
            }),
            san_uri: pick(|n| match n {
                GeneralName::Uri(u) => Some(u),
                _ => None,
            }),
            not_after: leaf.validity.not_after,
            pem: mutual_x509::pem::encode("CERTIFICATE", &leaf.der),
        }
    }

    /// The headers an upstream receives, built once per certificate and reused for every
    /// request on every connection that presents it.
    pub(crate) fn headers(&self) -> IdentityHeaders {
        let not_after = self
            .not_after
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mut plain = vec![
            (SUBJECT, value(&self.subject)),
            (ISSUER, value(&self.issuer)),
            (SERIAL, value(&self.serial)),
            (FINGERPRINT, value(&self.fingerprint_sha256)),
            (NOT_AFTER, value(&not_after)),
        ];
        for (name, list) in [
            (SAN_DNS, &self.san_dns),
            (SAN_URI, &self.san_uri),
            (SAN_EMAIL, &self.san_email),
        ] {
            if !list.is_empty() {
                plain.push((name, value(&list.join(","))));
            }
        }
        let pem = url_encode(&self.pem);
        let mut xfcc = format!(
            "Hash={};Subject=\"{}\"",
            self.fingerprint_sha256,
            self.subject.replace('\\', "\\\\").replace('"', "\\\"")
        );
        for uri in &self.san_uri {
            xfcc.push_str(";URI=");
            xfcc.push_str(&xfcc_escape(uri));
        }
        for dns in &self.san_dns {
            xfcc.push_str(";DNS=");
            xfcc.push_str(&xfcc_escape(dns));
        }
        let xfcc_with_cert = format!("{xfcc};Cert=\"{pem}\"");
        IdentityHeaders {
            plain: plain
                .into_iter()
                .map(|(n, v)| (HeaderName::from_static(n), v))
                .collect(),
            xfcc: value(&xfcc),
            xfcc_with_cert: value(&xfcc_with_cert),
            pem: value(&pem),
        }
    }
}

const SUBJECT: &str = "x-client-cert-subject";
const ISSUER: &str = "x-client-cert-issuer";
const SERIAL: &str = "x-client-cert-serial";
const FINGERPRINT: &str = "x-client-cert-fingerprint";
const NOT_AFTER: &str = "x-client-cert-not-after";
const SAN_DNS: &str = "x-client-cert-san-dns";
const SAN_URI: &str = "x-client-cert-san-uri";
const SAN_EMAIL: &str = "x-client-cert-san-email";
const PEM: &str = "x-client-cert";
const XFCC: &str = "x-forwarded-client-cert";

#[derive(Debug, Clone)]
pub(crate) struct IdentityHeaders {
    plain: Vec<(HeaderName, HeaderValue)>,
    xfcc: HeaderValue,
    xfcc_with_cert: HeaderValue,
    pem: HeaderValue,
}

impl IdentityHeaders {
    pub(crate) fn apply(&self, headers: &mut HeaderMap, forward_pem: bool) {
        for (name, value) in &self.plain {
            headers.insert(name.clone(), value.clone());
        }
        if forward_pem {
            headers.insert(HeaderName::from_static(PEM), self.pem.clone());
            headers.insert(HeaderName::from_static(XFCC), self.xfcc_with_cert.clone());
        } else {
            headers.insert(HeaderName::from_static(XFCC), self.xfcc.clone());
        }
    }
}

/// Removes every identity header a client sent: only the gateway speaks for the
/// certificate. Any name starting `x-client-cert` goes, not only the ones the gateway
/// sets, so that a backend reading a variant spelling cannot be fooled either.
/// Underscores count as hyphens: CGI-style backends (PHP, WSGI, Rack) read
/// `X_Client_Cert_Subject` and `X-Client-Cert-Subject` as the same variable.
pub(crate) fn strip_spoofed(headers: &mut HeaderMap) -> usize {
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| is_identity_header(name.as_str()))
        .cloned()
        .collect();
    for name in &spoofed {
        headers.remove(name);
    }
    spoofed.len()
}

/// `x-client-cert*` or `x-forwarded-client-cert`, reading `_` as `-` (names arrive
/// lower-cased), without allocating: this runs on every header of every request.
fn is_identity_header(name: &str) -> bool {
    let same = |name: &[u8], expected: &[u8]| {
        name.len() >= expected.len()
            && name
                .iter()
                .zip(expected)
                .all(|(&n, &e)| n == e || (n == b'_' && e == b'-'))
    };
    let name = name.as_bytes();
    same(name, b"x-client-cert") || (name.len() == XFCC.len() && same(name, XFCC.as_bytes()))
}

/// A header value from certificate text, which may hold anything: control characters
/// (a CN with a line break must not split a header) are written as `\xHH`.
fn value(text: &str) -> HeaderValue {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            for byte in c.to_string().bytes() {
                safe.push_str(&format!("\\x{byte:02X}"));
            }
        } else {
            safe.push(c);
        }
    }
    HeaderValue::from_str(&safe)
        .or_else(|_| HeaderValue::from_bytes(safe.as_bytes()))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// RFC 3986 percent-encoding of everything but unreserved characters, as NGINX's
/// `$ssl_client_escaped_cert` (and what a backend URL-decodes).
pub(crate) fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// XFCC values are separated by `;` and `,`; a value holding either is quoted.
fn xfcc_escape(text: &str) -> String {
    if text.contains([';', ',', '"', '=']) {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoofed_identity_headers_are_removed_whatever_their_spelling() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "X-Client-Cert-Subject",
            HeaderValue::from_static("CN=admin"),
        );
        headers.insert("x-client-cert-anything", HeaderValue::from_static("x"));
        headers.insert(
            "X-Forwarded-Client-Cert",
            HeaderValue::from_static("Hash=00"),
        );
        headers.insert("x-client-certificate", HeaderValue::from_static("x"));
        headers.insert(
            "x_client_cert_subject",
            HeaderValue::from_static("CN=admin"),
        );
        headers.insert("x-forwarded_client_cert", HeaderValue::from_static("x"));
        headers.insert("accept", HeaderValue::from_static("*/*"));
        assert_eq!(strip_spoofed(&mut headers), 6);
        assert_eq!(headers.len(), 1);
    }

    #[test]
    fn header_values_never_carry_control_characters() {
        let v = value("CN=evil\r\nX-Client-Cert-Subject: CN=admin");
        assert_eq!(
            v.to_str().unwrap(),
            "CN=evil\\x0D\\x0AX-Client-Cert-Subject: CN=admin"
        );
        assert_eq!(value("CN=Zoë").as_bytes(), "CN=Zoë".as_bytes());
    }

    #[test]
    fn pem_is_url_encoded_as_nginx_escapes_it() {
        assert_eq!(
            url_encode("-----BEGIN A+/=\n"),
            "-----BEGIN%20A%2B%2F%3D%0A"
        );
        assert_eq!(xfcc_escape("spiffe://a/b"), "spiffe://a/b");
        assert_eq!(xfcc_escape("a;b"), "\"a;b\"");
    }
}
