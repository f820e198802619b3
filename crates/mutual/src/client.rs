//! The client mode's HTTP side: one `mutual serve` over HTTPS (reqwest on rustls with
//! aws-lc-rs), trusted through `--ca-cert` or the system's roots, with an optional client
//! certificate; and the mapping of its answers to the CLI's exit codes.
//!
//! - 2xx: the JSON body.
//! - 401/403 (no certificate, or one that may not do this): bad input, exit 2, with the
//!   service's message and the certificate it expected.
//! - 409 and 422 (the CA will not: a policy refusal, an already revoked certificate) and the
//!   lint gate's refusal: one `mutual: refused [code]: message` line each, exit 1.
//! - other 4xx: bad input, exit 2; 5xx: exit 3.
//! - no answer at all (refused connection, DNS, TLS, timeout): exit 2, one line naming the URL.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;
use reqwest::blocking::{Client, Response};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::cli::ClientArgs;
use crate::commands::with_causes;
use crate::exit::{BadInput, Refusal};
use crate::input::read_input;

/// The API's prefix under the server URL.
const API: &str = "api/v1";
/// The most of an answer read; the API's largest (a page of 1000 records) is far below.
const MAX_ANSWER_BYTES: u64 = 32 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) const SERVER_ENV: &str = "MUTUAL_SERVER";
pub(crate) const CA_CERT_ENV: &str = "MUTUAL_CA_CERT";
pub(crate) const CLIENT_CERT_ENV: &str = "MUTUAL_CLIENT_CERT";
pub(crate) const CLIENT_KEY_ENV: &str = "MUTUAL_CLIENT_KEY";

/// Who the client says it is.
#[derive(Debug, Clone)]
pub(crate) enum Credentials {
    /// No client certificate: public calls and enrollment.
    None,
    /// A certificate (chain) and its key, as PEM files.
    Pem { cert: PathBuf, key: PathBuf },
    /// A PKCS#12 bundle and where its password comes from.
    Pkcs12 {
        path: PathBuf,
        password_file: Option<PathBuf>,
    },
}

impl Credentials {
    /// `--cert/--key`, else `--p12`, else `$MUTUAL_CLIENT_CERT`/`$MUTUAL_CLIENT_KEY`, else
    /// none. Nothing is guessed: not even a local HOME/admin.pem.
    pub(crate) fn from_args(args: &ClientArgs) -> Result<Self, BadInput> {
        if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
            return Ok(Self::Pem {
                cert: cert.clone(),
                key: key.clone(),
            });
        }
        if let Some(path) = &args.p12 {
            return Ok(Self::Pkcs12 {
                path: path.clone(),
                password_file: args.password_file.clone(),
            });
        }
        let cert = std::env::var_os(CLIENT_CERT_ENV).filter(|v| !v.is_empty());
        let key = std::env::var_os(CLIENT_KEY_ENV).filter(|v| !v.is_empty());
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Self::Pem {
                cert: cert.into(),
                key: key.into(),
            }),
            (None, None) => Ok(Self::None),
            (Some(_), None) => Err(BadInput(format!(
                "${CLIENT_CERT_ENV} is set but ${CLIENT_KEY_ENV} is not: set both, or neither"
            ))),
            (None, Some(_)) => Err(BadInput(format!(
                "${CLIENT_KEY_ENV} is set but ${CLIENT_CERT_ENV} is not: set both, or neither"
            ))),
        }
    }

    fn describe(&self) -> Option<String> {
        match self {
            Self::None => None,
            Self::Pem { cert, .. } => Some(format!("`{}`", cert.display())),
            Self::Pkcs12 { path, .. } => Some(format!("`{}`", path.display())),
        }
    }
}

/// The server URL: `--server`, else `$MUTUAL_SERVER`.
pub(crate) fn server_from(args: &ClientArgs) -> Option<String> {
    args.server.clone().or_else(|| {
        std::env::var(SERVER_ENV)
            .ok()
            .filter(|value| !value.trim().is_empty())
    })
}

/// A connection to one `mutual serve`.
#[derive(Debug)]
pub(crate) struct Service {
    http: Client,
    base: Url,
    credentials: Credentials,
    trust: String,
}

/// A key and certificate chain as PEM, ready to be presented.
pub(crate) struct ClientIdentity {
    pem: Zeroizing<String>,
}

impl Service {
    /// Prepares a client for `server` (no connection is made yet). The identity and trust
    /// files are read and checked here, so a wrong file is reported before anything is sent.
    pub(crate) fn new(
        server: &str,
        ca_cert: Option<&Path>,
        credentials: Credentials,
    ) -> anyhow::Result<Self> {
        let base = base_url(server)?;
        let identity = identity(&credentials)?;
        Self::with_identity(base, ca_cert, credentials, identity)
    }

    /// As [`Service::new`], with an identity already read (renewal reads its own files).
    pub(crate) fn with_identity(
        base: Url,
        ca_cert: Option<&Path>,
        credentials: Credentials,
        identity: Option<ClientIdentity>,
    ) -> anyhow::Result<Self> {
        let ca_cert = ca_cert
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os(CA_CERT_ENV).map(PathBuf::from));
        let mut builder = Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TIMEOUT)
            .user_agent(concat!("mutual/", env!("CARGO_PKG_VERSION")))
            // The API never redirects; a redirect would be someone else's doing.
            .redirect(reqwest::redirect::Policy::none());
        let trust = match &ca_cert {
            Some(path) => {
                let roots = trust_anchors(path)?;
                builder = builder.tls_certs_only(roots);
                format!("--ca-cert `{}`", path.display())
            }
            None => "the system's roots".to_owned(),
        };
        if let Some(identity) = identity {
            let identity = reqwest::Identity::from_pem(identity.pem.as_bytes()).map_err(|e| {
                BadInput(format!(
                    "client certificate {}: {}",
                    credentials.describe().unwrap_or_default(),
                    with_causes(&e)
                ))
            })?;
            builder = builder.identity(identity);
        }
        let http = builder.build().map_err(|e| {
            BadInput(format!(
                "the HTTPS client for `{base}` could not be set up: {}",
                with_causes(&e)
            ))
        })?;
        Ok(Self {
            http,
            base,
            credentials,
            trust,
        })
    }

    /// The URL of `segments` under the API (each segment percent-encoded).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(API.split('/')).extend(segments);
        }
        url
    }

    pub(crate) fn get(&self, segments: &[&str], query: &[(&str, String)]) -> anyhow::Result<Value> {
        let mut url = self.url(segments);
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        let request = self
            .http
            .get(url.clone())
            .header(ACCEPT, "application/json");
        self.answer(&url, request)
    }

    pub(crate) fn post(&self, segments: &[&str], body: &Value) -> anyhow::Result<Value> {
        let url = self.url(segments);
        let request = self
            .http
            .post(url.clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        self.answer(&url, request)
    }

    fn answer(
        &self,
        url: &Url,
        request: reqwest::blocking::RequestBuilder,
    ) -> anyhow::Result<Value> {
        let response = request
            .send()
            .map_err(|e| unreachable(url, &e, &self.trust))?;
        let status = response.status();
        let body = read_body(url, response)?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|_| {
                BadInput(format!(
                    "`{url}` answered {status} with something other than the API's JSON; is `{}` a `mutual serve`?",
                    self.base
                ))
                .into()
            });
        }
        Err(self.failure(url, status, &body))
    }

    /// A non-2xx answer as the CLI reports it.
    fn failure(&self, url: &Url, status: reqwest::StatusCode, body: &[u8]) -> anyhow::Error {
        let Ok(error) = serde_json::from_slice::<ApiFailure>(body) else {
            let text = format!(
                "`{url}` answered {status} without the API's JSON error; is `{}` a `mutual serve`?",
                self.base
            );
            return if status.is_client_error() {
                BadInput(text).into()
            } else {
                anyhow::anyhow!(text)
            };
        };
        let code = status.as_u16();
        if code == 401 || code == 403 {
            let mut text = format!(
                "`{url}` answered {status} [{}]: {}",
                error.error, error.message
            );
            if let Some(expected) = &error.expected {
                text.push_str(&format!("\n  expected: {expected}"));
            }
            // Details that only repeat the message are left out.
            for detail in error
                .details
                .iter()
                .filter(|d| !error.message.contains(&d.message))
            {
                text.push_str(&format!("\n  [{}] {}", detail.code, detail.message));
            }
            match self.credentials.describe() {
                None if error.error == "client_certificate_required" => text.push_str(&format!(
                    "\n  no client certificate was given: pass --cert FILE --key FILE (or --p12 FILE) before the verb, or set ${CLIENT_CERT_ENV} and ${CLIENT_KEY_ENV}"
                )),
                None => {}
                Some(file) => text.push_str(&format!("\n  presented: {file}")),
            }
            return BadInput(text).into();
        }
        if code == 409 || code == 422 || error.error == "lint_refused" {
            let reasons = if error.details.is_empty() {
                vec![(error.error, error.message)]
            } else {
                error
                    .details
                    .into_iter()
                    .map(|d| (d.code, d.message))
                    .collect()
            };
            return Refusal { reasons }.into();
        }
        let text = format!(
            "`{url}` answered {status} [{}]: {}",
            error.error, error.message
        );
        if status.is_client_error() {
            BadInput(text).into()
        } else {
            anyhow::anyhow!(text)
        }
    }
}

/// The body of every error answer of the API.
#[derive(Debug, Deserialize)]
struct ApiFailure {
    error: String,
    message: String,
    #[serde(default)]
    expected: Option<String>,
    #[serde(default)]
    details: Vec<ApiDetail>,
}

#[derive(Debug, Deserialize)]
struct ApiDetail {
    code: String,
    message: String,
}

/// `https://host:port` (a path prefix is kept; a bare `host:port` gets `https://`).
pub(crate) fn base_url(server: &str) -> Result<Url, BadInput> {
    let server = server.trim();
    let text = if server.contains("://") {
        server.to_owned()
    } else {
        format!("https://{server}")
    };
    let mut url = Url::parse(&text).map_err(|e| {
        BadInput(format!(
            "--server `{server}`: expected a URL such as https://ca.example.internal:8443; {e}"
        ))
    })?;
    if url.scheme() != "https" {
        return Err(BadInput(format!(
            "--server `{server}`: the API is served over HTTPS only (client certificates need TLS); expected https://HOST:PORT"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(BadInput(format!(
            "--server `{server}`: expected a base URL without a query or fragment"
        )));
    }
    // `https://ca:8443/api/v1` and `https://ca:8443/` name the same service.
    let path = url.path().trim_end_matches('/');
    let path = path
        .strip_suffix(&format!("/{API}"))
        .unwrap_or(path)
        .to_owned();
    url.set_path(&path);
    Ok(url)
}

/// The PEM certificates of `--ca-cert`.
fn trust_anchors(path: &Path) -> Result<Vec<reqwest::Certificate>, BadInput> {
    let name = path.display().to_string();
    let bytes = read_input(&name).map_err(|e| BadInput(format!("--ca-cert: {e}")))?;
    let certificates: Vec<_> = pem_blocks(&bytes, &format!("--ca-cert `{name}`"))?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .collect();
    if certificates.is_empty() {
        return Err(BadInput(format!(
            "--ca-cert `{name}`: expected a CERTIFICATE PEM block (the CA's root); found none"
        )));
    }
    certificates
        .iter()
        .map(|block| {
            reqwest::Certificate::from_der(&block.der)
                .map_err(|e| BadInput(format!("--ca-cert `{name}`: {}", with_causes(&e))))
        })
        .collect()
}

fn pem_blocks(bytes: &[u8], what: &str) -> Result<Vec<mutual_x509::pem::PemBlock>, BadInput> {
    if !mutual_x509::pem::looks_like_pem(bytes) {
        return Err(BadInput(format!(
            "{what}: expected PEM text; found binary data (DER? convert it with `openssl x509 -inform der`)"
        )));
    }
    mutual_x509::pem::parse(bytes).map_err(|e| BadInput(format!("{what}: {e}")))
}

/// Reads the client certificate and key of `credentials`.
pub(crate) fn identity(credentials: &Credentials) -> anyhow::Result<Option<ClientIdentity>> {
    match credentials {
        Credentials::None => Ok(None),
        Credentials::Pem { cert, key } => {
            let cert_name = cert.display().to_string();
            let key_name = key.display().to_string();
            let cert_pem = read_input(&cert_name).map_err(|e| BadInput(format!("--cert: {e}")))?;
            let key_pem =
                Zeroizing::new(read_input(&key_name).map_err(|e| BadInput(format!("--key: {e}")))?);
            pem_identity(&cert_pem, &key_pem, &cert_name, &key_name).map(Some)
        }
        Credentials::Pkcs12 {
            path,
            password_file,
        } => {
            let name = path.display().to_string();
            let der =
                Zeroizing::new(read_input(&name).map_err(|e| BadInput(format!("--p12: {e}")))?);
            let password = mutual_ca::passphrase::resolve(
                password_file.as_deref(),
                crate::commands::pkcs12::PASSWORD_ENV,
                "PKCS#12 password: ",
                false,
            )
            .map_err(|e| {
                BadInput(format!(
                    "--p12 `{name}` password: {}; pass --password-file FILE or set ${}",
                    with_causes(&e),
                    crate::commands::pkcs12::PASSWORD_ENV
                ))
            })?;
            let bundle = mutual_ca::pkcs12::import(&der, &password)
                .map_err(|e| BadInput(format!("--p12 `{name}`: {}", with_causes(&e))))?;
            let mut pem = Zeroizing::new(bundle.certificate_pem.clone());
            for chain in &bundle.chain_pems {
                pem.push_str(chain);
            }
            pem.push_str(&bundle.key_pem);
            Ok(Some(ClientIdentity { pem }))
        }
    }
}

/// A certificate (chain) and its key as one clean PEM, after checking that the files hold
/// what they should and that the key belongs to the certificate.
pub(crate) fn pem_identity(
    cert_pem: &[u8],
    key_pem: &[u8],
    cert_name: &str,
    key_name: &str,
) -> anyhow::Result<ClientIdentity> {
    let certificates: Vec<_> = pem_blocks(cert_pem, &format!("--cert `{cert_name}`"))?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .collect();
    let Some(leaf) = certificates.first() else {
        return Err(BadInput(format!(
            "--cert `{cert_name}`: expected a CERTIFICATE PEM block; found none"
        ))
        .into());
    };
    let key_blocks = pem_blocks(key_pem, &format!("--key `{key_name}`"))?;
    let Some(key) = key_blocks.iter().find(|b| b.label.ends_with("PRIVATE KEY")) else {
        return Err(BadInput(format!(
            "--key `{key_name}`: expected a PRIVATE KEY PEM block; found none"
        ))
        .into());
    };
    if key.label == "ENCRYPTED PRIVATE KEY" {
        return Err(BadInput(format!(
            "--key `{key_name}` is encrypted; the client mode needs it unencrypted (0600): `openssl pkey -in {key_name} -out plain.key.pem`, or use --p12"
        ))
        .into());
    }
    if key.label == "PRIVATE KEY" {
        let key_text = Zeroizing::new(mutual_x509::pem::encode(&key.label, &key.der));
        if let Ok(pair) = mutual_ca::key::read_key(&key_text, None)
            && !key_matches(&pair, &leaf.der)
        {
            return Err(BadInput(format!(
                "--key `{key_name}` is not the key of the certificate in --cert `{cert_name}`"
            ))
            .into());
        }
    }
    let mut pem = Zeroizing::new(String::new());
    for block in &certificates {
        pem.push_str(&mutual_x509::pem::encode(&block.label, &block.der));
    }
    pem.push_str(&mutual_x509::pem::encode(&key.label, &key.der));
    Ok(ClientIdentity { pem })
}

/// Whether `certificate` (DER) carries `key`'s public key.
pub(crate) fn key_matches(key: &rcgen::KeyPair, certificate: &[u8]) -> bool {
    mutual_x509::Certificate::from_der(certificate, time::OffsetDateTime::now_utc())
        .is_ok_and(|decoded| decoded.public_key.key_bytes == key.public_key_raw())
}

fn read_body(url: &Url, response: Response) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    response
        .take(MAX_ANSWER_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| BadInput(format!("`{url}`: the answer could not be read: {e}")))?;
    if body.len() as u64 > MAX_ANSWER_BYTES {
        return Err(BadInput(format!(
            "`{url}`: the answer is over {MAX_ANSWER_BYTES} bytes; no API answer comes near it"
        ))
        .into());
    }
    Ok(body)
}

/// No answer: why, in one line that names the URL.
fn unreachable(url: &Url, error: &reqwest::Error, trust: &str) -> anyhow::Error {
    let host = url.host_str().unwrap_or_default();
    let reason = if error.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if let Some(tls) = find_cause::<rustls::Error>(error) {
        tls_reason(tls, host, trust)
    } else if let Some(io) = find_cause::<std::io::Error>(error) {
        match io.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                "connection refused (is `mutual serve` running there?)".to_owned()
            }
            _ => deepest(error),
        }
    } else {
        deepest(error)
    };
    BadInput(format!("cannot reach `{url}`: {reason}")).into()
}

fn tls_reason(error: &rustls::Error, host: &str, trust: &str) -> String {
    use rustls::{AlertDescription, CertificateError};
    match error {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
            "TLS: the server's certificate does not chain to {trust}; pass --ca-cert with the CA's root (HOME/ca/root.pem)"
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!(
            "TLS: the server's certificate is not valid for `{host}`; use a name it carries (`mutual serve --name {host}` adds one)"
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "TLS: the server's certificate has expired".to_owned(),
        rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => {
            "TLS: the server requires a client certificate; pass --cert and --key".to_owned()
        }
        other => format!("TLS: {other}"),
    }
}

fn find_cause<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    if let Some(found) = error.downcast_ref::<T>() {
        return Some(found);
    }
    // io::Error hides its payload from `source()` (it answers the payload's source): TLS
    // errors arrive as an io::Error around an io::Error around the rustls::Error.
    if let Some(inner) = error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
        && let Some(found) = find_cause::<T>(inner)
    {
        return Some(found);
    }
    error.source().and_then(find_cause::<T>)
}

/// The innermost cause's text: the one that says what happened.
fn deepest(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::base_url;

    #[test]
    fn server_urls() {
        let url = |s: &str| base_url(s).map(|u| u.to_string()).map_err(|e| e.0);
        assert_eq!(url("https://ca:8443").unwrap(), "https://ca:8443/");
        assert_eq!(url("ca.example:8443").unwrap(), "https://ca.example:8443/");
        assert_eq!(url("https://ca:8443/api/v1/").unwrap(), "https://ca:8443/");
        assert_eq!(url("https://ca/pki/").unwrap(), "https://ca/pki");
        assert!(url("http://ca:8080").unwrap_err().contains("HTTPS only"));
        assert!(url("https://").is_err());
    }
}
