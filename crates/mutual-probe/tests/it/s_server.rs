//! The chain exactly as `openssl s_server` sends it, whatever is wrong with it.

use std::time::Duration;

use mutual_probe::{Options, ProbeError, Target, presented_chain};
use mutual_test::{SServer, pem_to_der};

use crate::corpus;

fn options() -> Options {
    Options {
        sni: None,
        timeout: Duration::from_secs(10),
    }
}

fn serve(name: &str) -> SServer {
    let corpus = corpus();
    SServer::builder(corpus.cert(name), corpus.key(name))
        .cert_chain(corpus.cert("intermediate"))
        .start()
}

fn leaf_and_intermediate(name: &str) -> Vec<Vec<u8>> {
    let corpus = corpus();
    let mut expected = pem_to_der(corpus.cert(name));
    expected.extend(pem_to_der(corpus.cert("intermediate")));
    expected
}

#[test]
fn returns_leaf_then_intermediate_as_sent() {
    let server = serve("server-p256");
    let target = Target::new("127.0.0.1", server.port());

    let chain = presented_chain(&target, &options()).unwrap();

    assert_eq!(chain.certificates, leaf_and_intermediate("server-p256"));
    assert_eq!(chain.protocol, "TLSv1.3");
    assert!(
        chain.cipher_suite.starts_with("TLS_AES_"),
        "{}",
        chain.cipher_suite
    );
    assert_eq!(chain.server_name, None, "no SNI is sent to an IP address");
    assert_eq!(chain.peer, server.address());
    assert_eq!(chain.client_certificate_request, None);
}

#[test]
fn sends_the_host_or_the_given_name_as_sni() {
    let server = serve("server-p256");

    let by_host = presented_chain(&Target::new("localhost", server.port()), &options()).unwrap();
    assert_eq!(by_host.server_name.as_deref(), Some("localhost"));

    let given = Options {
        sni: Some("server-p256.example.test".to_owned()),
        ..options()
    };
    let by_option = presented_chain(&Target::new("127.0.0.1", server.port()), &given).unwrap();
    assert_eq!(
        by_option.server_name.as_deref(),
        Some("server-p256.example.test")
    );
}

#[test]
fn every_key_type_completes_an_honest_handshake() {
    for name in [
        "server-rsa2048",
        "server-rsa3072",
        "server-p384",
        "server-ed25519",
    ] {
        let server = serve(name);
        let target = Target::new("127.0.0.1", server.port());
        let chain = presented_chain(&target, &options())
            .unwrap_or_else(|error| panic!("{name}: {error:?}\n{}", server.output()));
        assert_eq!(chain.certificates, leaf_and_intermediate(name), "{name}");
    }
}

#[test]
fn tls12_reports_its_protocol_and_suite() {
    let corpus = corpus();
    let server = SServer::builder(corpus.cert("server-rsa2048"), corpus.key("server-rsa2048"))
        .cert_chain(corpus.cert("intermediate"))
        .arg("-tls1_2")
        .start();
    let target = Target::new("127.0.0.1", server.port());

    let chain = presented_chain(&target, &options()).unwrap();

    assert_eq!(chain.protocol, "TLSv1.2");
    assert!(
        chain.cipher_suite.starts_with("TLS_ECDHE_RSA_WITH_"),
        "{}",
        chain.cipher_suite
    );
    assert_eq!(chain.certificates, leaf_and_intermediate("server-rsa2048"));
}

#[test]
fn does_not_judge_expired_or_self_signed_chains() {
    let expired = serve("expired");
    let chain = presented_chain(&Target::new("127.0.0.1", expired.port()), &options()).unwrap();
    assert_eq!(chain.certificates, leaf_and_intermediate("expired"));

    let corpus = corpus();
    let self_signed = SServer::builder(
        corpus.cert("self-signed-leaf"),
        corpus.key("self-signed-leaf"),
    )
    .start();
    let chain = presented_chain(&Target::new("127.0.0.1", self_signed.port()), &options()).unwrap();
    assert_eq!(
        chain.certificates,
        pem_to_der(corpus.cert("self-signed-leaf"))
    );
}

/// A server that requires a client certificate rejects the probe (which never sends one);
/// the error still carries the chain and the request, in both protocol versions.
#[test]
fn reports_a_required_client_certificate() {
    let corpus = corpus();
    for version in ["-tls1_3", "-tls1_2"] {
        let server = SServer::builder(corpus.cert("server-p256"), corpus.key("server-p256"))
            .cert_chain(corpus.cert("intermediate"))
            .require_client_certificate(2, corpus.cert("root"))
            .arg(version)
            .start();
        let target = Target::new("127.0.0.1", server.port());

        let error = presented_chain(&target, &options()).expect_err("no client certificate");

        assert_eq!(error.code(), "tls_handshake_failed", "{version}: {error:?}");
        let ProbeError::TlsHandshakeFailed {
            presented,
            client_certificate_request,
            source,
            ..
        } = &error
        else {
            panic!("{version}: {error:?}");
        };
        assert_eq!(
            presented,
            &leaf_and_intermediate("server-p256"),
            "{version}"
        );
        let request = client_certificate_request.as_ref().expect("the request");
        assert_eq!(
            request.acceptable_issuers.len(),
            1,
            "{version}: the root's DN"
        );
        assert!(
            matches!(source, rustls::Error::AlertReceived(_)),
            "{version}: {source:?}"
        );
        assert!(
            error
                .to_string()
                .contains("after the server asked for a client certificate and none was sent"),
            "{version}: {error}"
        );
    }
}

#[test]
fn notes_an_optional_client_certificate_request() {
    let corpus = corpus();
    let server = SServer::builder(corpus.cert("server-p256"), corpus.key("server-p256"))
        .cert_chain(corpus.cert("intermediate"))
        .arg("-verify")
        .arg("2")
        .start();
    let target = Target::new("127.0.0.1", server.port());

    let chain = presented_chain(&target, &options()).unwrap();

    assert!(chain.client_certificate_request.is_some());
    assert_eq!(chain.certificates, leaf_and_intermediate("server-p256"));
}
