//! Where connections are served. With OCSP off, one thread per core, each with its own
//! single-threaded runtime, its own listening socket per listener (SO_REUSEPORT: the
//! kernel spreads new connections over them) and its own upstream connection pool — as
//! NGINX's workers do — so that a request and its upstream exchange never cross threads:
//! under keep-alive load that is about 15% less CPU per request than one work-stealing
//! runtime. With OCSP on, a verification may wait on a responder, so connections are served
//! by one multi-threaded runtime instead, where such a wait (`block_in_place`) hands the
//! thread's other connections to the other threads rather than stalling them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::watch;

use crate::GatewayError;
use crate::state::Shared;

/// How connections are spread over threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Model {
    /// `n` threads, each its own runtime and sockets.
    PerCore(usize),
    /// One runtime with `n` worker threads sharing one socket per listener.
    Shared(usize),
}

impl Model {
    pub(crate) fn for_config(config: &crate::Config) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        if config.revocation.ocsp == crate::config::OcspMode::Off {
            Model::PerCore(cores)
        } else {
            Model::Shared(cores)
        }
    }

    fn sockets_per_listener(self) -> usize {
        match self {
            Model::PerCore(n) => n,
            Model::Shared(_) => 1,
        }
    }
}

/// Binds every listener: `sockets[l][w]` is listener `l`'s socket for worker `w`.
pub(crate) fn bind(
    addresses: &[SocketAddr],
    model: Model,
) -> Result<Vec<Vec<std::net::TcpListener>>, GatewayError> {
    addresses
        .iter()
        .map(|&addr| bind_one(addr, model.sockets_per_listener()))
        .collect()
}

fn bind_one(addr: SocketAddr, count: usize) -> Result<Vec<std::net::TcpListener>, GatewayError> {
    let error = |source| GatewayError::Bind { addr, source };
    let mut sockets = Vec::with_capacity(count);
    // Port 0 is resolved by the first bind; the others join that port.
    let mut actual = addr;
    for _ in 0..count {
        let socket = Socket::new(
            Domain::for_address(actual),
            Type::STREAM,
            Some(Protocol::TCP),
        )
        .map_err(error)?;
        socket.set_reuse_address(true).map_err(error)?;
        if count > 1 {
            socket.set_reuse_port(true).map_err(error)?;
        }
        socket.set_nonblocking(true).map_err(error)?;
        socket.bind(&actual.into()).map_err(error)?;
        socket.listen(1024).map_err(error)?;
        let listener = std::net::TcpListener::from(socket);
        actual = listener.local_addr().map_err(error)?;
        sockets.push(listener);
    }
    Ok(sockets)
}

/// Starts the worker threads; each returns when `stop` is raised and its connections have
/// drained.
pub(crate) fn start(
    model: Model,
    sockets: Vec<Vec<std::net::TcpListener>>,
    shared: &Arc<Shared>,
    stop: &watch::Receiver<bool>,
    drain: Duration,
    idle: Duration,
) -> Result<Vec<std::thread::JoinHandle<()>>, GatewayError> {
    let mut per_worker: Vec<Vec<std::net::TcpListener>> = (0..model.sockets_per_listener())
        .map(|_| Vec::new())
        .collect();
    for listener in sockets {
        for (worker, socket) in listener.into_iter().enumerate() {
            per_worker[worker].push(socket);
        }
    }
    let mut threads = Vec::new();
    for (index, sockets) in per_worker.into_iter().enumerate() {
        let runtime = match model {
            Model::PerCore(_) => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
            Model::Shared(n) => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(n)
                .enable_all()
                .build(),
        }
        .map_err(GatewayError::Runtime)?;
        let (shared, stop) = (shared.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("gateway-{index}"))
            .spawn(move || runtime.block_on(serve(sockets, shared, stop, drain, idle)))
            .map_err(GatewayError::Runtime)?;
        threads.push(thread);
    }
    Ok(threads)
}

async fn serve(
    sockets: Vec<std::net::TcpListener>,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    drain: Duration,
    idle: Duration,
) {
    let upstreams = crate::proxy::upstreams(idle);
    let mut tasks = Vec::new();
    for (index, socket) in sockets.into_iter().enumerate() {
        match tokio::net::TcpListener::from_std(socket) {
            Ok(listener) => tasks.push(tokio::spawn(crate::listen::serve(
                index,
                listener,
                shared.clone(),
                upstreams.clone(),
                stop.clone(),
                drain,
            ))),
            Err(e) => tracing::error!(error = %e, "a listening socket could not join the runtime"),
        }
    }
    for task in tasks {
        let _ = task.await;
    }
}
