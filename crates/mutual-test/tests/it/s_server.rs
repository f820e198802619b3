//! SServer starts a real `openssl s_server`, serves the chain it was given, and stops on drop.

use std::net::TcpStream;

use mutual_test::{Corpus, SServer, openssl_output};

#[test]
fn serves_the_chain_and_stops_on_drop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = Corpus::generate(dir.path());
    let server = SServer::builder(corpus.cert("server-p256"), corpus.key("server-p256"))
        .cert_chain(corpus.cert("intermediate"))
        .start();
    let address = server.address().to_string();
    let root = corpus.cert("root");

    let output = openssl_output(&[
        "s_client",
        "-connect",
        &address,
        "-servername",
        "localhost",
        "-verify_return_error",
        "-CAfile",
        root.to_str().expect("UTF-8 path"),
        "-showcerts",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Verify return code: 0 (ok)"),
        "{stdout}\n{}",
        server.output()
    );
    assert!(
        stdout.contains("CN = Mutual Test Intermediate CA"),
        "{stdout}"
    );

    let address = server.address();
    drop(server);
    assert!(
        TcpStream::connect(address).is_err(),
        "s_server still listens after drop"
    );
}

#[test]
fn requires_client_certificate_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = Corpus::generate(dir.path());
    let root = corpus.cert("root");
    let root = root.to_str().expect("UTF-8 path");
    let server = SServer::builder(corpus.cert("server-p256"), corpus.key("server-p256"))
        .cert_chain(corpus.cert("intermediate"))
        .require_client_certificate(2, root)
        .start();
    let address = server.address().to_string();

    let (client, client_key, intermediate) = (
        corpus.cert("client"),
        corpus.key("client"),
        corpus.cert("intermediate"),
    );
    let with_cert = openssl_output(&[
        "s_client",
        "-connect",
        &address,
        "-CAfile",
        root,
        "-cert",
        client.to_str().expect("UTF-8 path"),
        "-key",
        client_key.to_str().expect("UTF-8 path"),
        "-cert_chain",
        intermediate.to_str().expect("UTF-8 path"),
    ]);
    assert!(
        String::from_utf8_lossy(&with_cert.stdout).contains("Verify return code: 0 (ok)"),
        "{with_cert:?}\n{}",
        server.output()
    );
    assert!(
        !server
            .output()
            .contains("peer did not return a certificate"),
        "{}",
        server.output()
    );
}
