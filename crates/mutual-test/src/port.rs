use std::net::TcpListener;

/// A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it), for a server to
/// bind next. Another process could take it in between; [`crate::SServer`] retries if so.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("binding 127.0.0.1:0 to find a free port")
}
