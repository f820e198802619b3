//! `mutual serve`: the CA as a service.
//!
//! Two listeners. HTTPS (`--listen`) carries the REST API under `/api/v1`, authenticated
//! with client certificates: the handshake asks for one but does not require it, so the
//! public endpoints stay open and a caller with the wrong certificate gets a JSON answer
//! that says which certificate was expected, rather than a TLS alert. Plain HTTP
//! (`--http-listen`) carries what relying parties fetch — OCSP, CRLs, CA certificates —
//! which must not depend on TLS to the CA (RFC 6960 A.1, RFC 5280 4.2.1.13); issued
//! certificates point there.
//!
//! On a fresh home the service sets itself up first: a CA (as `mutual init`, with the
//! issuing keys readable unattended), its own server certificate and a first
//! administrator's `admin.p12` (see [`bootstrap`]).

mod api;
mod auth;
pub mod bootstrap;
mod crl_cache;
mod dashboard;
mod error;
mod issuer;
mod listen;
mod metrics;
mod ocsp;
mod openapi;
mod public;
mod state;
mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use bootstrap::Bootstrap;
pub use error::ServeError;
use mutual_ca::home::Home;
use mutual_ca::passphrase::Passphrase;

/// How `mutual serve` was asked to run.
#[derive(Debug)]
pub struct ServeOptions {
    pub home: Home,
    /// HTTPS: the API and everything public.
    pub listen: SocketAddr,
    /// Plain HTTP for OCSP, CRLs and CA certificates; `None` turns it off.
    pub http_listen: Option<SocketAddr>,
    /// The base URL issued certificates name for OCSP, CRLs and CA certificates, written
    /// to `mutual.toml` when the service creates the CA. Default: `http://` + the plain
    /// HTTP listener (with `localhost` for an unspecified address).
    pub public_url: Option<String>,
    /// Extra DNS names or IP addresses for the service's own certificate, beside
    /// `localhost`, 127.0.0.1, ::1 and the listen address.
    pub names: Vec<String>,
    /// The CA passphrase (`--passphrase-file`, `$MUTUAL_PASSPHRASE`): encrypts the root key
    /// of a new CA, unlocks encrypted issuing keys of an existing one.
    pub passphrase: Option<Passphrase>,
    /// The longest a request body may be.
    pub max_body: usize,
    /// How long in-flight requests get to finish after a shutdown signal.
    pub drain: std::time::Duration,
    /// The certificate store (`--database`); `None` for the home's choice (`database` in
    /// its mutual.toml, else its SQLite file).
    pub database: Option<mutual_ca::store::Database>,
}

impl ServeOptions {
    pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

    pub fn new(home: Home, listen: SocketAddr) -> Self {
        Self {
            home,
            listen,
            http_listen: None,
            public_url: None,
            names: Vec::new(),
            passphrase: None,
            max_body: Self::DEFAULT_MAX_BODY,
            drain: std::time::Duration::from_secs(10),
            database: None,
        }
    }
}

/// A running service's addresses, reported once both listeners are bound.
#[derive(Debug, Clone)]
pub struct Running {
    pub https: SocketAddr,
    pub http: Option<SocketAddr>,
    pub home: PathBuf,
}

/// Sets the home up if it is fresh, binds both listeners, calls `ready` with what was
/// done, and serves until `shutdown` resolves; then stops accepting, lets in-flight
/// requests finish (up to `options.drain`) and closes the store.
pub async fn serve<F>(
    options: ServeOptions,
    ready: impl FnOnce(&Running, &Bootstrap),
    shutdown: F,
) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    metrics::init();
    let now = time::OffsetDateTime::now_utc();
    let (boot, loaded) = bootstrap::prepare(&options, now).await?;
    let state = Arc::new(state::AppState::load(&options, loaded, &boot, now).await?);
    let https = listen::bind(options.listen).await?;
    let http = match options.http_listen {
        Some(addr) => Some(listen::bind(addr).await?),
        None => None,
    };
    let running = Running {
        https: https.local_addr().map_err(|source| ServeError::Bind {
            addr: options.listen,
            source,
        })?,
        http: http.as_ref().and_then(|l| l.local_addr().ok()),
        home: options.home.path().to_path_buf(),
    };
    ready(&running, &boot);
    let tls = tls::server_config(&state)?;
    let result = listen::run(state.clone(), tls, https, http, options.drain, shutdown).await;
    state.shutdown().await;
    result
}
