//! From a configuration to what the listeners run with: files read and decoded, keys
//! matched to certificates, CRLs fetched, routes compiled. Every problem is collected, not
//! only the first, so that `mutual gateway check` lists them all; the running gateway
//! loads the same way at start and on every reload.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mutual_verify::CrlSource;
use mutual_x509::{Certificate, Crl, DecodeOptions, ExtensionValue, Object, Usage};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;
use time::OffsetDateTime;
use tokio_rustls::TlsAcceptor;

use crate::config::{Config, Mode};
use crate::judge::Judge;
use crate::rules::{Access, Route, RouteTable, route_name};

/// One thing wrong with a configuration: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// e.g. `listener[0].client_ca`, `route "api"`.
    pub at: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Everything a listener needs, rebuilt on reload.
pub(crate) struct ListenerRuntime {
    pub(crate) addr: SocketAddr,
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) judge: Arc<Judge>,
}

/// A CRL as loaded, for `/metrics` and the log: proof that a revocation reached the edge.
#[derive(Debug, Clone, Serialize)]
pub struct LoadedCrl {
    pub source: String,
    pub issuer: String,
    pub number: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_update: Option<OffsetDateTime>,
    pub revoked: usize,
}

/// One loaded configuration: what every new connection uses until the next reload.
pub(crate) struct Generation {
    pub(crate) listeners: Vec<ListenerRuntime>,
    pub(crate) routes: RouteTable,
    pub(crate) crls: Vec<LoadedCrl>,
    pub(crate) config: Config,
}

/// Reads and checks everything `config` names. `now` decides what has expired.
pub(crate) async fn load(config: &Config, now: OffsetDateTime) -> Result<Generation, Vec<Problem>> {
    let mut problems = Vec::new();
    let (crl_sources, crls) = load_crls(config, now, &mut problems).await;
    if config.listeners.is_empty() {
        problem(
            &mut problems,
            "listener",
            "no [[listener]] is configured: the gateway would accept nothing",
        );
    }
    let mut listeners = Vec::new();
    for (index, listener) in config.listeners.iter().enumerate() {
        let at = format!("listener[{index}]");
        if config.listeners[..index]
            .iter()
            .any(|l| l.listen == listener.listen)
        {
            problem(
                &mut problems,
                &at,
                format!("{} is listed twice", listener.listen),
            );
        }
        let chain = server_chain(&listener.cert, now, &format!("{at}.cert"), &mut problems);
        let key = private_key(&listener.key, &format!("{at}.key"), &mut problems);
        let anchors = client_cas(
            &listener.client_ca,
            now,
            &format!("{at}.client_ca"),
            &mut problems,
        );
        let (Some(chain), Some(key)) = (chain, key) else {
            continue;
        };
        let provider = crate::tls::provider();
        if let Err(rustls::Error::InconsistentKeys(_)) =
            rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider)
        {
            problem(
                &mut problems,
                format!("{at}.key"),
                format!(
                    "{} is not the private key of the certificate in {}",
                    listener.key.display(),
                    listener.cert.display()
                ),
            );
            continue;
        }
        let Some(anchors) = anchors else {
            continue;
        };
        let judge = match Judge::new(
            anchors.clone(),
            crl_sources.clone(),
            listener.max_depth,
            listener.certificates_without_eku,
            &config.revocation,
        ) {
            Ok(judge) => Arc::new(judge),
            Err(e) => {
                problem(&mut problems, format!("{at}.client_ca"), e.to_string());
                continue;
            }
        };
        match crate::tls::server_config(chain, key, judge.clone(), &anchors, listener.mode) {
            Ok(tls) => listeners.push(ListenerRuntime {
                addr: listener.listen,
                acceptor: TlsAcceptor::from(tls),
                judge,
            }),
            Err(e) => problem(
                &mut problems,
                &at,
                format!("the TLS configuration was refused: {e}"),
            ),
        }
    }
    let routes = routes(config, &mut problems);
    if problems.is_empty() {
        Ok(Generation {
            listeners,
            routes,
            crls,
            config: config.clone(),
        })
    } else {
        Err(problems)
    }
}

fn problem(problems: &mut Vec<Problem>, at: impl Into<String>, message: impl Into<String>) {
    problems.push(Problem {
        at: at.into(),
        message: message.into(),
    });
}

fn read(path: &Path, at: &str, problems: &mut Vec<Problem>) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            problem(problems, at, format!("cannot read {}: {e}", path.display()));
            None
        }
    }
}

fn certificates(
    bytes: &[u8],
    path: &Path,
    now: OffsetDateTime,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<Certificate>> {
    let options = DecodeOptions {
        now,
        password: None,
    };
    match mutual_x509::decode(bytes, &options) {
        Ok(objects) => {
            let found: Vec<Certificate> = objects
                .into_iter()
                .filter_map(|o| match o {
                    Object::Certificate(c) => Some(*c),
                    _ => None,
                })
                .collect();
            if found.is_empty() {
                problem(
                    problems,
                    at,
                    format!("{} holds no certificate", path.display()),
                );
                return None;
            }
            Some(found)
        }
        Err(e) => {
            problem(
                problems,
                at,
                format!("{}: expected PEM or DER certificates: {e}", path.display()),
            );
            None
        }
    }
}

/// The server certificate and its intermediates, as they will be sent.
fn server_chain(
    path: &Path,
    now: OffsetDateTime,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<CertificateDer<'static>>> {
    let bytes = read(path, at, problems)?;
    let chain = certificates(&bytes, path, now, at, problems)?;
    let leaf = &chain[0];
    if leaf.validity.not_after < now {
        problem(
            problems,
            at,
            format!(
                "the server certificate `{}` in {} expired on {}",
                leaf.subject.rfc4514,
                path.display(),
                leaf.validity.not_after
            ),
        );
    }
    if !leaf.purpose.allows(Usage::ServerAuth) {
        problem(
            problems,
            at,
            format!(
                "`{}` in {} is not a server certificate (its EKU does not allow serverAuth): clients will refuse it",
                leaf.subject.rfc4514,
                path.display()
            ),
        );
    }
    Some(
        chain
            .into_iter()
            .map(|c| CertificateDer::from(c.der))
            .collect(),
    )
}

fn private_key(
    path: &Path,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<PrivateKeyDer<'static>> {
    let bytes = read(path, at, problems)?;
    let blocks = match mutual_x509::pem::parse(&bytes) {
        Ok(blocks) => blocks,
        Err(e) => {
            problem(
                problems,
                at,
                format!("{}: expected a PEM private key: {e}", path.display()),
            );
            return None;
        }
    };
    let key = blocks.into_iter().find_map(|b| match b.label.as_str() {
        "PRIVATE KEY" => Some(PrivateKeyDer::Pkcs8(b.der.into())),
        "EC PRIVATE KEY" => Some(PrivateKeyDer::Sec1(b.der.into())),
        "RSA PRIVATE KEY" => Some(PrivateKeyDer::Pkcs1(b.der.into())),
        _ => None,
    });
    if key.is_none() {
        problem(
            problems,
            at,
            format!(
                "{} holds no unencrypted private key (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block)",
                path.display()
            ),
        );
    }
    key
}

/// The trusted client CAs: each must be a CA able to vouch for client certificates.
fn client_cas(
    paths: &[std::path::PathBuf],
    now: OffsetDateTime,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<Certificate>> {
    if paths.is_empty() {
        problem(
            problems,
            at,
            "no client CA: name the CA(s) whose client certificates are accepted",
        );
        return None;
    }
    let before = problems.len();
    let mut anchors = Vec::new();
    for path in paths {
        let Some(bytes) = read(path, at, problems) else {
            continue;
        };
        let Some(found) = certificates(&bytes, path, now, at, problems) else {
            continue;
        };
        for ca in found {
            if ca.purpose.ca.is_none() {
                problem(
                    problems,
                    at,
                    format!(
                        "`{}` in {} is not a CA certificate; to admit one certificate, trust its issuer and pin its fingerprint in a route's [[route.allow]]",
                        ca.subject.rfc4514,
                        path.display()
                    ),
                );
            } else if !eku_allows_client_auth(&ca) {
                problem(
                    problems,
                    at,
                    format!(
                        "the CA `{}` in {} restricts its EKU to exclude clientAuth: no client certificate under it can pass",
                        ca.subject.rfc4514,
                        path.display()
                    ),
                );
            } else if ca.validity.not_after < now {
                problem(
                    problems,
                    at,
                    format!(
                        "the CA `{}` in {} expired on {}",
                        ca.subject.rfc4514,
                        path.display(),
                        ca.validity.not_after
                    ),
                );
            } else {
                anchors.push(ca);
            }
        }
    }
    (problems.len() == before).then_some(anchors)
}

/// A CA without an EKU restricts nothing; with one, it must name clientAuth or any.
fn eku_allows_client_auth(ca: &Certificate) -> bool {
    ca.extensions
        .iter()
        .find_map(|e| match &e.value {
            ExtensionValue::ExtendedKeyUsage { purposes } => Some(purposes),
            _ => None,
        })
        .is_none_or(|purposes| {
            purposes
                .iter()
                .any(|p| p.oid == Usage::ClientAuth.oid() || p.oid == "2.5.29.37.0")
        })
}

async fn load_crls(
    config: &Config,
    now: OffsetDateTime,
    problems: &mut Vec<Problem>,
) -> (Vec<CrlSource>, Vec<LoadedCrl>) {
    let mut sources = Vec::new();
    let mut loaded = Vec::new();
    for (index, source) in config.revocation.crl.iter().enumerate() {
        let at = format!("revocation.crl[{index}]");
        let bytes = if source.starts_with("http://") || source.starts_with("https://") {
            match crate::fetch::get(source, Duration::from_secs(10)).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    problem(problems, &at, format!("cannot fetch {source}: {e}"));
                    continue;
                }
            }
        } else {
            match read(Path::new(source), &at, problems) {
                Some(bytes) => bytes,
                None => continue,
            }
        };
        let options = DecodeOptions {
            now,
            password: None,
        };
        let crl: Option<Crl> = match mutual_x509::decode(&bytes, &options) {
            Ok(objects) => objects.into_iter().find_map(|o| match o {
                Object::Crl(c) => Some(*c),
                _ => None,
            }),
            Err(e) => {
                problem(
                    problems,
                    &at,
                    format!("{source}: expected a CRL (PEM or DER): {e}"),
                );
                continue;
            }
        };
        let Some(crl) = crl else {
            problem(problems, &at, format!("{source} holds no CRL"));
            continue;
        };
        loaded.push(LoadedCrl {
            source: source.clone(),
            issuer: crl.issuer.rfc4514.clone(),
            number: crl.crl_number.clone(),
            this_update: crl.this_update,
            next_update: crl.next_update,
            revoked: crl.revoked.len(),
        });
        sources.push(CrlSource {
            source: source.clone(),
            crl,
        });
    }
    (sources, loaded)
}

fn routes(config: &Config, problems: &mut Vec<Problem>) -> RouteTable {
    if config.routes.is_empty() {
        problem(
            problems,
            "route",
            "no [[route]] is configured: every request would be answered 404",
        );
    }
    let optional_anywhere = config.listeners.iter().any(|l| l.mode == Mode::Optional);
    let mut compiled = Vec::new();
    for (index, route) in config.routes.iter().enumerate() {
        let name = route_name(route);
        let at = format!("route[{index}] `{name}`");
        if !route.path.starts_with('/') {
            problem(
                problems,
                &at,
                format!("path `{}` must start with /", route.path),
            );
        }
        if config.routes[..index]
            .iter()
            .any(|r| r.host == route.host && r.path == route.path)
        {
            problem(problems, &at, "another route has the same host and path");
        }
        let chosen = [route.public, route.allow_any, !route.allow.is_empty()]
            .iter()
            .filter(|b| **b)
            .count();
        if chosen == 0 {
            problem(
                problems,
                &at,
                "admits nobody: add [[route.allow]] rules, `allow_any = true` (any certificate from the client CAs) or `public = true`",
            );
        } else if chosen > 1 {
            problem(
                problems,
                &at,
                "choose one of `public`, `allow_any` and [[route.allow]] rules",
            );
        }
        if route.public && !optional_anywhere {
            problem(
                problems,
                &at,
                "`public = true` needs a listener with `mode = \"optional\"`: on `require` listeners every client has a certificate",
            );
        }
        for (r, rule) in route.allow.iter().enumerate() {
            if rule.is_empty() {
                problem(
                    problems,
                    format!("{at}.allow[{r}]"),
                    "an empty rule would admit everyone; use `allow_any = true` to mean that",
                );
            }
            for fp in &rule.fingerprint_sha256 {
                let hex = crate::rules::normalize_fingerprint(fp);
                if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    problem(
                        problems,
                        format!("{at}.allow[{r}]"),
                        format!(
                            "`{fp}` is not a SHA-256 fingerprint: expected 64 hex digits (colons allowed)"
                        ),
                    );
                }
            }
        }
        match upstream(&route.upstream) {
            Ok(uri) => compiled.push(Route::new(route, uri)),
            Err(message) => problem(problems, format!("{at}.upstream"), message),
        }
    }
    if compiled.iter().all(|r| matches!(r.access, Access::Public)) && !compiled.is_empty() {
        tracing::warn!("every route is public: client certificates are asked for but never needed");
    }
    RouteTable::new(compiled)
}

fn upstream(text: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = text
        .parse()
        .map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    match (uri.scheme_str(), uri.authority()) {
        (Some("http"), Some(_)) if uri.path() == "/" || uri.path().is_empty() => Ok(uri),
        (Some("http"), Some(_)) => Err(format!(
            "`{text}`: an upstream is scheme://host:port without a path (the request's path is sent as it came)"
        )),
        (Some("https"), _) => Err(format!(
            "`{text}`: TLS to upstreams is not supported yet; use http:// on a private network or loopback"
        )),
        _ => Err(format!("`{text}`: expected http://HOST:PORT")),
    }
}
