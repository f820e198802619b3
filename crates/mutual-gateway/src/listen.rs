//! The listeners: accept, handshake (with the client's certificate judged), then HTTP/1.1
//! or HTTP/2 by ALPN until the connection ends or has been idle (no request in flight) for
//! `idle_timeout`; on shutdown no new connections, and in-flight requests finish for up to
//! the drain time. Both endings are graceful: HTTP/2 clients get a GOAWAY and their open
//! streams finish, HTTP/1.1 connections close between requests.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::judge::{Judge, Judgement};
use crate::load::Generation;
use crate::metrics::HANDSHAKES;
use crate::proxy::{ClientCert, Connection, Upstreams};
use crate::recorder::{Entry, Stage};
use crate::refusal::Refusal;
use crate::state::Shared;
use crate::tls::{HANDSHAKE, Notes};

/// Serves listener number `index` of every generation until `stop`.
pub(crate) async fn serve(
    index: usize,
    listener: TcpListener,
    shared: Arc<Shared>,
    upstreams: Upstreams,
    mut stop: watch::Receiver<bool>,
    drain: Duration,
) {
    // Every connection task holds a clone of `open`; once they have all ended, `closed`
    // yields None: that is the end of the drain.
    let (open, mut closed) = mpsc::channel::<()>(1);
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
            _ = crate::state::stopped(&mut stop) => break,
        };
        let shared = shared.clone();
        let upstreams = upstreams.clone();
        let generation = shared.current();
        let open = open.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            connection(tcp, remote, index, generation, shared, upstreams, stop).await;
            drop(open);
        });
    }
    drop(listener);
    drop(open);
    if tokio::time::timeout(drain, closed.recv()).await.is_err() {
        tracing::warn!("requests still running after the drain time were cut off");
    }
}

/// When a connection last had no request in flight, and how many it has now.
struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `started` when the last request ended.
    last_ended: AtomicU64,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ended: AtomicU64::new(0),
        })
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// How long until the connection has been idle for `limit`: zero once it has, the
    /// whole `limit` while a request is in flight (its end starts the count again).
    fn until_idle(&self, limit: Duration) -> Duration {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return limit;
        }
        let ended = Duration::from_millis(self.last_ended.load(Ordering::Relaxed));
        let idle = self.started.elapsed().saturating_sub(ended);
        limit.saturating_sub(idle)
    }
}

/// A request in flight; its drop marks the end.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let now = u64::try_from(self.0.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.0.last_ended.store(now, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn connection(
    tcp: tokio::net::TcpStream,
    remote: SocketAddr,
    index: usize,
    generation: Arc<Generation>,
    shared: Arc<Shared>,
    upstreams: Upstreams,
    mut stop: watch::Receiver<bool>,
) {
    let Some(runtime) = generation.listeners.get(index) else {
        return;
    };
    let listener = runtime.addr;
    let limits = &generation.config.limits;
    let notes = Arc::new(Mutex::new(Notes::default()));
    let handshake = HANDSHAKE.scope(notes.clone(), runtime.acceptor.accept(tcp));
    let result = tokio::time::timeout(limits.handshake_timeout, handshake).await;
    let notes = notes
        .lock()
        .map(|mut n| std::mem::take(&mut *n))
        .unwrap_or_default();
    let stream = match result {
        Err(_) => {
            count(listener, "failed", "handshake_timeout");
            return;
        }
        Ok(Err(error)) => {
            handshake_failed(&shared, &runtime.judge, notes, &error, remote, listener);
            return;
        }
        Ok(Ok(stream)) => stream,
    };
    let judgement = notes.judgement.or_else(|| {
        // A resumed session skips the verifier; the chain is judged again (from memory,
        // usually) so that a revocation loaded since still counts.
        let certificates = stream.get_ref().1.peer_certificates()?;
        let (leaf, rest) = certificates.split_first()?;
        let rest: Vec<&[u8]> = rest.iter().map(|c| c.as_ref()).collect();
        Some(runtime.judge.judge(leaf.as_ref(), &rest))
    });
    let client = match judgement {
        Some(Judgement::Admitted(admitted)) => {
            count(listener, "admitted", "");
            ClientCert::Admitted(admitted)
        }
        Some(Judgement::Refused(refusal)) => {
            count(listener, "refused_later", refusal.code);
            ClientCert::Refused(refusal)
        }
        None => {
            count(listener, "no_certificate", "");
            ClientCert::None
        }
    };
    let conn = Arc::new(Connection {
        remote,
        listener,
        forwarded_for: http::HeaderValue::from_str(&remote.ip().to_string())
            .unwrap_or_else(|_| http::HeaderValue::from_static("unknown")),
        log: crate::access_log::ConnectionLog::new(remote, listener, &client),
        client,
        judge: runtime.judge.clone(),
        generation: generation.clone(),
        shared,
        upstreams,
    });
    let activity = Activity::new();
    let tracker = activity.clone();
    let service = hyper::service::service_fn(move |request| {
        let in_flight = tracker.begin();
        let response = crate::proxy::handle(conn.clone(), request.map(mutual_net::Drained::new));
        async move {
            let response = response.await;
            drop(in_flight);
            response
        }
    });
    let idle_timeout = limits.idle_timeout;
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(idle_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(idle_timeout));
    // Lingering: a 413 answered from Content-Length, the body unread, must reach a client
    // still sending it (see mutual-net).
    let stream = mutual_net::Lingering::new(stream);
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let mut closing = false;
    loop {
        let idle = tokio::time::sleep(activity.until_idle(idle_timeout));
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(%remote, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = crate::state::stopped(&mut stop), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            // HTTP/1.1's header read timeout already ends an idle keep-alive connection;
            // an HTTP/2 connection, pinged, would otherwise stay open as long as the client.
            _ = idle, if !closing => {
                if activity.until_idle(idle_timeout).is_zero() {
                    tracing::debug!(%remote, "closing an idle connection");
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

fn count(listener: SocketAddr, outcome: &'static str, code: &'static str) {
    metrics::counter!(HANDSHAKES, "listener" => listener.to_string(), "outcome" => outcome, "code" => code)
        .increment(1);
}

/// A handshake that failed: if over the client's certificate (or its absence), the
/// refusal is logged with its diagnosis and kept in the flight recorder.
fn handshake_failed(
    shared: &Shared,
    judge: &Judge,
    notes: Notes,
    error: &std::io::Error,
    remote: SocketAddr,
    listener: SocketAddr,
) {
    let rustls_error = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    let refusal = if let Some(refusal) = notes.key_not_proven {
        refusal
    } else if let Some(Judgement::Refused(refusal)) = notes.judgement {
        (*refusal).clone()
    } else if let Some(rustls::Error::NoCertificatesPresented) = rustls_error {
        Refusal::no_certificate(&judge.accepted_cas)
    } else {
        // Not about certificates: a scanner, a client that gave up, no common protocol.
        count(listener, "failed", "handshake_failed");
        tracing::debug!(%remote, error = %error, "TLS handshake failed");
        return;
    };
    count(listener, "refused", refusal.code);
    shared.log(&serde_json::json!({
        "time": crate::access_log::Timestamp::now(),
        "event": "handshake_refused",
        "remote": remote,
        "listener": listener,
        "code": refusal.code,
        "message": refusal.message,
        "fix": refusal.fix,
        "certificate": refusal.certificate,
        "tls_error": error.to_string(),
    }));
    shared.recorder.record(Entry {
        time: time::OffsetDateTime::now_utc(),
        stage: Stage::Handshake,
        remote,
        listener,
        method: None,
        path: None,
        refusal,
    });
}
