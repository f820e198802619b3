//! `mutual probe` against real servers started by each test: `openssl s_server` in the
//! shapes operators meet (not asking, asking, requiring with a known CA list, incomplete
//! chain, expired, a client certificate installed as the server's, TLS 1.2 only),
//! `mutual gateway` in require and optional modes, and endpoints that are not TLS servers.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mutual_test::{MutualGateway, SServer, SServerBuilder, Upstream};
use serde_json::Value;

use crate::pki::Pki;
use crate::{corpus, mutual, s};

/// Runs `mutual probe --format json ARGS`; (exit code, the report or null, stderr).
fn probe(args: &[&str]) -> (i32, Value, String) {
    let output = mutual()
        .arg("probe")
        .args(args)
        .args(["--format", "json"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (
        output.status.code().unwrap_or(-1),
        report,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn codes(report: &Value, list: &str) -> Vec<String> {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {report}"))
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The corpus's `name` certificate followed by the intermediate, in a file of its own.
fn with_intermediate(name: &str) -> PathBuf {
    let path = corpus().dir().join(format!("{name}.probe-chain.pem"));
    let mut pem = std::fs::read(corpus().cert(name)).unwrap();
    pem.extend(std::fs::read(corpus().cert("intermediate")).unwrap());
    std::fs::write(&path, pem).unwrap();
    path
}

/// The intermediate alone, for `-cert_chain`.
fn intermediate() -> PathBuf {
    corpus().cert("intermediate")
}

fn server(name: &str) -> SServerBuilder {
    SServer::builder(corpus().cert(name), corpus().key(name))
}

fn target(server: &SServer) -> String {
    format!("127.0.0.1:{}", server.port())
}

fn root() -> String {
    s(&corpus().cert("root")).to_owned()
}

#[test]
fn a_healthy_server_that_does_not_ask_for_a_client_certificate() {
    let server = server("server-p256").cert_chain(intermediate()).start();
    let (code, report, stderr) =
        probe(&[&target(&server), "--sni", "localhost", "--trusted", &root()]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["schema"], "mutual.probe/v1");
    assert_eq!(report["healthy"], true);
    assert_eq!(report["connection"]["protocol"], "TLSv1.3");
    assert!(
        report["connection"]["cipher_suite"]
            .as_str()
            .unwrap()
            .starts_with("TLS_")
    );
    assert!(report["connection"]["key_exchange_group"].is_string());
    assert_eq!(
        report["connection"]["server_certificate_signature_algorithm"], "ecdsa-with-SHA256",
        "{report:#}"
    );
    let chain = report["server_chain"].as_array().unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[0]["subject"], "CN=server-p256.example.test");
    assert_eq!(chain[0]["kind"], "server");
    assert_eq!(chain[1]["kind"], "intermediate_ca");
    assert_eq!(report["server_verdict"]["valid"], true);
    assert_eq!(report["client_auth"]["requested"], false);
    assert_eq!(report["handshake"]["accepted"], true);
    assert!(codes(&report, "problems").is_empty());
}

#[test]
fn the_text_report_ends_with_the_verdict() {
    let server = server("server-p256").cert_chain(intermediate()).start();
    let output = mutual()
        .args([
            "probe",
            &target(&server),
            "--sni",
            "localhost",
            "--trusted",
            &root(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    for section in [
        "Connection",
        "Server chain as sent (2 certificates)",
        "Client authentication",
        "Handshake",
    ] {
        assert!(text.contains(section), "{section} missing from:\n{text}");
    }
    assert!(text.trim_end().ends_with("verdict: healthy"), "{text}");
}

#[test]
fn tls_1_2_only() {
    let server = server("server-p256")
        .cert_chain(intermediate())
        .arg("-tls1_2")
        .start();
    let (code, report, stderr) =
        probe(&[&target(&server), "--sni", "localhost", "--trusted", &root()]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["connection"]["protocol"], "TLSv1.2");
}

#[test]
fn a_missing_intermediate_is_unknown_issuer() {
    let server = server("server-p256").start();
    let (code, report, _) = probe(&[&target(&server), "--sni", "localhost", "--trusted", &root()]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["server_chain"].as_array().unwrap().len(), 1);
    assert!(
        codes(&report, "problems").contains(&"unknown_issuer".to_owned()),
        "{report:#}"
    );
    assert_eq!(report["healthy"], false);
    // The corpus's certificates carry no AIA: no client, browser or not, can complete it.
    assert_eq!(codes(&report, "notes"), ["aia_missing"], "{report:#}");
    assert_eq!(report["aia"]["ca_issuers_urls"], serde_json::json!([]));
}

#[test]
fn an_expired_server_certificate() {
    let server = server("expired").cert_chain(intermediate()).start();
    let (code, report, _) = probe(&[&target(&server), "--sni", "localhost", "--trusted", &root()]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(codes(&report, "problems"), ["expired"], "{report:#}");
}

#[test]
fn a_name_the_certificate_does_not_carry() {
    let server = server("server-p256").cert_chain(intermediate()).start();
    let (code, report, _) = probe(&[
        &target(&server),
        "--sni",
        "other.example.test",
        "--trusted",
        &root(),
    ]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["server_name"], "other.example.test");
    assert_eq!(
        codes(&report, "problems"),
        ["hostname_mismatch"],
        "{report:#}"
    );
}

#[test]
fn a_client_certificate_installed_as_the_server_certificate() {
    let server = server("client").cert_chain(intermediate()).start();
    let (code, report, _) = probe(&[&target(&server), "--sni", "localhost", "--trusted", &root()]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["server_chain"][0]["kind"], "client");
    assert!(
        codes(&report, "problems").contains(&"eku_mismatch".to_owned()),
        "{report:#}"
    );
}

#[test]
fn a_server_that_asks_but_does_not_require() {
    let server = server("server-p256")
        .cert_chain(intermediate())
        .arg("-verify")
        .arg("1")
        .start();
    let (code, report, _) = probe(&[&target(&server), "--sni", "localhost", "--trusted", &root()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["client_auth"]["requested"], true);
    assert_eq!(report["handshake"]["accepted"], true);
    assert!(
        !report["client_auth"]["signature_schemes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_server_that_requires_a_client_certificate_lists_its_cas() {
    for protocol in ["-tls1_2", "-tls1_3"] {
        let server = server("server-p256")
            .cert_chain(intermediate())
            .require_client_certificate(2, corpus().cert("root"))
            .arg(protocol)
            .start();
        let (code, report, stderr) =
            probe(&[&target(&server), "--sni", "localhost", "--trusted", &root()]);
        assert_eq!(code, 0, "{protocol}: {report:#}\n{stderr}");
        assert_eq!(report["client_auth"]["requested"], true);
        assert_eq!(
            report["client_auth"]["acceptable_issuers"],
            serde_json::json!(["CN=Mutual Test Root CA,O=Mutual Test"]),
            "{protocol}"
        );
        assert_eq!(report["handshake"]["accepted"], false, "{protocol}");
        assert_eq!(
            codes(&report, "notes"),
            ["client_certificate_required"],
            "{protocol}: {report:#}"
        );
        // The chain is still judged.
        assert_eq!(report["server_verdict"]["valid"], true, "{protocol}");
    }
}

#[test]
fn a_good_client_certificate_is_accepted_by_s_server() {
    let server = server("server-p256")
        .cert_chain(intermediate())
        .require_client_certificate(2, corpus().cert("root"))
        .start();
    let client = with_intermediate("client");
    let (code, report, stderr) = probe(&[
        &target(&server),
        "--sni",
        "localhost",
        "--trusted",
        &root(),
        "--cert",
        s(&client),
        "--key",
        s(&corpus().key("client")),
    ]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let mine = &report["client_certificate"];
    assert_eq!(mine["sent"], true);
    assert_eq!(mine["issuer_acceptable"], true);
    assert_eq!(mine["client_auth_eku"], true);
    assert_eq!(report["handshake"]["accepted"], true);
}

#[test]
fn a_server_certificate_as_client_certificate_is_eku_mismatch_from_s_server() {
    for protocol in ["-tls1_2", "-tls1_3"] {
        let server = server("server-p256")
            .cert_chain(intermediate())
            .require_client_certificate(2, corpus().cert("root"))
            .arg(protocol)
            .start();
        let wrong = with_intermediate("server-rsa2048");
        let (code, report, stderr) = probe(&[
            &target(&server),
            "--sni",
            "localhost",
            "--trusted",
            &root(),
            "--cert",
            s(&wrong),
            "--key",
            s(&corpus().key("server-rsa2048")),
        ]);
        assert_eq!(code, 1, "{protocol}: {report:#}\n{stderr}");
        assert_eq!(report["client_certificate"]["client_auth_eku"], false);
        assert_eq!(
            report["handshake"]["accepted"], false,
            "{protocol}: {report:#}"
        );
        assert_eq!(
            report["handshake"]["alert"], "unsupported_certificate",
            "{protocol}"
        );
        assert_eq!(
            codes(&report, "problems"),
            ["eku_mismatch"],
            "{protocol}: {report:#}"
        );
    }
}

#[test]
fn a_client_certificate_without_its_intermediate_is_unknown_issuer() {
    let server = server("server-p256")
        .cert_chain(intermediate())
        .require_client_certificate(2, corpus().cert("root"))
        .start();
    let (code, report, stderr) = probe(&[
        &target(&server),
        "--sni",
        "localhost",
        "--trusted",
        &root(),
        "--cert",
        s(&corpus().cert("client")),
        "--key",
        s(&corpus().key("client")),
    ]);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    // The acceptable CA is the root; the client certificate's issuer is the intermediate.
    assert_eq!(report["client_certificate"]["issuer_acceptable"], false);
    assert_eq!(report["handshake"]["alert"], "unknown_ca", "{report:#}");
    assert_eq!(
        codes(&report, "problems"),
        ["issuer_not_acceptable", "unknown_issuer"],
        "{report:#}"
    );
}

#[test]
fn a_key_that_is_not_the_certificates_is_bad_input() {
    let server = server("server-p256").cert_chain(intermediate()).start();
    let (code, _, stderr) = probe(&[
        &target(&server),
        "--trusted",
        &root(),
        "--cert",
        s(&corpus().cert("client")),
        "--key",
        s(&corpus().key("server-p256")),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("does not match the client certificate"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

impl Pki {
    /// A gateway trusting the root for clients, so that a server certificate from this
    /// CA is refused for its EKU rather than its issuer.
    fn gateway_trusting_root(&self, upstream: &Upstream, mode: &str) -> MutualGateway {
        MutualGateway::start(
            &assert_cmd::cargo::cargo_bin("mutual"),
            &[
                "--cert",
                s(&self.path("localhost.chain.pem")),
                "--key",
                s(&self.path("localhost.key.pem")),
                "--client-ca",
                s(&self.root()),
                "--mode",
                mode,
                "--upstream",
                &upstream.url(),
            ],
        )
    }

    fn probe(
        &self,
        gateway: &MutualGateway,
        identity: Option<&str>,
        http: bool,
    ) -> (i32, Value, String) {
        let target = format!("localhost:{}", gateway.port());
        let root = self.root();
        let mut args: Vec<String> = vec![target, "--trusted".into(), s(&root).into()];
        if let Some(name) = identity {
            args.extend([
                "--cert".into(),
                s(&self.path(&format!("{name}.chain.pem"))).into(),
                "--key".into(),
                s(&self.path(&format!("{name}.key.pem"))).into(),
            ]);
        }
        if http {
            args.extend(["--http".into(), "/".into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        probe(&args)
    }
}

#[test]
fn gateway_require_mode() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let gateway = pki.gateway_trusting_root(&upstream, "require");

    let (code, report, stderr) = pki.probe(&gateway, Some("alice"), true);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["handshake"]["accepted"], true);
    assert_eq!(report["http"]["status"], 200, "{report:#}");
    assert_eq!(report["client_certificate"]["issuer_acceptable"], true);

    let (code, report, stderr) = pki.probe(&gateway, None, false);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["handshake"]["accepted"], false);
    assert_eq!(report["handshake"]["alert"], "certificate_required");
    assert_eq!(codes(&report, "notes"), ["client_certificate_required"]);

    let (code, report, stderr) = pki.probe(&gateway, Some("localhost"), true);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(
        report["handshake"]["alert"], "unsupported_certificate",
        "{report:#}"
    );
    assert_eq!(codes(&report, "problems"), ["eku_mismatch"], "{report:#}");
}

#[test]
fn gateway_optional_mode_answers_496_and_495() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let gateway = pki.gateway_trusting_root(&upstream, "optional");

    let (code, report, stderr) = pki.probe(&gateway, None, true);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(report["handshake"]["accepted"], true);
    assert_eq!(report["http"]["status"], 496);
    assert_eq!(report["http"]["error"], "no_certificate");
    assert_eq!(codes(&report, "problems"), ["no_certificate"], "{report:#}");

    let (code, report, stderr) = pki.probe(&gateway, Some("localhost"), true);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(report["http"]["status"], 495);
    assert_eq!(report["http"]["error"], "eku_mismatch");
    assert_eq!(codes(&report, "problems"), ["eku_mismatch"], "{report:#}");

    let (code, report, stderr) = pki.probe(&gateway, Some("alice"), true);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["http"]["status"], 200);
}

/// Exit 2 and one plain line, quickly.
fn cannot_connect(args: &[&str], expected: &str) {
    let started = Instant::now();
    let (code, report, stderr) = probe(args);
    assert_eq!(code, 2, "{args:?}: {report:#}\n{stderr}");
    assert_eq!(report, Value::Null, "nothing on stdout");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(expected),
        "{args:?}: expected `{expected}` in {stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{args:?} took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_closed_port() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    cannot_connect(
        &[&format!("127.0.0.1:{port}"), "--trusted", &root()],
        "could not connect",
    );
}

/// A plain-HTTP server as NGINX's `listen 80` behaves to a ClientHello: a 400, then close.
#[test]
fn a_plain_http_port() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buffer = [0_u8; 1024];
        let _ = stream.read(&mut buffer);
        let _ = stream.write_all(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    });
    cannot_connect(
        &[&address, "--trusted", &root()],
        &format!(
            "`{address}` ({address}) answered `HTTP/1.1 400 Bad Request` — it does not speak TLS (a plain-HTTP server?)"
        ),
    );
    server.join().unwrap();
}

/// A server that greets first, as SSH and SMTP servers do, then waits.
fn greeting_server(greeting: &'static [u8]) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let _ = stream.write_all(greeting);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut buffer = [0_u8; 1024];
        let _ = stream.read(&mut buffer);
    });
    (address, server)
}

#[test]
fn an_ssh_server_is_named_by_its_banner() {
    let (address, server) = greeting_server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    cannot_connect(
        &[&address, "--trusted", &root()],
        "answered `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3` — it does not speak TLS (an SSH server?)",
    );
    server.join().unwrap();
}

#[test]
fn an_smtp_server_is_named_by_its_greeting() {
    let (address, server) =
        greeting_server(b"220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n");
    cannot_connect(
        &[&address, "--trusted", &root(), "--http", "/"],
        "answered `220 mail.example.test ESMTP Postfix (Debian/GNU)` — it does not speak TLS (an SMTP server?)",
    );
    server.join().unwrap();
}

#[test]
fn a_port_that_never_answers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    cannot_connect(
        &[&address, "--trusted", &root(), "--timeout", "1s"],
        "timed out after 1s",
    );
    drop(listener);
}

#[test]
fn an_unresolvable_name() {
    cannot_connect(
        &["no-such-host.invalid:443", "--trusted", &root()],
        "could not resolve",
    );
}

#[test]
fn a_url_is_not_a_target() {
    cannot_connect(
        &["https://example.com:443", "--trusted", &root()],
        "is a URL",
    );
}

/// NGINX with `ssl_verify_client MODE` and the corpus root as its client CA: it accepts
/// the handshake and answers at HTTP level, which only `--http` sees.
fn nginx(mode: &str) -> mutual_test::Nginx {
    let chain = with_intermediate("server-p256");
    let key = corpus().key("server-p256");
    let root = corpus().cert("root");
    let mode = mode.to_owned();
    mutual_test::Nginx::start(move |port| {
        format!(
            "server {{
    listen 127.0.0.1:{port} ssl;
    server_name localhost;
    ssl_certificate {};
    ssl_certificate_key {};
    ssl_client_certificate {};
    ssl_verify_client {mode};
    ssl_verify_depth 2;
    location / {{ return 200 \"ok\\n\"; }}
}}
",
            s(&chain),
            s(&key),
            s(&root)
        )
    })
}

fn probe_nginx(nginx: &mutual_test::Nginx, identity: Option<&str>) -> (i32, Value, String) {
    let target = format!("127.0.0.1:{}", nginx.port());
    let mut args: Vec<String> = vec![
        target,
        "--sni".into(),
        "localhost".into(),
        "--trusted".into(),
        root(),
        "--http".into(),
        "/".into(),
    ];
    if let Some(name) = identity {
        args.extend([
            "--cert".into(),
            s(&with_intermediate(name)).into(),
            "--key".into(),
            s(&corpus().key(name)).into(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    probe(&args)
}

#[test]
fn nginx_on_answers_400_without_a_certificate() {
    let nginx = nginx("on");
    let (code, report, stderr) = probe_nginx(&nginx, None);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(report["handshake"]["accepted"], true);
    assert_eq!(report["client_auth"]["requested"], true);
    assert_eq!(
        report["client_auth"]["acceptable_issuers"],
        serde_json::json!(["CN=Mutual Test Root CA,O=Mutual Test"])
    );
    assert_eq!(report["http"]["status"], 400);
    assert_eq!(
        codes(&report, "problems"),
        ["client_certificate_required"],
        "{report:#}"
    );

    let (code, report, stderr) = probe_nginx(&nginx, Some("client"));
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["http"]["status"], 200);
}

#[test]
fn nginx_optional_answers_400_for_a_bad_certificate() {
    let nginx = nginx("optional");
    let (code, report, stderr) = probe_nginx(&nginx, None);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["http"]["status"], 200);

    let (code, report, stderr) = probe_nginx(&nginx, Some("server-rsa2048"));
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(report["http"]["status"], 400);
    assert_eq!(
        codes(&report, "problems"),
        ["eku_mismatch", "certificate_refused"],
        "{report:#}"
    );
}

#[test]
fn a_server_that_sends_its_root_too() {
    let extra = corpus().dir().join("intermediate-and-root.probe.pem");
    let mut pem = std::fs::read(corpus().cert("intermediate")).unwrap();
    pem.extend(std::fs::read(corpus().cert("root")).unwrap());
    std::fs::write(&extra, pem).unwrap();
    let server = server("server-p256").cert_chain(&extra).start();
    let (code, report, _) = probe(&[&target(&server), "--sni", "localhost", "--trusted", &root()]);
    assert_eq!(report["server_chain"].as_array().unwrap().len(), 3);
    assert_eq!(report["server_chain"][2]["kind"], "root_ca");
    // Harmless to validation, so a note; `verify` finds nothing wrong with the path.
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(codes(&report, "notes"), ["root_sent"], "{report:#}");
}

#[test]
fn http_over_s_server() {
    let server = server("server-p256")
        .cert_chain(intermediate())
        .arg("-www")
        .start();
    let (code, report, stderr) = probe(&[
        &target(&server),
        "--sni",
        "localhost",
        "--trusted",
        &root(),
        "--http",
        "/",
    ]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["http"]["status"], 200, "{report:#}");
    assert_eq!(report["connection"]["alpn"], Value::Null);
}

#[test]
fn a_server_certificate_that_expires_in_five_days() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("soon.key.pem");
    let csr = dir.path().join("soon.csr");
    let ext = dir.path().join("soon.ext");
    let cert = dir.path().join("soon.pem");
    std::fs::write(
        &ext,
        "basicConstraints = critical, CA:FALSE\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost\n",
    )
    .unwrap();
    mutual_test::openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        s(&key),
        "-subj",
        "/CN=soon.example.test",
        "-out",
        s(&csr),
    ]);
    mutual_test::openssl(&[
        "x509",
        "-req",
        "-in",
        s(&csr),
        "-CA",
        s(&corpus().cert("intermediate")),
        "-CAkey",
        s(&corpus().key("intermediate")),
        "-days",
        "5",
        "-extfile",
        s(&ext),
        "-out",
        s(&cert),
    ]);
    let server = SServer::builder(&cert, &key)
        .cert_chain(intermediate())
        .start();
    let (code, report, _) = probe(&[&target(&server), "--sni", "localhost", "--trusted", &root()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(codes(&report, "notes"), ["expires_soon"], "{report:#}");
}

#[test]
fn a_client_certificate_from_pkcs12() {
    let server = server("server-p256")
        .cert_chain(intermediate())
        .require_client_certificate(2, corpus().cert("root"))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let p12 = dir.path().join("client.p12");
    let pass = dir.path().join("p12.pass");
    std::fs::write(&pass, "s3cret\n").unwrap();
    mutual_test::openssl(&[
        "pkcs12",
        "-export",
        "-in",
        s(&with_intermediate("client")),
        "-inkey",
        s(&corpus().key("client")),
        "-out",
        s(&p12),
        "-passout",
        "pass:s3cret",
    ]);
    let (code, report, stderr) = probe(&[
        &target(&server),
        "--sni",
        "localhost",
        "--trusted",
        &root(),
        "--p12",
        s(&p12),
        "--password-file",
        s(&pass),
    ]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["client_certificate"]["subject"], "CN=client");
    assert_eq!(report["client_certificate"]["chain_length"], 2);
    assert_eq!(report["handshake"]["accepted"], true);

    std::fs::write(&pass, "wrong\n").unwrap();
    let (code, _, stderr) = probe(&[
        &target(&server),
        "--trusted",
        &root(),
        "--p12",
        s(&p12),
        "--password-file",
        s(&pass),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--p12"), "{stderr}");
}

/// `s_server` serving only the leaf of a server certificate for localhost issued by `home`.
fn leaf_only_server(dir: &std::path::Path, home: &std::path::Path) -> SServer {
    mutual()
        .args(["issue", "server", "localhost", "--home", s(home)])
        .args(["--out-dir", s(dir)])
        .assert()
        .success();
    SServer::builder(dir.join("localhost.pem"), dir.join("localhost.key.pem")).start()
}

/// Probes `server` as localhost, trusting `home`'s root.
fn probe_trusting(server: &SServer, home: &std::path::Path, format: &str) -> (i32, Value, String) {
    let output = mutual()
        .args([
            "probe",
            &target(server),
            "--sni",
            "localhost",
            "--timeout",
            "5s",
        ])
        .arg("--trusted")
        .arg(home.join("ca/root.pem"))
        .args(["--format", format])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (
        output.status.code().unwrap_or(-1),
        serde_json::from_str(&stdout).unwrap_or(Value::String(stdout)),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn note<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["notes"]
        .as_array()
        .unwrap_or_else(|| panic!("no notes in {report:#}"))
        .iter()
        .find(|n| n["code"] == code)
        .unwrap_or_else(|| panic!("no note {code} in {report:#}"))
}

/// A CA whose `mutual.toml` points AIA at a running `mutual serve`: the probe fetches the
/// server CA from `/ca/server-ca.crt` and says a browser would complete the chain, while
/// the missing intermediate stays a problem.
#[test]
fn a_missing_intermediate_that_aia_would_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let service = crate::start_serve(dir.path());
    let config = std::fs::read_to_string(service.home().join("mutual.toml")).unwrap();
    assert!(config.contains(&service.http("")), "{config}");

    let server = leaf_only_server(dir.path(), service.home());
    let (code, report, stderr) = probe_trusting(&server, service.home(), "json");
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(codes(&report, "problems"), ["unknown_issuer"], "{report:#}");
    let url = service.http("/ca/server-ca.crt");
    // verify's own diagnosis names the URL (it matched "caIssuers", never "CA Issuers",
    // the name mutual-x509 gives the access method, so it named none before).
    let evidence = report["problems"][0]["evidence"].to_string();
    assert!(evidence.contains(&url), "{evidence}");
    assert_eq!(report["aia"]["ca_issuers_urls"][0], url, "{report:#}");
    assert_eq!(report["aia"]["completes_chain"], true, "{report:#}");
    assert_eq!(report["aia"]["fetches"][0]["outcome"], "completes_chain");
    assert_eq!(
        report["aia"]["fetches"][0]["certificates"][0], "CN=Mutual Server CA,O=Mutual",
        "{report:#}"
    );
    let note = note(&report, "aia_completes_chain");
    let message = note["message"].as_str().unwrap();
    assert!(
        message.contains("(Chrome, Edge, Safari) would fetch")
            && message.contains(&url)
            && message.contains("curl, openssl, Go, Java, Python and Firefox would fail"),
        "{message}"
    );
    assert!(
        note["fix"]
            .as_str()
            .unwrap()
            .contains("send the intermediate"),
        "{note:#}"
    );
    // The text report says it in the chain section and in the notes.
    let (code, text, _) = probe_trusting(&server, service.home(), "text");
    let text = text.as_str().unwrap_or_default();
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!(
            "AIA caIssuers {url}: completes the chain with CN=Mutual Server CA,O=Mutual"
        )),
        "{text}"
    );
    assert!(text.contains("[aia_completes_chain]"), "{text}");
}

/// The caIssuers URL names a port nothing listens on: the probe says the fetch failed, and
/// that every client fails, quickly.
#[test]
fn a_missing_intermediate_whose_aia_url_is_unreachable() {
    let pki = Pki {
        dir: tempfile::tempdir().unwrap(),
    };
    pki.init("home");
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    std::fs::write(
        pki.home().join("mutual.toml"),
        format!("[server]\nurl = \"http://127.0.0.1:{closed}\"\n"),
    )
    .unwrap();
    let started = Instant::now();
    let server = leaf_only_server(pki.dir.path(), &pki.home());
    let (code, report, stderr) = probe_trusting(&server, &pki.home(), "json");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(codes(&report, "problems"), ["unknown_issuer"], "{report:#}");
    assert_eq!(report["aia"]["completes_chain"], false, "{report:#}");
    let fetch = &report["aia"]["fetches"][0];
    assert_eq!(
        fetch["url"],
        format!("http://127.0.0.1:{closed}/ca/server-ca.crt")
    );
    assert_eq!(fetch["outcome"], "unreachable", "{report:#}");
    let message = note(&report, "aia_unhelpful")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("every client fails"), "{message}");
}
