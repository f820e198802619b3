//! `mutual gateway` end to end: the real binary between real clients (curl, openssl
//! s_client, a rustls client that can misbehave) and an upstream that reports what reached
//! it. The security matrix: every way a client certificate can be wrong is refused, each
//! with its own code, and nothing that should be refused is admitted.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use mutual_test::{MutualGateway, Upstream};
use rustls::AlertDescription;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::sign::CertifiedKey;
use serde_json::Value;

use crate::pki::Pki;
use crate::{corpus, mutual, s};

impl Pki {
    /// The gateway's own flags: its server certificate and key.
    pub(crate) fn server_flags(&self) -> Vec<String> {
        vec![
            "--cert".into(),
            s(&self.path("localhost.chain.pem")).into(),
            "--key".into(),
            s(&self.path("localhost.key.pem")).into(),
        ]
    }

    pub(crate) fn gateway(&self, upstream: &Upstream, extra: &[&str]) -> MutualGateway {
        let mut args: Vec<String> = self.server_flags();
        args.extend(["--upstream".into(), upstream.url()]);
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        MutualGateway::start(&assert_cmd::cargo::cargo_bin("mutual"), &args)
    }
}

/// `curl` trusting the PKI's root, presenting (certificate, key) when given; (status,
/// body), or curl's error text when the handshake failed.
pub(crate) fn curl(
    gateway: &MutualGateway,
    root: &Path,
    identity: Option<(&Path, &Path)>,
    args: &[&str],
    path: &str,
) -> Result<(u16, String), String> {
    let mut command = Command::new("curl");
    command
        .args([
            "-sS",
            "--max-time",
            "20",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "--cacert",
        ])
        .arg(root);
    if let Some((cert, key)) = identity {
        command.arg("--cert").arg(cert).arg("--key").arg(key);
    }
    let output = command.args(args).arg(gateway.url(path)).output().unwrap();
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    Ok((status.trim().parse().unwrap(), body.to_owned()))
}

/// What a rustls client got: the HTTP answer, or the TLS error (an alert from the gateway).
#[derive(Debug)]
enum Outcome {
    Answered(String),
    Failed(rustls::Error),
}

impl Outcome {
    fn alert(&self) -> Option<AlertDescription> {
        match self {
            Outcome::Failed(rustls::Error::AlertReceived(alert)) => Some(*alert),
            _ => None,
        }
    }

    fn status(&self) -> Option<u16> {
        match self {
            Outcome::Answered(text) => text.split_whitespace().nth(1)?.parse().ok(),
            Outcome::Failed(_) => None,
        }
    }
}

/// Presents `certs` (PEM chain, leaf first) with `key` — which need not be their key:
/// unlike curl and openssl, this client does not check, so the gateway's own check is what
/// is tested.
#[derive(Debug)]
struct NoCheck(Arc<CertifiedKey>);

impl rustls::client::ResolvesClientCert for NoCheck {
    fn resolve(&self, _: &[&[u8]], _: &[rustls::SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
    fn has_certs(&self) -> bool {
        true
    }
}

pub(crate) fn pem_certs(path: &Path) -> Vec<CertificateDer<'static>> {
    mutual_x509::pem::parse(&std::fs::read(path).unwrap())
        .unwrap()
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| CertificateDer::from(b.der))
        .collect()
}

fn rustls_get(gateway: &MutualGateway, root: &Path, identity: Option<(&Path, &Path)>) -> Outcome {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in pem_certs(root) {
        roots.add(cert).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some((certs, key)) => {
            let key_pem = mutual_x509::pem::parse(&std::fs::read(key).unwrap()).unwrap();
            let key = PrivateKeyDer::Pkcs8(key_pem[0].der.clone().into());
            let signer = provider.key_provider.load_private_key(key).unwrap();
            let certified = CertifiedKey::new(pem_certs(certs), signer);
            builder.with_client_cert_resolver(Arc::new(NoCheck(Arc::new(certified))))
        }
        None => builder.with_no_client_auth(),
    };
    let mut connection =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let mut tcp = TcpStream::connect(("127.0.0.1", gateway.port())).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut tls = rustls::Stream::new(&mut connection, &mut tcp);
    let request = b"GET /matrix HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    if let Err(e) = tls.write_all(request) {
        return Outcome::Failed(rustls_error(e));
    }
    let mut answer = Vec::new();
    match tls.read_to_end(&mut answer) {
        Ok(_) => Outcome::Answered(String::from_utf8_lossy(&answer).into_owned()),
        Err(e) => Outcome::Failed(rustls_error(e)),
    }
}

fn rustls_error(error: std::io::Error) -> rustls::Error {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .cloned()
        .unwrap_or_else(|| rustls::Error::General(error.to_string()))
}

/// A client certificate under the corpus intermediate that becomes valid in 30 days (rcgen,
/// since OpenSSL 3.0's `x509` cannot set a start date).
fn not_yet_valid(dir: &Path) -> (PathBuf, PathBuf) {
    let ca_key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(corpus().key("intermediate")).unwrap())
            .unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(
        &std::fs::read_to_string(corpus().cert("intermediate")).unwrap(),
        ca_key,
    )
    .unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "future");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now + time::Duration::days(30);
    params.not_after = now + time::Duration::days(60);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let (cert_path, key_path) = (dir.join("future.pem"), dir.join("future.key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

/// A refused handshake's log line carries the code the test expects. (The client may see
/// the alert a moment before the gateway has written its line: waits up to 10 s.)
pub(crate) fn assert_refused_with(gateway: &MutualGateway, code: &str) {
    let logged = || -> Vec<String> {
        gateway
            .events("handshake_refused")
            .iter()
            .map(|e| e["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !logged().iter().any(|c| c == code) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let logged = logged();
    assert!(
        logged.iter().any(|c| c == code),
        "no handshake_refused with {code}: {logged:?}\n{}",
        gateway.output()
    );
}

#[test]
fn require_mode_refuses_every_wrong_certificate_with_its_own_alert_and_code() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let corpus_ca = corpus().cert("intermediate");
    let gateway = pki.gateway(
        &upstream,
        &[
            "--client-ca",
            s(&pki.client_ca()),
            "--client-ca",
            s(&corpus_ca),
        ],
    );
    let root = pki.root();

    // 1. A good client certificate: 200, and the backend sees who it is.
    let alice = (pki.path("alice.chain.pem"), pki.path("alice.key.pem"));
    let (status, body) = curl(&gateway, &root, Some((&alice.0, &alice.1)), &[], "/hello").unwrap();
    assert_eq!(status, 200, "{body}");
    let seen: Value = serde_json::from_str(&body).unwrap();
    let header = |name: &str| {
        seen["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0] == name)
            .map(|h| h[1].as_str().unwrap().to_owned())
    };
    assert_eq!(header("x-client-cert-subject").as_deref(), Some("CN=alice"));
    assert_eq!(
        header("x-client-cert-issuer").as_deref(),
        Some("CN=Mutual Client CA,O=Mutual")
    );
    assert_eq!(
        header("x-client-cert-san-uri").as_deref(),
        Some("spiffe://acme.internal/user/alice")
    );
    assert_eq!(
        header("x-client-cert-san-email").as_deref(),
        Some("alice@acme.example")
    );
    let fingerprint = header("x-client-cert-fingerprint").unwrap();
    let inspected = crate::inspect_one(&pki.path("alice.pem"));
    assert_eq!(
        fingerprint,
        inspected["fingerprints"]["sha256"]
            .as_str()
            .unwrap()
            .replace(':', "")
            .to_lowercase()
    );
    assert!(
        header("x-forwarded-client-cert")
            .unwrap()
            .starts_with(&format!("Hash={fingerprint};Subject=\"CN=alice\""))
    );
    assert!(
        header("x-client-cert").is_none(),
        "the PEM is sent only when asked for"
    );

    // The same with the rustls client, to compare its outcome with the refusals below.
    assert_eq!(
        rustls_get(&gateway, &root, Some((&alice.0, &alice.1))).status(),
        Some(200)
    );

    // 2..n: each wrong certificate, the alert the client receives and the code logged.
    let (future_cert, future_key) = not_yet_valid(pki.dir.path());
    pki.init("other");
    pki.issue("other", &["client", "mallory"]);
    type Identity = Option<(PathBuf, PathBuf)>;
    let cases: Vec<(&str, Identity, AlertDescription, &str)> = vec![
        (
            "no certificate",
            None,
            AlertDescription::CertificateRequired,
            "no_certificate",
        ),
        (
            "expired",
            Some((corpus().cert("expired"), corpus().key("expired"))),
            AlertDescription::CertificateExpired,
            "expired",
        ),
        (
            "not yet valid",
            Some((future_cert, future_key)),
            AlertDescription::CertificateExpired,
            "not_yet_valid",
        ),
        (
            "another CA",
            Some((pki.path("mallory.chain.pem"), pki.path("mallory.key.pem"))),
            AlertDescription::UnknownCA,
            "unknown_issuer",
        ),
        (
            "self-signed",
            Some((
                corpus().cert("self-signed-leaf"),
                corpus().key("self-signed-leaf"),
            )),
            AlertDescription::UnknownCA,
            "self_signed_leaf",
        ),
        (
            "serverAuth only",
            Some((corpus().cert("server-p256"), corpus().key("server-p256"))),
            AlertDescription::UnsupportedCertificate,
            "eku_mismatch",
        ),
        (
            "a CA certificate",
            Some((corpus().cert("leaf-ca-true"), corpus().key("leaf-ca-true"))),
            AlertDescription::UnsupportedCertificate,
            "no_usable_purpose",
        ),
        (
            "the server certificate",
            Some((
                pki.path("localhost.chain.pem"),
                pki.path("localhost.key.pem"),
            )),
            AlertDescription::UnknownCA,
            "unknown_issuer",
        ),
        (
            "wrong private key",
            Some((alice.0.clone(), pki.path("bob.key.pem"))),
            AlertDescription::DecryptError,
            "key_not_proven",
        ),
    ];
    let mut wrong = Vec::new();
    for (name, identity, alert, _) in &cases {
        let outcome = rustls_get(
            &gateway,
            &root,
            identity.as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
        );
        if outcome.alert() != Some(*alert) {
            wrong.push(format!("{name}: expected alert {alert:?}, got {outcome:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{}\n{}",
        wrong.join("\n"),
        gateway.output()
    );
    for (_, _, _, code) in &cases {
        assert_refused_with(&gateway, code);
    }
    // Nothing refused ever reached the backend: only the two good requests did.
    assert_eq!(upstream.seen().len(), 2, "{:?}", upstream.seen());

    // The flight recorder has them with the decoded certificate. (Not in the order of the
    // cases: each handshake is recorded by the worker thread that served it, after the
    // client has its alert, so two close together may be recorded either way round.)
    let (status, refusals) = gateway.admin("/debug/refusals");
    assert_eq!(status, 200);
    let refusals: Vec<Value> = serde_json::from_str(&refusals).unwrap();
    assert_eq!(refusals.len(), cases.len());
    let wrong_key = refusals
        .iter()
        .find(|r| r["code"] == "key_not_proven")
        .unwrap();
    assert_eq!(wrong_key["stage"], "handshake");
    assert_eq!(wrong_key["certificate"]["subject"], "CN=alice");

    let expired = refusals.iter().find(|r| r["code"] == "expired").unwrap();
    assert_eq!(expired["certificate"]["subject"], "CN=expired.example.test");
    assert!(expired["fix"].as_str().is_some());

    // And the metrics count handshakes by outcome and code.
    let (_, metrics) = gateway.admin("/metrics");
    assert!(metrics.contains("outcome=\"refused\""), "{metrics}");
    assert!(metrics.contains("code=\"eku_mismatch\""), "{metrics}");
}

#[test]
fn openssl_s_client_sees_the_alert_and_curl_the_refusal() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let gateway = pki.gateway(&upstream, &["--client-ca", s(&pki.client_ca())]);
    // A server certificate offered as a client certificate, from a trusted CA this time:
    // the gateway trusts the root, so the only fault left is the purpose.
    drop(gateway);
    let gateway = pki.gateway(&upstream, &["--client-ca", s(&pki.root())]);
    // TLS 1.3 delivers the alert after the client's Finished: s_client sees it when it
    // reads, so it sends a request and waits (-ign_eof) for the answer.
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{}", gateway.port()),
            "-servername",
            "localhost",
            "-ign_eof",
        ])
        .args([
            "-CAfile",
            s(&pki.root()),
            "-cert",
            s(&pki.path("localhost.pem")),
            "-key",
            s(&pki.path("localhost.key.pem")),
        ])
        .args(["-cert_chain", s(&pki.path("localhost.chain.pem"))])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unsupported certificate"),
        "openssl said: {stderr}"
    );
    assert_refused_with(&gateway, "eku_mismatch");

    // curl with the right certificate and its chain gets through; with the leaf alone
    // (the trust anchor is the root, so the client CA must be sent) it does not.
    let alice_chain = pki.path("alice.chain.pem");
    let key = pki.path("alice.key.pem");
    assert_eq!(
        curl(&gateway, &pki.root(), Some((&alice_chain, &key)), &[], "/")
            .unwrap()
            .0,
        200
    );
    let leaf_only = pki.path("alice.pem");
    // (curl's own words vary with timing under TLS 1.3: "unknown ca" when it reads the
    // alert, "getpeername() failed" when the gateway has already closed; the log is clear.)
    assert!(curl(&gateway, &pki.root(), Some((&leaf_only, &key)), &[], "/").is_err());
    assert_refused_with(&gateway, "unknown_issuer");
    let missing = gateway
        .events("handshake_refused")
        .into_iter()
        .find(|e| e["code"] == "unknown_issuer")
        .unwrap();
    assert!(
        missing["fix"].as_str().unwrap().contains("intermediate"),
        "{missing}"
    );
}

#[test]
fn optional_mode_answers_496_and_495_with_the_reason_in_json_or_html() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let gateway = pki.gateway(
        &upstream,
        &[
            "--mode",
            "optional",
            "--client-ca",
            s(&pki.client_ca()),
            "--client-ca",
            s(&corpus().cert("intermediate")),
        ],
    );
    let root = pki.root();

    let (status, body) = curl(&gateway, &root, None, &[], "/").unwrap();
    assert_eq!(status, 496, "{body}");
    // With NGINX's reason phrases, so that clients print more than the number.
    match rustls_get(&gateway, &root, None) {
        Outcome::Answered(text) => assert!(
            text.starts_with("HTTP/1.1 496 SSL Certificate Required\r\n"),
            "{text}"
        ),
        other => panic!("{other:?}"),
    }
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"], "no_certificate");
    assert!(
        answer["fix"]
            .as_str()
            .unwrap()
            .contains("CN=Mutual Client CA,O=Mutual"),
        "{answer}"
    );

    let (status, body) = curl(
        &gateway,
        &root,
        Some((&corpus().cert("expired"), &corpus().key("expired"))),
        &[],
        "/",
    )
    .unwrap();
    assert_eq!(status, 495, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"], "expired");
    assert_eq!(answer["certificate"]["subject"], "CN=expired.example.test");
    assert!(
        answer["message"].as_str().unwrap().contains("expired"),
        "{answer}"
    );

    let (status, body) = curl(
        &gateway,
        &root,
        Some((&corpus().cert("server-p256"), &corpus().key("server-p256"))),
        &["-H", "Accept: text/html"],
        "/",
    )
    .unwrap();
    assert_eq!(status, 495);
    assert!(body.contains("<code>eku_mismatch</code>"), "{body}");
    assert!(body.contains("<h1>495"), "{body}");

    let alice = (pki.path("alice.chain.pem"), pki.path("alice.key.pem"));
    assert_eq!(
        curl(&gateway, &root, Some((&alice.0, &alice.1)), &[], "/")
            .unwrap()
            .0,
        200
    );
    assert_eq!(upstream.seen().len(), 1);

    // Refusals at the request stage are recorded with the path.
    let (_, refusals) = gateway.admin("/debug/refusals");
    let refusals: Vec<Value> = serde_json::from_str(&refusals).unwrap();
    let codes: Vec<&str> = refusals
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "eku_mismatch",
            "expired",
            "no_certificate",
            "no_certificate"
        ]
    );
    assert_eq!(refusals[0]["stage"], "request");
    assert_eq!(refusals[0]["path"], "/");
}

#[test]
fn a_spoofed_identity_header_never_reaches_the_backend() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let gateway = pki.gateway(
        &upstream,
        &["--client-ca", s(&pki.client_ca()), "--forward-pem"],
    );
    let bob = (pki.path("bob.chain.pem"), pki.path("bob.key.pem"));
    let spoof = [
        "-H",
        "X-Client-Cert-Subject: CN=admin",
        "-H",
        "X-Client-Cert-Fingerprint: 00",
        "-H",
        "X-Forwarded-Client-Cert: Hash=00;Subject=\"CN=admin\"",
        "-H",
        "X-Client-Cert-SAN-URI: spiffe://acme.internal/admin",
        "-H",
        "x-client-cert-role: admin",
        "-H",
        "X_Client_Cert_Subject: CN=admin",
    ];
    let (status, _) = curl(&gateway, &pki.root(), Some((&bob.0, &bob.1)), &spoof, "/").unwrap();
    assert_eq!(status, 200);
    let seen = &upstream.seen()[0];
    let identity = seen.headers_starting("x-client-cert");
    assert!(
        identity
            .iter()
            .all(|(_, v)| !v.contains("admin") && v != "00"),
        "{identity:?}"
    );
    assert_eq!(seen.header("x-client-cert-subject"), Some("CN=bob"));
    assert!(
        seen.header("x-client-cert-san-uri").is_none(),
        "bob has no URI SAN: {identity:?}"
    );
    assert!(seen.header("x-client-cert-role").is_none());
    assert!(
        !seen
            .header("x-forwarded-client-cert")
            .unwrap()
            .contains("admin")
    );
    // --forward-pem: the certificate itself, URL-encoded as NGINX's $ssl_client_escaped_cert.
    let pem = seen.header("x-client-cert").unwrap();
    assert!(pem.starts_with("-----BEGIN%20CERTIFICATE-----%0A"), "{pem}");
    let logged = &gateway.events("request")[0];
    assert_eq!(logged["spoofed_headers_removed"], 6);
    assert!(seen.header("x_client_cert_subject").is_none());
    assert_eq!(logged["client"]["subject"], "CN=bob");
}

#[test]
fn routes_admit_by_name_uri_and_pinned_fingerprint_and_say_which_route_refused() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let alice_fp = crate::inspect_one(&pki.path("alice.pem"))["fingerprints"]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let config = pki.path("gateway.toml");
    let binary = assert_cmd::cargo::cargo_bin("mutual");
    let gateway = MutualGateway::start_with_config(&binary, &config, |port, admin| {
        std::fs::write(
            &config,
            format!(
                r#"
[admin]
listen = "127.0.0.1:{admin}"

[[listener]]
listen = "127.0.0.1:{port}"
cert = "localhost.chain.pem"
key = "localhost.key.pem"
client_ca = ["home/ca/client-ca.pem"]
mode = "optional"

[[route]]
name = "alice-only"
path = "/alice/"
upstream = "{up}"
[[route.allow]]
cn = ["alice"]

[[route]]
name = "pinned"
path = "/pinned"
upstream = "{up}"
[[route.allow]]
fingerprint_sha256 = ["{alice_fp}"]

[[route]]
name = "workloads"
path = "/spiffe"
upstream = "{up}"
[[route.allow]]
san_uri = ["spiffe://acme.internal/user/*"]

[[route]]
name = "public"
path = "/public"
upstream = "{up}"
public = true

[[route]]
name = "everyone"
path = "/"
upstream = "{up}"
allow_any = true
"#,
                up = upstream.url()
            ),
        )
        .unwrap();
    });
    let root = pki.root();
    let alice = (pki.path("alice.chain.pem"), pki.path("alice.key.pem"));
    let bob = (pki.path("bob.chain.pem"), pki.path("bob.key.pem"));
    let get = |who: Option<&(PathBuf, PathBuf)>, path: &str| {
        curl(
            &gateway,
            &root,
            who.map(|(c, k)| (c.as_path(), k.as_path())),
            &[],
            path,
        )
        .unwrap()
    };
    for path in ["/alice/x", "/pinned", "/spiffe/a", "/", "/public"] {
        assert_eq!(get(Some(&alice), path).0, 200, "alice on {path}");
    }
    for (path, route) in [
        ("/alice/x", "alice-only"),
        ("/pinned", "pinned"),
        ("/spiffe", "workloads"),
    ] {
        let (status, body) = get(Some(&bob), path);
        assert_eq!(status, 403, "bob on {path}: {body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["error"], "not_allowed");
        assert_eq!(answer["route"], route);
        assert!(
            answer["message"].as_str().unwrap().contains("CN=bob"),
            "{answer}"
        );
    }
    assert_eq!(get(Some(&bob), "/other").0, 200);
    // The public route needs no certificate; the others say 496.
    assert_eq!(get(None, "/public").0, 200);
    assert_eq!(get(None, "/alice/x").0, 496);
    let seen = upstream.seen();
    let public = seen.iter().rfind(|r| r.path == "/public").unwrap();
    assert!(public.headers_starting("x-client-cert").is_empty());
}

#[test]
fn a_revoked_certificate_is_refused_once_the_crl_is_loaded_and_reload_needs_no_restart() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let home = pki.path("home");
    let pass = pki.path("pass.txt");
    let crl = pki.path("client-ca.crl.pem");
    let sign_crl = || {
        mutual()
            .args([
                "crl",
                "--home",
                s(&home),
                "--passphrase-file",
                s(&pass),
                "--issuer",
                "client",
                "--out",
                s(&crl),
            ])
            .assert()
            .success();
    };
    sign_crl();
    let gateway = pki.gateway(
        &upstream,
        &["--client-ca", s(&pki.client_ca()), "--crl", s(&crl)],
    );
    let root = pki.root();
    let bob = (pki.path("bob.chain.pem"), pki.path("bob.key.pem"));
    assert_eq!(
        curl(&gateway, &root, Some((&bob.0, &bob.1)), &[], "/")
            .unwrap()
            .0,
        200
    );
    let (_, crls) = gateway.admin("/debug/crls");
    let crls: Vec<Value> = serde_json::from_str(&crls).unwrap();
    let first_number = crls[0]["number"].clone();
    assert_eq!(crls[0]["revoked"], 0);

    let serial = crate::inspect_one(&pki.path("bob.pem"))["serial"]
        .as_str()
        .unwrap()
        .to_owned();
    mutual()
        .args([
            "revoke",
            &serial,
            "--home",
            s(&home),
            "--reason",
            "keyCompromise",
        ])
        .assert()
        .success();
    sign_crl();
    // The changed file is noticed and loaded; the connection pool and listener stay up.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while gateway.events("reloaded").is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        !gateway.events("reloaded").is_empty(),
        "{}",
        gateway.output()
    );
    let outcome = rustls_get(&gateway, &root, Some((&bob.0, &bob.1)));
    assert_eq!(
        outcome.alert(),
        Some(AlertDescription::CertificateRevoked),
        "{outcome:?}"
    );
    assert_refused_with(&gateway, "revoked");
    let (_, crls) = gateway.admin("/debug/crls");
    let crls: Vec<Value> = serde_json::from_str(&crls).unwrap();
    assert_eq!(crls[0]["revoked"], 1);
    assert_ne!(crls[0]["number"], first_number);
    let (_, metrics) = gateway.admin("/metrics");
    assert!(metrics.contains("mutual_gateway_crl_number{"), "{metrics}");
    // alice is still fine.
    let alice = (pki.path("alice.chain.pem"), pki.path("alice.key.pem"));
    assert_eq!(
        curl(&gateway, &root, Some((&alice.0, &alice.1)), &[], "/")
            .unwrap()
            .0,
        200
    );

    // A certificate no CRL speaks for (another hierarchy, trusted too) is refused: hard fail.
    drop(gateway);
    let gateway = pki.gateway(
        &upstream,
        &[
            "--client-ca",
            s(&pki.client_ca()),
            "--client-ca",
            s(&corpus().cert("intermediate")),
            "--crl",
            s(&crl),
        ],
    );
    let outcome = rustls_get(
        &gateway,
        &root,
        Some((&corpus().cert("client"), &corpus().key("client"))),
    );
    assert_eq!(
        outcome.alert(),
        Some(AlertDescription::UnknownCA),
        "{outcome:?}"
    );
    assert_refused_with(&gateway, "revocation_unknown");
}

#[test]
fn certificates_without_eku_are_accepted_unless_refused_by_configuration() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let ca = corpus().cert("intermediate");
    let no_eku = (corpus().cert("no-eku"), corpus().key("no-eku"));
    let gateway = pki.gateway(&upstream, &["--client-ca", s(&ca)]);
    assert_eq!(
        rustls_get(&gateway, &pki.root(), Some((&no_eku.0, &no_eku.1))).status(),
        Some(200)
    );
    drop(gateway);
    let gateway = pki.gateway(&upstream, &["--client-ca", s(&ca), "--refuse-no-eku"]);
    let outcome = rustls_get(&gateway, &pki.root(), Some((&no_eku.0, &no_eku.1)));
    assert_eq!(
        outcome.alert(),
        Some(AlertDescription::UnsupportedCertificate),
        "{outcome:?}"
    );
    assert_refused_with(&gateway, "no_eku");
}

#[test]
fn check_lists_every_problem_and_exits_1() {
    let pki = Pki::new();
    let config = pki.path("bad.toml");
    std::fs::write(
        &config,
        r#"
[[listener]]
listen = "127.0.0.1:0"
cert = "alice.pem"
key = "bob.key.pem"
client_ca = ["localhost.pem", "missing.pem"]

[[route]]
path = "/"
upstream = "https://backend.internal"

[[route]]
path = "api"
upstream = "http://127.0.0.1:1"
[[route.allow]]
fingerprint_sha256 = ["abc"]
"#,
    )
    .unwrap();
    let output = mutual()
        .args(["gateway", "check", "--config", s(&config)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "is not a server certificate",
        "is not the private key",
        "is not a CA certificate",
        "missing.pem",
        "admits nobody",
        "TLS to upstreams is not supported",
        "must start with /",
        "is not a SHA-256 fingerprint",
    ] {
        assert!(text.contains(expected), "`{expected}` not in:\n{text}");
    }

    // A good one passes, and says what it loaded.
    let good = pki.path("good.toml");
    std::fs::write(
        &good,
        "[[listener]]\nlisten = \"127.0.0.1:0\"\ncert = \"localhost.chain.pem\"\nkey = \"localhost.key.pem\"\nclient_ca = [\"home/ca/client-ca.pem\"]\n\n[[route]]\nupstream = \"http://127.0.0.1:9\"\nallow_any = true\n",
    )
    .unwrap();
    let output = mutual()
        .args(["gateway", "check", "--config", s(&good), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["valid"], true);

    // Not TOML / unknown keys: exit 1 naming the key; unreadable: exit 2.
    std::fs::write(
        &config,
        "[[listener]]\nlisten = \"127.0.0.1:1\"\nsurprise = 1\n",
    )
    .unwrap();
    let output = mutual()
        .args(["gateway", "check", "--config", s(&config)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("surprise"));
    let output = mutual()
        .args(["gateway", "check", "--config", s(&pki.path("nope.toml"))])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    // Starting with a bad configuration: exit 2, every problem on standard error.
    let output = mutual()
        .args([
            "gateway",
            "--listen",
            "127.0.0.1:0",
            "--cert",
            s(&pki.path("alice.pem")),
            "--key",
            s(&pki.path("alice.key.pem")),
            "--client-ca",
            s(&pki.client_ca()),
            "--upstream",
            "http://127.0.0.1:1",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a server certificate"));
}

/// `mutual --server ... ARGS` as the service's first administrator; expects success.
fn as_admin(service: &mutual_test::MutualServe, args: &[&str]) {
    let (cert, key) = service.admin();
    mutual()
        .env_remove("MUTUAL_SERVER")
        .env_remove("MUTUAL_CA_CERT")
        .args([
            "--server",
            &service.https(""),
            "--ca-cert",
            s(&service.root_pem()),
        ])
        .args(["--cert", s(&cert), "--key", s(&key)])
        .args(args)
        .assert()
        .success();
}

#[test]
fn ocsp_from_mutual_serve_refuses_a_revoked_client_and_fails_hard_or_soft_without_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let service = crate::start_serve(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for args in [
        ["issue", "server", "localhost"],
        ["issue", "client", "alice"],
        ["issue", "client", "bob"],
    ] {
        as_admin(&service, &[&args[..], &["--out-dir", s(&out)]].concat());
    }
    let upstream = Upstream::start();
    let binary = assert_cmd::cargo::cargo_bin("mutual");
    let start = |mode: &str| {
        let config = dir.path().join(format!("gateway-{mode}.toml"));
        MutualGateway::start_with_config(&binary, &config, |port, admin| {
            std::fs::write(
                &config,
                format!(
                    "[admin]\nlisten = \"127.0.0.1:{admin}\"\n\n[[listener]]\nlisten = \"127.0.0.1:{port}\"\ncert = \"out/localhost.chain.pem\"\nkey = \"out/localhost.key.pem\"\nclient_ca = [\"home/ca/client-ca.pem\"]\n\n[revocation]\nocsp = \"{mode}\"\nocsp_cache = \"1s\"\n\n[[route]]\nupstream = \"{}\"\nallow_any = true\n",
                    upstream.url()
                ),
            )
            .unwrap();
        })
    };
    let hard = start("hard");
    let root = service.root_pem();
    let alice = (out.join("alice.chain.pem"), out.join("alice.key.pem"));
    let bob = (out.join("bob.chain.pem"), out.join("bob.key.pem"));
    assert_eq!(
        rustls_get(&hard, &root, Some((&alice.0, &alice.1))).status(),
        Some(200)
    );
    assert_eq!(
        rustls_get(&hard, &root, Some((&bob.0, &bob.1))).status(),
        Some(200)
    );

    let serial = crate::inspect_one(&out.join("bob.pem"))["serial"]
        .as_str()
        .unwrap()
        .to_owned();
    as_admin(&service, &["revoke", &serial, "--reason", "keyCompromise"]);
    // Once the gateway's memory of bob's answer (1 s here) and the responder's cache have
    // moved on, bob is refused with the alert and code for a revocation.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut outcome = rustls_get(&hard, &root, Some((&bob.0, &bob.1)));
    while outcome.alert().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(250));
        outcome = rustls_get(&hard, &root, Some((&bob.0, &bob.1)));
    }
    assert_eq!(
        outcome.alert(),
        Some(AlertDescription::CertificateRevoked),
        "{outcome:?}"
    );
    assert_refused_with(&hard, "revoked");
    let revoked = hard
        .events("handshake_refused")
        .into_iter()
        .find(|e| e["code"] == "revoked")
        .unwrap();
    assert!(
        revoked["message"].as_str().unwrap().contains("OCSP"),
        "{revoked}"
    );

    // The responder goes away: hard fail refuses alice, soft fail admits her with a warning.
    let soft = start("soft");
    drop(service);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let outcome = rustls_get(&hard, &root, Some((&alice.0, &alice.1)));
    assert_eq!(
        outcome.alert(),
        Some(AlertDescription::UnknownCA),
        "{outcome:?}"
    );
    assert_refused_with(&hard, "revocation_unknown");
    assert_eq!(
        rustls_get(&soft, &root, Some((&alice.0, &alice.1))).status(),
        Some(200)
    );
    let admitted = soft.events("request");
    assert_eq!(
        admitted[0]["client"]["warnings"][0], "revocation_unknown",
        "{admitted:?}"
    );
}

#[test]
fn the_gateway_runs_on_a_server_certificate_enrolled_from_mutual_serve() {
    let dir = tempfile::tempdir().unwrap();
    let service = crate::start_serve(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    // The CA operator makes a one-time token for the gateway's host name...
    let token = mutual()
        .args([
            "token",
            "create",
            "--home",
            s(service.home()),
            "--profile",
            "server",
        ])
        .args(["--subject", "localhost", "--ttl", "10m"])
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token_file = dir.path().join("gateway.token");
    std::fs::write(&token_file, &token.stdout).unwrap();
    // ... and the gateway's host enrolls with it: its key never leaves it.
    mutual()
        .env_remove("MUTUAL_SERVER")
        .args([
            "enroll",
            "--server",
            &service.https(""),
            "--ca-cert",
            s(&service.root_pem()),
        ])
        .args([
            "--token-file",
            s(&token_file),
            "--subject",
            "localhost",
            "--out-dir",
            s(&out),
        ])
        .assert()
        .success();
    as_admin(
        &service,
        &["issue", "client", "carol", "--out-dir", s(&out)],
    );

    let upstream = Upstream::start();
    let gateway = MutualGateway::start(
        &assert_cmd::cargo::cargo_bin("mutual"),
        &[
            "--cert",
            s(&out.join("localhost.chain.pem")),
            "--key",
            s(&out.join("localhost.key.pem")),
            "--client-ca",
            s(&service.ca_pem("client-ca")),
            "--upstream",
            &upstream.url(),
        ],
    );
    let carol = (out.join("carol.chain.pem"), out.join("carol.key.pem"));
    let (status, _) = curl(
        &gateway,
        &service.root_pem(),
        Some((&carol.0, &carol.1)),
        &[],
        "/",
    )
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        upstream.seen()[0].header("x-client-cert-subject"),
        Some("CN=carol")
    );
    // The service's own administrator certificate is a client certificate from the same
    // client CA: admitted too, which is why routes narrow with rules.
    let (cert, key) = service.admin();
    assert_eq!(
        curl(&gateway, &service.root_pem(), Some((&cert, &key)), &[], "/")
            .unwrap()
            .0,
        200
    );
}
