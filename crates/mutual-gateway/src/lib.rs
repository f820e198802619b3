//! `mutual gateway`: an mTLS reverse proxy.
//!
//! It terminates TLS with a server certificate, asks every client for a certificate and
//! judges it with `mutual verify` (purpose `client`, only the configured client CAs, the
//! loaded CRLs), picks a route by host and path, admits or refuses the verified identity
//! by the route's rules, and forwards the request with that identity in headers
//! (`X-Client-Cert-*`, Envoy's `X-Forwarded-Client-Cert`) — after removing any such
//! header the client sent. Refusals carry the diagnosis code `mutual verify` would give:
//! as a TLS alert on `require` listeners, as a 495 / 496 / 403 answer in JSON or HTML on
//! `optional` ones, always in the log and in the flight recorder on the admin port.
//!
//! ```text
//! config ─load─> Generation (listeners' TLS + judges, routes) ─swap on reload─┐
//! accept ─> handshake (tls::ClientVerifier ─> judge::Judge) ─> proxy::handle ─┘─> upstream
//! ```

mod access_log;
mod admin;
pub mod config;
mod fetch;
mod identity;
mod judge;
mod listen;
mod load;
mod metrics;
mod proxy;
mod recorder;
mod refusal;
mod reload;
mod rules;
mod state;
mod tls;
mod workers;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use config::{Config, ConfigError};
pub use load::{LoadedCrl, Problem};
pub use refusal::{Presented, Refusal};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the gateway configuration has {} problem(s):\n{}", .0.len(), list(.0))]
    Invalid(Vec<Problem>),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the worker threads: {0}")]
    Runtime(std::io::Error),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What `mutual gateway check` reports about a configuration that loads.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub listeners: Vec<SocketAddr>,
    pub routes: usize,
    pub crls: Vec<LoadedCrl>,
}

/// Loads everything `config` names, as the gateway would at start.
///
/// # Errors
/// Every problem found, not only the first.
pub async fn check(config: &Config) -> Result<Summary, Vec<Problem>> {
    let generation = load::load(config, time::OffsetDateTime::now_utc()).await?;
    Ok(Summary {
        listeners: generation.listeners.iter().map(|l| l.addr).collect(),
        routes: config.routes.len(),
        crls: generation.crls,
    })
}

/// The addresses actually bound (port 0 resolved).
#[derive(Debug, Clone)]
pub struct Running {
    pub listeners: Vec<SocketAddr>,
    pub admin: Option<SocketAddr>,
}

/// Loads `config`, binds every listener, calls `ready`, and proxies until `shutdown`
/// resolves; then stops accepting and lets in-flight requests finish (up to
/// `limits.drain`). `config_path` is re-read on reload (SIGHUP or a changed file); without
/// it, reloads re-read the files `config` names.
///
/// # Errors
/// The configuration does not load, or an address cannot be bound.
pub async fn run<F>(
    config: Config,
    config_path: Option<PathBuf>,
    ready: impl FnOnce(&Running),
    shutdown: F,
) -> Result<(), GatewayError>
where
    F: Future<Output = ()> + Send + 'static,
{
    metrics::init();
    let generation = load::load(&config, time::OffsetDateTime::now_utc())
        .await
        .map_err(GatewayError::Invalid)?;
    metrics::crls_loaded(&generation.crls);
    let model = workers::Model::for_config(&config);
    let addresses: Vec<SocketAddr> = config.listeners.iter().map(|l| l.listen).collect();
    let sockets = workers::bind(&addresses, model)?;
    let admin = match config.admin.listen {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let running = Running {
        listeners: sockets
            .iter()
            .filter_map(|s| s.first().and_then(|l| l.local_addr().ok()))
            .collect(),
        admin: admin.as_ref().and_then(|l| l.local_addr().ok()),
    };
    let shared = Arc::new(state::Shared::new(generation, config.admin.refusals_kept));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let threads = workers::start(
        model,
        sockets,
        &shared,
        &stop_rx,
        config.limits.drain,
        config.limits.idle_timeout,
    )?;
    if let Some(admin) = admin {
        tokio::spawn(admin::serve(admin, shared.clone(), stop_rx.clone()));
    }
    tokio::spawn(reload::watch(config_path, shared.clone(), stop_rx.clone()));
    ready(&running);
    let _ = tokio::task::spawn_blocking(move || {
        for thread in threads {
            let _ = thread.join();
        }
    })
    .await;
    Ok(())
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, GatewayError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| GatewayError::Bind { addr, source })
}

/// Route rules' wildcard matching, for the fuzz target (`fuzz/fuzz_targets/gateway_config.rs`).
#[doc(hidden)]
pub fn glob_matches(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    rules::Glob::new(pattern, case_insensitive).matches(text)
}
