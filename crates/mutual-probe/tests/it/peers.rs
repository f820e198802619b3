//! Endpoints that are not TLS servers, or not there at all.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use mutual_probe::{Options, ProbeError, Target, presented_chain};
use mutual_test::free_port;

fn options(timeout: Duration) -> Options {
    Options { sni: None, timeout }
}

#[test]
fn closed_port_is_connect_failed() {
    let port = free_port();
    let target = Target::new("127.0.0.1", port);

    let error = presented_chain(&target, &options(Duration::from_secs(5))).unwrap_err();

    assert_eq!(error.code(), "connect_failed", "{error:?}");
    assert!(
        error.to_string().starts_with(&format!(
            "could not connect to `127.0.0.1:{port}` at 127.0.0.1:{port}"
        )),
        "{error}"
    );
    let ProbeError::ConnectFailed { source, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn unresolvable_host_is_resolve_failed() {
    let target = Target::new("does-not-exist.invalid", 443);
    let error = presented_chain(&target, &options(Duration::from_secs(5))).unwrap_err();
    assert_eq!(error.code(), "resolve_failed", "{error:?}");
}

#[test]
fn plain_http_is_a_handshake_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buffer = [0_u8; 1024];
        let _ = stream.read(&mut buffer);
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });

    let error = presented_chain(
        &Target::new("127.0.0.1", port),
        &options(Duration::from_secs(5)),
    )
    .unwrap_err();

    assert_eq!(error.code(), "tls_handshake_failed", "{error:?}");
    server.join().unwrap();
}

#[test]
fn silent_server_is_a_handshake_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // Read the ClientHello and answer nothing until the client gives up.
        let mut buffer = [0_u8; 4096];
        while matches!(stream.read(&mut buffer), Ok(n) if n > 0) {}
    });
    let timeout = Duration::from_millis(300);
    let started = Instant::now();

    let error = presented_chain(&Target::new("127.0.0.1", port), &options(timeout)).unwrap_err();

    assert_eq!(error.code(), "handshake_timeout", "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    server.join().unwrap();
}

#[test]
fn bad_sni_is_reported_before_connecting() {
    let options = Options {
        sni: Some("not a name".to_owned()),
        timeout: Duration::from_secs(1),
    };
    let error = presented_chain(&Target::new("127.0.0.1", free_port()), &options).unwrap_err();
    assert_eq!(error.code(), "bad_server_name", "{error:?}");
}
