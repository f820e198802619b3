//! `inspect HOST:PORT` against a real `openssl s_server` started by the test.

use crate::{corpus, inspect_json, mutual};
use mutual_test::SServer;

#[test]
fn shows_the_chain_as_sent() {
    let chain = corpus().dir().join("server-chain.pem");
    std::fs::write(
        &chain,
        std::fs::read(corpus().cert("intermediate")).unwrap(),
    )
    .unwrap();
    let server = SServer::builder(corpus().cert("server-p256"), corpus().key("server-p256"))
        .cert_chain(&chain)
        .start();
    let target = format!("127.0.0.1:{}", server.port());
    let docs = inspect_json(&[&target, "--sni", "www.example.test"]);
    let endpoint = &docs[0]["endpoint"];
    assert_eq!(endpoint["certificates_sent"], 2);
    assert_eq!(endpoint["server_name"], "www.example.test");
    assert_eq!(endpoint["client_certificate_requested"], false);
    assert!(endpoint["protocol"].as_str().unwrap().starts_with("TLSv1."));
    let objects = docs[0]["objects"].as_array().unwrap();
    let leaf = crate::inspect_one(&corpus().cert("server-p256"));
    let intermediate = crate::inspect_one(&corpus().cert("intermediate"));
    assert_eq!(
        objects[0]["fingerprints"], leaf["fingerprints"],
        "leaf first"
    );
    assert_eq!(
        objects[1]["fingerprints"], intermediate["fingerprints"],
        "then the intermediate"
    );
}

#[test]
fn shows_the_chain_of_a_server_that_demands_a_client_certificate() {
    for protocol in ["-tls1_2", "-tls1_3"] {
        let server = SServer::builder(
            corpus().cert("server-rsa2048"),
            corpus().key("server-rsa2048"),
        )
        .require_client_certificate(2, corpus().cert("root"))
        .arg(protocol)
        .start();
        let target = format!("127.0.0.1:{}", server.port());
        let docs = inspect_json(&[&target]);
        let endpoint = &docs[0]["endpoint"];
        assert_eq!(
            endpoint["client_certificate_requested"], true,
            "{protocol}: {endpoint}"
        );
        assert_eq!(
            endpoint["handshake"], "refused_without_client_certificate",
            "{protocol}"
        );
        let issuers = endpoint["acceptable_client_issuers"].as_array().unwrap();
        let root = crate::inspect_one(&corpus().cert("root"));
        assert!(
            issuers.contains(&root["subject"]["rfc4514"]),
            "{protocol}: {issuers:?}"
        );
        assert_eq!(
            docs[0]["objects"][0]["purpose"]["kind"], "server",
            "{protocol}"
        );

        let text = String::from_utf8(mutual().args(["inspect", &target]).output().unwrap().stdout)
            .unwrap();
        assert!(
            text.contains("The server asks for a client certificate, from: "),
            "{text}"
        );
    }
}

#[test]
fn closed_port_is_a_clear_error() {
    let port = mutual_test::free_port();
    let output = mutual()
        .args(["inspect", &format!("127.0.0.1:{port}"), "--timeout", "2"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
