//! The listeners: HTTPS with the client's certificate handed to the handlers, plain HTTP
//! for relying parties, both stopping gracefully — no new connections once the shutdown
//! signal arrives, in-flight requests finished (for up to the drain time).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::auth::Peer;
use crate::error::ServeError;
use crate::state::AppState;

/// A handshake that takes longer than this is dropped (slowloris).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often start-up work is redone while running (OCSP signer rotation).
const MAINTENANCE_EVERY: Duration = Duration::from_secs(3600);

pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

pub(crate) async fn run<F>(
    state: Arc<AppState>,
    tls: Arc<ServerConfig>,
    https: TcpListener,
    http: Option<TcpListener>,
    drain: Duration,
    shutdown: F,
) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let limit = DefaultBodyLimit::max(state.max_body);
    let public = crate::public::routes();
    let secure_app: Router = public
        .clone()
        .merge(crate::api::routes())
        .merge(crate::dashboard::routes())
        .layer(limit)
        .with_state(state.clone());
    let plain_app: Router = public.layer(limit).with_state(state.clone());

    let maintenance = {
        let state = state.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(MAINTENANCE_EVERY);
            every.tick().await;
            loop {
                tokio::select! {
                    _ = every.tick() => state.maintain(time::OffsetDateTime::now_utc()).await,
                    _ = stop.changed() => break,
                }
            }
        })
    };

    let plain = http.map(|listener| {
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            };
            if let Err(e) = axum::serve(listener, plain_app)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::error!(error = %e, "the plain HTTP listener failed");
            }
        })
    });

    serve_https(https, tls, secure_app, stop_rx, drain).await;
    if let Some(plain) = plain {
        let _ = tokio::time::timeout(drain, plain).await;
    }
    maintenance.abort();
    Ok(())
}

async fn serve_https(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    app: Router,
    mut stop: watch::Receiver<bool>,
    drain: Duration,
) {
    let acceptor = TlsAcceptor::from(tls);
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and friends: wait for connections to close rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.wait_for(|stopped| *stopped) => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%remote, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let chain = stream.get_ref().1.peer_certificates().map(|certificates| {
                certificates
                    .iter()
                    .map(|c| c.as_ref().to_vec())
                    .collect::<Vec<_>>()
            });
            let peer = Peer::new(chain);
            let service =
                app.map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(peer.clone());
                    request
                });
            let connection = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .http1_only()
                .serve_connection(
                    // A 413 answered from Content-Length, the body unread, must reach a
                    // client still sending it (see mutual-net).
                    TokioIo::new(mutual_net::Lingering::new(stream)),
                    TowerToHyperService::new(service),
                )
                .into_owned();
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the drain time were cut off");
    }
}
