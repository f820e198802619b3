//! `mutual config nginx|apache|envoy`, checked by running the real servers with what it
//! prints: a CA made by `mutual init`, curl presenting client certificates, and a backend
//! that records which headers reached it. Envoy is not installed here: its bootstrap is
//! checked line by line only.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::ca::Ca;
use crate::{mutual, s};
use mutual_test::{Apache, MutualGateway, Nginx, SeenRequest, Upstream, openssl, require_tool};

/// A CA with a server certificate for localhost, alice's client certificate, and bob's,
/// revoked, with the CRLs that say so.
struct Fixture {
    ca: Ca,
    server_chain: PathBuf,
    server_key: PathBuf,
    alice: PathBuf,
    alice_key: PathBuf,
    /// alice's certificate and the client CA's.
    alice_chain: PathBuf,
    bob: PathBuf,
    bob_key: PathBuf,
    /// The client CA and the root, in one file (for Apache).
    client_cas: PathBuf,
    /// The client CA's CRL and the root's, in one file (for nginx).
    crls: PathBuf,
}

impl Fixture {
    fn ca_file(&self, name: &str) -> String {
        self.ca.ca_file(name)
    }

    fn crl_file(&self, name: &str) -> PathBuf {
        self.ca.home().join("crl").join(name)
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ca = Ca::init(&[]);
        let (server_key, _, server_chain) = ca.issue("server", &["localhost", "--ip", "127.0.0.1"]);
        let (alice_key, alice, alice_chain) = ca.issue("client", &["alice"]);
        let (bob_key, bob, _) = ca.issue("client", &["bob"]);
        let serial = serial_of(&ca, "CN=bob");
        let revoked = mutual()
            .args(["revoke", &serial, "--home", s(&ca.home())])
            .output()
            .unwrap();
        assert!(revoked.status.success(), "{}", stderr(&revoked));
        let crl = ca.run(&["crl"], &[]);
        assert!(crl.status.success(), "{}", stderr(&crl));
        let client_cas = ca.path("client-cas.pem");
        join(
            &[&ca.ca_file("client-ca.pem"), &ca.ca_file("root.pem")],
            &client_cas,
        );
        let crls = ca.path("crls.pem");
        let crl_dir = ca.home().join("crl");
        join(
            &[
                s(&crl_dir.join("client-ca.crl.pem")),
                s(&crl_dir.join("root.crl.pem")),
            ],
            &crls,
        );
        Fixture {
            ca,
            server_chain,
            server_key,
            alice,
            alice_key,
            alice_chain,
            bob,
            bob_key,
            client_cas,
            crls,
        }
    })
}

fn serial_of(ca: &Ca, subject: &str) -> String {
    let output = mutual()
        .args(["list", "--format", "json", "--home", s(&ca.home())])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    list["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject"] == subject)
        .unwrap_or_else(|| panic!("{subject} is not in the inventory: {list:#}"))["serial"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn join(files: &[&str], out: &Path) {
    let text: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    std::fs::write(out, text).unwrap();
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn config(args: &[&str]) -> Output {
    mutual().arg("config").args(args).output().unwrap()
}

/// `mutual config ARGS`, which must succeed; its standard output.
fn config_text(args: &[&str]) -> String {
    let output = config(args);
    assert!(
        output.status.success(),
        "mutual config {args:?}: {}",
        stderr(&output)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The arguments every configuration here shares: the server certificate, the backend, and
/// 127.0.0.1:`port`.
fn common(upstream: &Upstream, port: u16) -> Vec<String> {
    let f = fixture();
    vec![
        "--cert".into(),
        s(&f.server_chain).into(),
        "--key".into(),
        s(&f.server_key).into(),
        "--upstream".into(),
        upstream.url(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
    ]
}

/// nginx running `mutual config nginx` with the client CA and the root, and `extra`.
fn nginx(upstream: &Upstream, extra: &[&str]) -> Nginx {
    let f = fixture();
    nginx_trusting(
        upstream,
        &[&f.ca_file("client-ca.pem"), &f.ca_file("root.pem")],
        extra,
    )
}

fn nginx_trusting(upstream: &Upstream, client_cas: &[&str], extra: &[&str]) -> Nginx {
    Nginx::start(|port| {
        let mut args = vec!["nginx".to_owned()];
        args.extend(common(upstream, port));
        for ca in client_cas {
            args.extend(["--client-ca".to_owned(), (*ca).to_owned()]);
        }
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        config_text(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
}

/// Apache running `mutual config apache` with the client CA and the root in one file.
fn apache(upstream: &Upstream, extra: &[&str]) -> Apache {
    apache_trusting(upstream, s(&fixture().client_cas), extra)
}

fn apache_trusting(upstream: &Upstream, client_cas: &str, extra: &[&str]) -> Apache {
    Apache::start(|port| {
        let mut args = vec!["apache".to_owned()];
        args.extend(common(upstream, port));
        args.extend(["--client-ca".to_owned(), client_cas.to_owned()]);
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        config_text(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
}

/// What curl got: the status (0 when there was no HTTP answer), the body, and its error.
#[derive(Debug)]
struct Reply {
    status: u16,
    body: String,
    error: String,
}

/// `curl https://localhost:PORT/` trusting the CA's root, presenting `identity`.
fn curl(port: u16, identity: Option<(&Path, &Path)>, extra: &[&str]) -> Reply {
    let mut command = Command::new(require_tool("curl"));
    command
        .args(["-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}"])
        .arg("--cacert")
        .arg(fixture().ca_file("root.pem"))
        .arg("--resolve")
        .arg(format!("localhost:{port}:127.0.0.1"));
    if let Some((cert, key)) = identity {
        command.arg("--cert").arg(cert).arg("--key").arg(key);
    }
    let output = command
        .args(extra)
        .arg(format!("https://localhost:{port}/"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    Reply {
        status: status.trim().parse().unwrap_or(0),
        body: body.trim_end().to_owned(),
        error: stderr(&output),
    }
}

fn alice() -> Option<(&'static Path, &'static Path)> {
    let f = fixture();
    Some((f.alice.as_path(), f.alice_key.as_path()))
}

/// The server certificate (serverAuth only), with its chain, presented as a client's.
fn server_as_client() -> Option<(&'static Path, &'static Path)> {
    let f = fixture();
    Some((f.server_chain.as_path(), f.server_key.as_path()))
}

/// Headers a client sends to pass as someone else: every spelling a backend might read as
/// one of the identity headers.
const FORGED: [&str; 7] = [
    "X-Client-Cert-Subject: CN=admin",
    "x-client-cert-subject: CN=root",
    "X_Client_Cert_Subject: CN=admin",
    "X-Client-Cert-Fingerprint: forged",
    "X-Client-Cert-SAN-URI: spiffe://example.internal/admin",
    "X-Client-Cert: forged",
    "X-Forwarded-Client-Cert: Hash=forged;Subject=\"CN=admin\"",
];

fn forged_args() -> Vec<&'static str> {
    FORGED.iter().flat_map(|h| ["-H", *h]).collect()
}

/// Every value of the header `name` (any case) that reached the backend.
fn values(request: &SeenRequest, name: &str) -> Vec<String> {
    let name = name.to_ascii_lowercase();
    request
        .headers
        .iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v.clone())
        .collect()
}

fn one(request: &SeenRequest, name: &str) -> String {
    let values = values(request, name);
    assert_eq!(values.len(), 1, "{name} in {request:#?}");
    values[0].clone()
}

/// Whether any header value that reached the backend came from the forged ones.
fn forged_value_reached(request: &SeenRequest) -> bool {
    request
        .headers
        .iter()
        .any(|(_, v)| v.contains("admin") || v.contains("forged") || v.contains("CN=root"))
}

/// Percent-decoding only: a `+` stays a `+` (Apache does not encode it).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The identity of alice as `openssl x509` reads it, checked against what the backend got.
fn assert_alice_identity(head: &SeenRequest) {
    let f = fixture();
    let field = |flag: &str| {
        openssl(&["x509", "-in", s(&f.alice), "-noout", flag])
            .trim()
            .split_once('=')
            .unwrap()
            .1
            .to_owned()
    };
    assert_eq!(one(head, "X-Client-Cert-Subject"), "CN=alice", "{head:#?}");
    assert_eq!(
        one(head, "X-Client-Cert-Issuer"),
        "CN=Mutual Client CA,O=Mutual"
    );
    assert_eq!(one(head, "X-Client-Cert-Serial"), field("-serial"));
    assert_eq!(one(head, "X-Client-Cert-Not-After"), field("-enddate"));
}

#[test]
fn nginx_forwards_the_verified_identity_and_never_a_forged_one() {
    let upstream = Upstream::start();
    let server = nginx(&upstream, &[]);
    for protocol in ["--http1.1", "--http2"] {
        let mut extra = forged_args();
        extra.push(protocol);
        let reply = curl(server.port(), alice(), &extra);
        assert_eq!(reply.status, 200, "{reply:?}\n{}", server.log());
        let requests = upstream.seen();
        let head = requests.last().unwrap();
        assert_alice_identity(head);
        // proxy_set_header replaced both spellings of the subject with the one verified value,
        // removed what nginx cannot fill, and nginx dropped the name with underscores.
        for absent in [
            "X_Client_Cert_Subject",
            "X-Client-Cert-Fingerprint",
            "X-Client-Cert-SAN-URI",
            "X-Client-Cert",
            "X-Forwarded-Client-Cert",
        ] {
            assert!(values(head, absent).is_empty(), "{absent} in {head:#?}");
        }
        assert!(!forged_value_reached(head), "{head:#?}");
    }
    assert_eq!(upstream.seen().len(), 2);
}

#[test]
fn nginx_answers_as_the_gateway_does_in_optional_mode() {
    // The same settings to `mutual gateway` and to `mutual config nginx`: the same status
    // for each client, and the same identity upstream (but for the date's format).
    let f = fixture();
    let crl_dir = f.ca.home().join("crl");
    let to_gateway = Upstream::start();
    let gateway = MutualGateway::start(
        &assert_cmd::cargo::cargo_bin("mutual"),
        &[
            "--cert",
            s(&f.server_chain),
            "--key",
            s(&f.server_key),
            "--client-ca",
            &f.ca_file("client-ca.pem"),
            "--upstream",
            &to_gateway.url(),
            "--mode",
            "optional",
            "--crl",
            s(&crl_dir.join("client-ca.crl.pem")),
            "--crl",
            s(&crl_dir.join("root.crl.pem")),
        ],
    );
    let to_nginx = Upstream::start();
    let nginx = nginx(&to_nginx, &["--mode", "optional", "--crl", s(&f.crls)]);
    let bob = Some((f.bob.as_path(), f.bob_key.as_path()));
    for (name, identity, status) in [
        ("alice", alice(), 200),
        ("nothing", None, 496),
        ("the server certificate", server_as_client(), 495),
        ("bob, revoked", bob, 495),
    ] {
        let from_gateway = curl(gateway.port(), identity, &[]);
        let from_nginx = curl(nginx.port(), identity, &[]);
        assert_eq!(
            from_gateway.status, status,
            "gateway, {name}: {from_gateway:?}"
        );
        assert_eq!(from_nginx.status, status, "nginx, {name}: {from_nginx:?}");
    }
    let (via_gateway, via_nginx) = (to_gateway.seen(), to_nginx.seen());
    assert_eq!((via_gateway.len(), via_nginx.len()), (1, 1));
    for header in [
        "X-Client-Cert-Subject",
        "X-Client-Cert-Issuer",
        "X-Client-Cert-Serial",
    ] {
        assert_eq!(
            one(&via_gateway[0], header),
            one(&via_nginx[0], header),
            "{header}"
        );
    }
}

#[test]
fn nginx_require_answers_400_without_a_certificate_or_with_a_server_certificate() {
    let upstream = Upstream::start();
    let server = nginx(&upstream, &[]);

    // nginx completes the handshake without a certificate and refuses the request.
    let reply = curl(server.port(), None, &forged_args());
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(
        reply.body.contains("No required SSL certificate was sent"),
        "{reply:?}"
    );

    // A serverAuth-only certificate, with the chain to the root: OpenSSL's sslclient purpose
    // check refuses it, nginx answers 400 and logs why.
    let reply = curl(server.port(), server_as_client(), &[]);
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(
        reply.body.contains("The SSL certificate error"),
        "{reply:?}"
    );
    assert!(
        server
            .log()
            .contains("client SSL certificate verify error: (26:unsuitable certificate purpose)"),
        "{}",
        server.log()
    );
    assert!(upstream.seen().is_empty(), "{:?}", upstream.seen());
}

#[test]
fn nginx_accepts_a_client_certificate_without_eku() {
    // What the generated comment says nginx cannot refuse (the gateway can): OpenSSL's
    // sslclient purpose lets a certificate with no EKU act for any purpose.
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let (key, csr, ext, cert) = (
        dir.path().join("no-eku.key.pem"),
        dir.path().join("no-eku.csr"),
        dir.path().join("no-eku.ext"),
        dir.path().join("no-eku.pem"),
    );
    std::fs::write(
        &ext,
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=no-eku",
        "-keyout",
        s(&key),
        "-out",
        s(&csr),
    ]);
    let ca_key = f.ca.home().join("ca").join("client-ca.key.pem");
    openssl(&[
        "x509",
        "-req",
        "-in",
        s(&csr),
        "-CA",
        &f.ca_file("client-ca.pem"),
        "-CAkey",
        s(&ca_key),
        "-passin",
        &format!("file:{}", s(&f.ca.pass())),
        "-days",
        "30",
        "-extfile",
        s(&ext),
        "-out",
        s(&cert),
    ]);
    let upstream = Upstream::start();
    let server = nginx(&upstream, &[]);
    let reply = curl(server.port(), Some((&cert, &key)), &[]);
    assert_eq!(reply.status, 200, "{reply:?}");
    let requests = upstream.seen();
    assert_eq!(one(&requests[0], "X-Client-Cert-Subject"), "CN=no-eku");
}

#[test]
fn nginx_optional_answers_496_and_495_with_the_diagnosis_code() {
    let upstream = Upstream::start();
    let server = nginx(&upstream, &["--mode", "optional", "--forward-pem"]);

    let reply = curl(server.port(), None, &forged_args());
    assert_eq!(reply.status, 496, "{reply:?}");
    assert_eq!(
        reply.body,
        "no_certificate: no client certificate was presented; this site requires one"
    );

    let reply = curl(server.port(), server_as_client(), &[]);
    assert_eq!(reply.status, 495, "{reply:?}");
    assert_eq!(
        reply.body,
        "client certificate refused: eku_mismatch (FAILED:unsuitable certificate purpose)"
    );
    assert!(upstream.seen().is_empty(), "{:?}", upstream.seen());

    let reply = curl(server.port(), alice(), &forged_args());
    assert_eq!(reply.status, 200, "{reply:?}");
    let requests = upstream.seen();
    let head = requests.last().unwrap();
    assert_alice_identity(head);
    // --forward-pem: the certificate itself, URL-encoded PEM.
    assert_eq!(
        percent_decode(&one(head, "X-Client-Cert")).trim(),
        std::fs::read_to_string(&fixture().alice).unwrap().trim()
    );
}

#[test]
fn nginx_with_the_crls_refuses_a_revoked_client_and_admits_the_others() {
    let f = fixture();
    let upstream = Upstream::start();
    let server = nginx(&upstream, &["--crl", s(&f.crls)]);
    let reply = curl(
        server.port(),
        Some((f.bob.as_path(), f.bob_key.as_path())),
        &[],
    );
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(
        server.log().contains("(23:certificate revoked)"),
        "{}",
        server.log()
    );
    assert_eq!(curl(server.port(), alice(), &[]).status, 200);
    assert_eq!(upstream.seen().len(), 1);
}

#[test]
fn max_depth_counts_intermediates_up_to_a_client_ca_as_the_gateway_does() {
    // Trusting only the root, alice's chain (alice <- client CA <- root) holds one
    // intermediate between her and a --client-ca: --max-depth 0 refuses her and 1 admits
    // her, in nginx (which counts up to the root) and Apache (which counts the root too)
    // alike.
    let f = fixture();
    let upstream = Upstream::start();
    let root = f.ca_file("root.pem");
    let chain = Some((f.alice_chain.as_path(), f.alice_key.as_path()));
    for (depth, admitted) in [("0", false), ("1", true)] {
        let server = nginx_trusting(&upstream, &[&root], &["--max-depth", depth]);
        let reply = curl(server.port(), chain, &[]);
        assert_eq!(reply.status == 200, admitted, "nginx {depth}: {reply:?}");
        let server = apache_trusting(&upstream, &root, &["--max-depth", depth]);
        let reply = curl(server.port(), chain, &[]);
        assert_eq!(reply.status == 200, admitted, "Apache {depth}: {reply:?}");
    }
    // Trusting the client CA (and the root, for OpenSSL), she is right under a --client-ca.
    let server = nginx(&upstream, &["--max-depth", "0"]);
    assert_eq!(curl(server.port(), alice(), &[]).status, 200);
    let server = apache(&upstream, &["--max-depth", "0"]);
    assert_eq!(curl(server.port(), alice(), &[]).status, 200);
}

#[test]
fn apache_forwards_the_verified_identity_and_refuses_in_the_handshake() {
    let f = fixture();
    let upstream = Upstream::start();
    let crl = f.crl_file("client-ca.crl.pem");
    let server = apache(&upstream, &["--crl", s(&crl), "--forward-pem"]);

    let mut extra = forged_args();
    extra.extend(["-H", "X-Client_Cert-Subject: CN=mixed"]);
    let reply = curl(server.port(), alice(), &extra);
    assert_eq!(reply.status, 200, "{reply:?}\n{}", server.log());
    let requests = upstream.seen();
    let head = requests.last().unwrap();
    assert_alice_identity(head);
    assert_eq!(
        percent_decode(&one(head, "X-Client-Cert")).trim(),
        std::fs::read_to_string(&f.alice).unwrap().trim()
    );
    for absent in [
        "X_Client_Cert_Subject",
        "X-Client-Cert-Fingerprint",
        "X-Client-Cert-SAN-URI",
        "X-Forwarded-Client-Cert",
    ] {
        assert!(values(head, absent).is_empty(), "{absent} in {head:#?}");
    }
    assert!(!forged_value_reached(head), "{head:#?}");
    // What the generated comment warns about: Apache forwards a mixed spelling.
    assert_eq!(values(head, "X-Client_Cert-Subject"), ["CN=mixed"]);

    // Apache's `require` fails the handshake, as the gateway does: TLS 1.3's
    // certificate_required, then the alerts OpenSSL picks for the purpose and revocation.
    for (identity, alert) in [
        (None, "certificate required"),
        (server_as_client(), "unsupported certificate"),
        (
            Some((f.bob.as_path(), f.bob_key.as_path())),
            "certificate revoked",
        ),
    ] {
        let reply = curl(server.port(), identity, &[]);
        assert_eq!(reply.status, 0, "{reply:?}");
        assert!(reply.error.contains(alert), "{alert}: {reply:?}");
    }
    assert_eq!(upstream.seen().len(), 1);
}

#[test]
fn apache_optional_answers_403_without_a_certificate() {
    let upstream = Upstream::start();
    let server = apache(&upstream, &["--mode", "optional"]);
    let reply = curl(server.port(), None, &forged_args());
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(
        reply.body,
        "no_certificate: no client certificate was presented; this site requires one"
    );
    assert!(upstream.seen().is_empty());
    assert_eq!(curl(server.port(), alice(), &[]).status, 200);
    // An invalid certificate still fails the handshake in optional mode.
    assert_eq!(curl(server.port(), server_as_client(), &[]).status, 0);
}

#[test]
fn envoy_bootstrap_says_what_the_gateway_does() {
    // Not run: Envoy is not installed. The lines that carry the behaviour are checked.
    let f = fixture();
    let crl = f.crl_file("client-ca.crl.pem");
    let client_ca = f.ca_file("client-ca.pem");
    let args = |mode: &'static str| {
        vec![
            "envoy",
            "--cert",
            s(&f.server_chain),
            "--key",
            s(&f.server_key),
            "--client-ca",
            &client_ca,
            "--crl",
            s(&crl),
            "--upstream",
            "http://backend.internal:8080",
            "--mode",
            mode,
        ]
    };
    let text = config_text(&args("require"));
    for line in [
        "require_client_certificate: true",
        &format!("trusted_ca: {{ filename: \"{client_ca}\" }}"),
        &format!("crl: {{ filename: \"{}\" }}", s(&crl)),
        "only_verify_leaf_cert_crl: true",
        "max_verify_depth: 3",
        "tls_minimum_protocol_version: TLSv1_2",
        "tls_maximum_protocol_version: TLSv1_3",
        "forward_client_cert_details: SANITIZE_SET",
        "set_current_client_cert_details: { subject: true, dns: true, uri: true, cert: false }",
        "headers_with_underscores_action: DROP_HEADER",
        "- x-client-cert-subject",
        "- header: { key: x-client-cert-subject, value: \"%DOWNSTREAM_PEER_SUBJECT%\" }",
        "- header: { key: x-client-cert-fingerprint, value: \"%DOWNSTREAM_PEER_FINGERPRINT_256%\" }",
        "append_action: OVERWRITE_IF_EXISTS_OR_ADD",
        "type: STRICT_DNS",
        "socket_address: { address: \"backend.internal\", port_value: 8080 }",
    ] {
        assert!(text.contains(line), "{line} is missing from\n{text}");
    }
    assert!(!text.contains("match_typed_subject_alt_names"), "{text}");
    assert!(!text.contains("status: 496"), "{text}");
    // No tabs (YAML forbids them in indentation), and the only lines outside the document
    // are comments.
    assert!(!text.contains('\t'));
    let document = text.split_once("\nstatic_resources:").unwrap();
    assert!(document.0.lines().all(|l| l.starts_with('#')), "{text}");

    let text = config_text(&args("optional"));
    assert!(text.contains("require_client_certificate: false"), "{text}");
    assert!(
        text.contains("- match: { prefix: \"/\", tls_context: { presented: false } }"),
        "{text}"
    );
    assert!(text.contains("status: 496"), "{text}");
}

#[test]
fn refuses_inputs_that_would_refuse_every_client_and_says_the_fix() {
    let f = fixture();
    let (cert, key) = (s(&f.server_chain), s(&f.server_key));
    let client_ca = f.ca_file("client-ca.pem");
    let root = f.ca_file("root.pem");
    let server_ca = f.ca_file("server-ca.pem");
    let client_crl = f.crl_file("client-ca.crl.pem");
    let upstream = ["--upstream", "http://127.0.0.1:8080"];
    let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
        (
            vec!["nginx", "--cert", cert, "--key", key, "--client-ca", s(&f.alice)],
            vec![
                "--client-ca".into(),
                "expected CA certificates; found `CN=alice`, a client certificate".into(),
            ],
        ),
        (
            vec!["nginx", "--cert", cert, "--key", key, "--client-ca", &server_ca, "--client-ca", &root],
            vec![
                "`CN=Mutual Server CA,O=Mutual` may not issue client certificates (its EKU allows serverAuth only)".into(),
                "[eku_mismatch]".into(),
            ],
        ),
        (
            vec!["nginx", "--cert", cert, "--key", key, "--client-ca", "/nonexistent/ca.pem"],
            vec!["--client-ca `/nonexistent/ca.pem` could not be opened".into()],
        ),
        (
            vec!["nginx", "--cert", cert, "--key", s(&f.alice_key), "--client-ca", &client_ca],
            vec![format!("--key `{}` does not go with --cert", s(&f.alice_key))],
        ),
        (
            vec!["nginx", "--cert", s(&f.alice_key), "--key", key, "--client-ca", &client_ca],
            vec!["--cert".into(), "expected the server certificate (PEM), its chain after it; found private key".into()],
        ),
        (
            vec!["nginx", "--cert", cert, "--key", key, "--client-ca", &client_ca],
            vec![
                "nginx (OpenSSL) ends every path at a self-signed root".into(),
                format!("add the root's certificate: `--client-ca {root}`"),
            ],
        ),
        (
            vec!["apache", "--cert", cert, "--key", key, "--client-ca", &client_ca],
            vec![format!(
                "put the root's certificate in the same file: `cat {client_ca} {root} > client-cas.pem`"
            )],
        ),
        (
            vec!["apache", "--cert", cert, "--key", key, "--client-ca", &client_ca, "--client-ca", &root],
            vec![format!(
                "--client-ca: Apache reads one file (SSLCACertificateFile); found 2: join them with `cat {client_ca} {root} > client-cas.pem`"
            )],
        ),
        (
            vec![
                "nginx", "--cert", cert, "--key", key, "--client-ca", &client_ca, "--client-ca", &root,
                "--crl", s(&client_crl),
            ],
            vec![
                "nginx (OpenSSL) checks the CRL of every CA on the path, and none is from `CN=Mutual Root CA,O=Mutual`".into(),
            ],
        ),
        (
            vec!["envoy", "--cert", cert, "--key", key, "--client-ca", &client_ca, "--crl", &root],
            vec!["--crl".into(), "expected a CRL; found certificate".into()],
        ),
    ];
    for (args, expected) in cases {
        let mut args = args;
        args.extend(upstream);
        let output = config(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty(), "{args:?}");
        let message = stderr(&output);
        assert_eq!(message.lines().count(), 1, "{message}");
        for part in expected {
            assert!(
                message.contains(&part),
                "{args:?}: `{part}` not in {message}"
            );
        }
    }

    let output = config(&[
        "envoy",
        "--cert",
        cert,
        "--key",
        key,
        "--client-ca",
        &client_ca,
        "--upstream",
        "https://backend:8443",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("expected http://HOST:PORT"),
        "{}",
        stderr(&output)
    );
    // Envoy trusts the client CA on its own: no root needed.
    let mut args = vec![
        "envoy",
        "--cert",
        cert,
        "--key",
        key,
        "--client-ca",
        &client_ca,
    ];
    args.extend(upstream);
    config_text(&args);
}

#[test]
fn paths_are_written_absolute_and_out_is_replaced_whole() {
    let f = fixture();
    let dir = f.ca.home();
    let out = f.ca.path("gateway.conf");
    let run = |listen: &str| {
        let output = mutual()
            .current_dir(&dir)
            .args([
                "config",
                "nginx",
                "--cert",
                &format!(
                    "../out/{}",
                    f.server_chain.file_name().unwrap().to_str().unwrap()
                ),
                "--key",
                &format!(
                    "../out/{}",
                    f.server_key.file_name().unwrap().to_str().unwrap()
                ),
                "--client-ca",
                "ca/client-ca.pem",
                "--client-ca",
                "./ca/root.pem",
                "--upstream",
                "http://127.0.0.1:8080",
                "--listen",
                listen,
                "--out",
                s(&out),
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(output.stdout.is_empty());
        std::fs::read_to_string(&out).unwrap()
    };
    let text = run("127.0.0.1:9443");
    let absolute = |p: &Path| {
        std::fs::canonicalize(p)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    for line in [
        format!("ssl_certificate     \"{}\";", absolute(&f.server_chain)),
        format!("ssl_certificate_key \"{}\";", absolute(&f.server_key)),
        format!(
            "ssl_client_certificate \"{}\";",
            absolute(Path::new(&f.ca_file("client-ca.pem")))
        ),
        format!(
            "ssl_trusted_certificate \"{}\";",
            absolute(Path::new(&f.ca_file("root.pem")))
        ),
        "listen 127.0.0.1:9443 ssl http2;".to_owned(),
        // The gateway's default --max-depth 2, and the client CA below the root.
        "ssl_verify_depth 3;".to_owned(),
    ] {
        assert!(text.contains(&line), "{line} not in\n{text}");
    }
    assert_eq!(crate::ca::mode(&out), 0o644);
    let text = run("127.0.0.1:9444");
    assert!(text.contains("listen 127.0.0.1:9444 ssl http2;"));
    assert!(!text.contains("9443"));
}
