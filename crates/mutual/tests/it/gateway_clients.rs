//! `mutual gateway` with real clients and the HTTP features around the handshake: a real
//! browser (headless Chromium, its identity in an NSS database, chosen by policy), curl
//! over HTTP/2, a WebSocket-style upgrade, the request body limit, graceful shutdown, hot
//! reload of the server certificate under a live keep-alive connection, and the upstream
//! connection pool. The PKI and the curl runner are `gateway.rs`'s.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mutual_test::{AutoSelectPolicy, Browser, MutualGateway, Upstream};
use rustls::pki_types::{PrivateKeyDer, ServerName};
use serde_json::Value;

use crate::gateway::{assert_refused_with, curl, pem_certs};
use crate::pki::Pki;
use crate::{inspect_one, mutual, s};

/// The name the browser asks for, mapped to 127.0.0.1 by `--host-resolver-rules`; the
/// gateway's server certificate carries it.
const BROWSER_HOST: &str = "www.mutual.test";

/// The CN of the CA that issues the PKI's client certificates (the policy's filter).
const CLIENT_CA_CN: &str = "Mutual Client CA";

/// Waits up to `within` for `done`, checking every 50 ms; whether it came true.
fn wait_for(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn alice(pki: &Pki) -> (PathBuf, PathBuf) {
    (pki.path("alice.chain.pem"), pki.path("alice.key.pem"))
}

/// A gateway whose server certificate is `server_name`'s, from `mutual issue server`.
fn gateway_as(pki: &Pki, server_name: &str, upstream: &Upstream, extra: &[&str]) -> MutualGateway {
    let mut args: Vec<String> = vec![
        "--cert".into(),
        s(&pki.path(&format!("{server_name}.chain.pem"))).into(),
        "--key".into(),
        s(&pki.path(&format!("{server_name}.key.pem"))).into(),
        "--client-ca".into(),
        s(&pki.client_ca()).into(),
        "--upstream".into(),
        upstream.url(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    MutualGateway::start(&assert_cmd::cargo::cargo_bin("mutual"), &args)
}

/// A gateway from a configuration file: one `require` listener with the `localhost`
/// certificate, one route that admits any client certificate, and `limits` (TOML lines
/// for the `[limits]` table).
fn gateway_with_limits(pki: &Pki, upstream: &Upstream, limits: &str) -> MutualGateway {
    let config = pki.path("gateway.toml");
    let binary = assert_cmd::cargo::cargo_bin("mutual");
    MutualGateway::start_with_config(&binary, &config, |port, admin| {
        std::fs::write(
            &config,
            format!(
                r#"
[admin]
listen = "127.0.0.1:{admin}"

[limits]
{limits}

[[listener]]
listen = "127.0.0.1:{port}"
cert = "localhost.chain.pem"
key = "localhost.key.pem"
client_ca = ["home/ca/client-ca.pem"]

[[route]]
name = "everyone"
upstream = "{up}"
allow_any = true
"#,
                up = upstream.url()
            ),
        )
        .unwrap();
    })
}

// ---------------------------------------------------------------------------------------
// A real browser

/// A PKI with a server certificate for [`BROWSER_HOST`] and alice's identity as PKCS#12,
/// as `mutual issue client alice --p12` writes it for browsers; (p12, its password).
fn browser_pki() -> (Pki, PathBuf, String) {
    let pki = Pki::new();
    pki.issue("home", &["server", BROWSER_HOST]);
    let password = "a password for the browser test".to_owned();
    let password_file = pki.path("alice.p12.pass");
    std::fs::write(&password_file, format!("{password}\n")).unwrap();
    let out = pki.path("browser");
    std::fs::create_dir_all(&out).unwrap();
    let p12 = out.join("alice.p12");
    mutual()
        .args(["issue", "client", "alice", "--p12", s(&p12)])
        .args(["--p12-password-file", s(&password_file)])
        .args(["--home", s(&pki.path("home")), "--out-dir", s(&out)])
        .assert()
        .success();
    (pki, p12, password)
}

/// The echo JSON the upstream answered, out of the DOM Chromium rendered it in: the text
/// of a `<pre>`, with `&`, `<` and `>` escaped.
fn echoed(dom: &str) -> Option<Value> {
    let (_, rest) = dom.split_once("<pre")?;
    let (_, rest) = rest.split_once('>')?;
    let (text, _) = rest.split_once("</pre>")?;
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).ok()
}

fn header<'a>(echo: &'a Value, name: &str) -> Option<&'a str> {
    echo["headers"]
        .as_array()?
        .iter()
        .find(|h| h[0] == name)
        .and_then(|h| h[1].as_str())
}

#[test]
fn a_browser_presents_its_certificate_by_policy_and_without_one_reads_the_496_page() {
    let (pki, p12, password) = browser_pki();
    let upstream = Upstream::start();
    let gateway = gateway_as(&pki, BROWSER_HOST, &upstream, &["--mode", "optional"]);
    let origin = format!("https://{BROWSER_HOST}:{}", gateway.port());

    let with_alice = Browser::trusting(&pki.root());
    with_alice.import_p12(&p12, &password);
    assert!(
        with_alice.certificates().contains("alice"),
        "{}",
        with_alice.certificates()
    );
    let without = Browser::trusting(&pki.root());
    let _policy = AutoSelectPolicy::install(&origin, CLIENT_CA_CN);

    let page = with_alice.dump_dom(BROWSER_HOST, &format!("{origin}/from-the-browser"));
    let echo = echoed(&page.dom).unwrap_or_else(|| {
        panic!(
            "no echo in the page:\n{}\nchromium said:\n{}\ngateway:\n{}",
            page.dom,
            page.stderr,
            gateway.output()
        )
    });
    assert_eq!(echo["path"], "/from-the-browser");
    assert_eq!(header(&echo, "x-client-cert-subject"), Some("CN=alice"));
    assert_eq!(
        header(&echo, "x-client-cert-issuer"),
        Some("CN=Mutual Client CA,O=Mutual")
    );
    // The browser's own request, forwarded: its host and the forwarding headers.
    assert_eq!(
        header(&echo, "host"),
        Some(format!("{BROWSER_HOST}:{}", gateway.port()).as_str())
    );
    assert_eq!(header(&echo, "x-forwarded-proto"), Some("https"));

    // No identity in the database: the handshake completes and the page says why not.
    let page = without.dump_dom(BROWSER_HOST, &format!("{origin}/from-the-browser"));
    assert!(
        page.dom
            .contains("<h1>496 A client certificate is required</h1>"),
        "{}\nchromium said:\n{}",
        page.dom,
        page.stderr
    );
    assert!(
        page.dom.contains("<code>no_certificate</code>"),
        "{}",
        page.dom
    );
    assert!(
        page.dom.contains("CN=Mutual Client CA,O=Mutual"),
        "{}",
        page.dom
    );
    assert_only_alice_got_through(&upstream, "/from-the-browser");
    let refused = gateway
        .events("request")
        .into_iter()
        .find(|e| e["status"] == 496)
        .unwrap_or_else(|| panic!("no 496 in the log:\n{}", gateway.output()));
    assert_eq!(refused["code"], "no_certificate");
}

#[test]
fn a_browser_without_the_certificate_cannot_load_the_page_in_require_mode() {
    let (pki, p12, password) = browser_pki();
    let upstream = Upstream::start();
    let gateway = gateway_as(&pki, BROWSER_HOST, &upstream, &["--mode", "require"]);
    let origin = format!("https://{BROWSER_HOST}:{}", gateway.port());
    let with_alice = Browser::trusting(&pki.root());
    with_alice.import_p12(&p12, &password);
    let without = Browser::trusting(&pki.root());
    let _policy = AutoSelectPolicy::install(&origin, CLIENT_CA_CN);

    let page = with_alice.dump_dom(BROWSER_HOST, &format!("{origin}/required"));
    let echo = echoed(&page.dom).unwrap_or_else(|| {
        panic!(
            "no echo in the page:\n{}\nchromium said:\n{}\ngateway:\n{}",
            page.dom,
            page.stderr,
            gateway.output()
        )
    });
    assert_eq!(header(&echo, "x-client-cert-subject"), Some("CN=alice"));

    let page = without.dump_dom(BROWSER_HOST, &format!("{origin}/required"));
    assert!(
        echoed(&page.dom).is_none() && !page.dom.contains("x-client-cert"),
        "the page loaded without a certificate:\n{}",
        page.dom
    );
    // The load fails. Chromium's words for it depend on when it reads the gateway's alert
    // (TLS 1.3 sends it after the client's Finished): ERR_BAD_SSL_CLIENT_AUTH_CERT usually,
    // a closed connection sometimes; the gateway's log says exactly why.
    let error = page.load_error();
    assert!(
        error.is_some_and(|e| e.starts_with("net::ERR_")),
        "the page did not fail to load: {:?}\n{}\nchromium said:\n{}",
        page.status,
        page.dom,
        page.stderr
    );
    assert_refused_with(&gateway, "no_certificate");
    assert_only_alice_got_through(&upstream, "/required");
}

/// The page reached the upstream once, and nothing reached it without alice's identity.
/// (Chromium may also ask for /favicon.ico, in its own time.)
fn assert_only_alice_got_through(upstream: &Upstream, page: &str) {
    let seen = upstream.seen();
    assert_eq!(
        seen.iter().filter(|r| r.path == page).count(),
        1,
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .all(|r| r.header("x-client-cert-subject") == Some("CN=alice")),
        "{seen:?}"
    );
}

// ---------------------------------------------------------------------------------------
// A keep-alive HTTP/1.1 client over rustls, for what curl cannot show: several requests on
// one connection, an upgraded connection, the server certificate of each connection.

struct TlsClient {
    tls: BufReader<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>,
}

/// One HTTP/1.1 answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// Names lower-cased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

impl TlsClient {
    /// Connects to `port` as `localhost`, presenting `identity` (chain, key), and finishes
    /// the handshake.
    fn connect(port: u16, root: &Path, identity: (&Path, &Path)) -> TlsClient {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in pem_certs(root) {
            roots.add(cert).unwrap();
        }
        let key = mutual_x509::pem::parse(&std::fs::read(identity.1).unwrap()).unwrap();
        let key = PrivateKeyDer::Pkcs8(key[0].der.clone().into());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(pem_certs(identity.0), key)
            .unwrap();
        let mut connection = rustls::ClientConnection::new(
            Arc::new(config),
            ServerName::try_from("localhost").unwrap(),
        )
        .unwrap();
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        while connection.is_handshaking() {
            connection.complete_io(&mut tcp).unwrap();
        }
        TlsClient {
            tls: BufReader::new(rustls::StreamOwned::new(connection, tcp)),
        }
    }

    /// The serial of the server certificate this connection was made with, as `mutual
    /// inspect` prints it.
    fn server_serial(&self) -> String {
        let certificates = self.tls.get_ref().conn.peer_certificates().unwrap();
        mutual_x509::Certificate::from_der(&certificates[0], time::OffsetDateTime::now_utc())
            .unwrap()
            .serial
    }

    fn send(&mut self, bytes: &[u8]) {
        let stream = self.tls.get_mut();
        stream.write_all(bytes).unwrap();
        stream.flush().unwrap();
    }

    /// A keep-alive GET.
    fn get(&mut self, path: &str) -> Answer {
        self.send(format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n").as_bytes());
        self.answer()
    }

    /// Reads one answer: the head, then a body of content-length bytes (none for 1xx).
    fn answer(&mut self) -> Answer {
        let mut line = String::new();
        self.tls.read_line(&mut line).unwrap();
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {line:?}"));
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.tls.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let mut answer = Answer {
            status,
            headers,
            body: Vec::new(),
        };
        if status >= 200 {
            let length: usize = answer
                .header("content-length")
                .unwrap_or_else(|| panic!("no content-length: {answer:?}"))
                .parse()
                .unwrap();
            answer.body = self.read_exact(length);
        }
        answer
    }

    fn read_exact(&mut self, length: usize) -> Vec<u8> {
        let mut bytes = vec![0; length];
        self.tls.read_exact(&mut bytes).unwrap();
        bytes
    }
}

// ---------------------------------------------------------------------------------------
// HTTP features

#[test]
fn http2_clients_are_served_over_h2_and_the_upstream_gets_http1_with_the_identity() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let gateway = pki.gateway(&upstream, &["--client-ca", s(&pki.client_ca())]);
    let (chain, key) = alice(&pki);
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "30", "--http2", "-o", "-"])
        .args(["-w", "\n%{http_code} %{http_version}", "--cacert"])
        .arg(pki.root())
        .arg("--cert")
        .arg(&chain)
        .arg("--key")
        .arg(&key)
        .arg(gateway.url("/over-h2?x=1"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (body, status_version) = text.rsplit_once('\n').unwrap();
    assert_eq!(status_version, "200 2", "{body}");

    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].version, "HTTP/1.1");
    assert_eq!(seen[0].path, "/over-h2?x=1");
    assert_eq!(seen[0].header("x-client-cert-subject"), Some("CN=alice"));
    assert_eq!(
        seen[0].header("x-client-cert-san-uri"),
        Some("spiffe://acme.internal/user/alice")
    );
    // HTTP/2's :authority became the Host an HTTP/1.1 upstream needs.
    assert_eq!(
        seen[0].header("host"),
        Some(format!("localhost:{}", gateway.port()).as_str())
    );
    let logged = &gateway.events("request")[0];
    assert_eq!(logged["status"], 200);
    assert_eq!(logged["client"]["subject"], "CN=alice");
}

#[test]
fn an_upgraded_connection_passes_through_and_echoes_bytes_both_ways() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let gateway = pki.gateway(&upstream, &["--client-ca", s(&pki.client_ca())]);
    let (chain, key) = alice(&pki);
    let mut client = TlsClient::connect(gateway.port(), &pki.root(), (&chain, &key));
    client.send(
        b"GET /socket HTTP/1.1\r\nhost: localhost\r\nconnection: Upgrade\r\nupgrade: echo\r\nx-client-cert-subject: CN=admin\r\n\r\n",
    );
    let answer = client.answer();
    assert_eq!(answer.status, 101, "{answer:?}");
    assert_eq!(answer.header("upgrade"), Some("echo"), "{answer:?}");

    // Now a byte stream, no longer HTTP: what goes in comes back, several times over.
    for message in [
        &b"hello through the gateway"[..],
        b"\x00\x01\x02 binary too\r\n\r\n",
    ] {
        client.send(message);
        assert_eq!(client.read_exact(message.len()), message);
    }

    let seen = upstream.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].path, "/socket");
    assert_eq!(seen[0].header("upgrade"), Some("echo"));
    assert!(
        seen[0]
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("upgrade")),
        "{seen:?}"
    );
    // The upgrade request is judged and stripped like any other.
    assert_eq!(seen[0].header("x-client-cert-subject"), Some("CN=alice"));
}

#[test]
fn bodies_over_the_limit_get_413_and_smaller_ones_reach_the_upstream_whole() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let gateway = gateway_with_limits(&pki, &upstream, "max_body = \"1k\"");
    let (chain, key) = alice(&pki);
    let identity = Some((chain.as_path(), key.as_path()));
    let small = pki.path("small.txt");
    std::fs::write(&small, "x".repeat(1000)).unwrap();
    let large = pki.path("large.txt");
    std::fs::write(&large, "y".repeat(5000)).unwrap();
    let post = |file: &Path, chunked: bool| {
        let data = format!("@{}", s(file));
        let mut args = vec!["--data-binary", &data, "-H", "content-type: text/plain"];
        if chunked {
            args.extend(["-H", "transfer-encoding: chunked"]);
        }
        curl(&gateway, &pki.root(), identity, &args, "/upload").unwrap()
    };

    // Content-Length says it all before a byte of the body is read.
    let (status, body) = post(&large, false);
    assert_eq!(status, 413, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"], "body_too_large");
    assert_eq!(answer["status"], 413);
    assert!(
        answer["message"].as_str().unwrap().contains("1024 bytes"),
        "{answer}"
    );
    // Far over the limit and sent without waiting for `100 Continue`: curl is still
    // sending when the 413 is answered, and must read it rather than a reset.
    let far_over = pki.path("far-over.txt");
    std::fs::write(&far_over, "z".repeat(8 << 20)).unwrap();
    for _ in 0..5 {
        let data = format!("@{}", s(&far_over));
        let args = ["--data-binary", &data, "-H", "expect:"];
        let (status, body) = curl(&gateway, &pki.root(), identity, &args, "/upload").unwrap();
        assert_eq!(status, 413, "{body}\n{}", gateway.output());
    }
    // Chunked, the size is learnt while the body streams upstream: the same answer.
    let (status, body) = post(&large, true);
    assert_eq!(status, 413, "{body}\n{}", gateway.output());
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"], "body_too_large");
    assert!(
        upstream.seen().is_empty(),
        "no part of a refused body is a request: {:?}",
        upstream.seen()
    );

    for chunked in [false, true] {
        let (status, body) = post(&small, chunked);
        assert_eq!(status, 200, "chunked {chunked}: {body}");
        let echo: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(echo["method"], "POST");
        assert_eq!(echo["body"].as_str().unwrap(), "x".repeat(1000));
    }
    assert_eq!(upstream.seen().len(), 2);
    let statuses: Vec<Value> = gateway
        .events("request")
        .iter()
        .map(|e| e["status"].clone())
        .collect();
    assert_eq!(statuses, [413, 413, 413, 413, 413, 413, 413, 200, 200]);
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_refuses_new_connections_and_exits_0() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    // A drain time far longer than the test needs: the request ends when the test says.
    let mut gateway = gateway_with_limits(&pki, &upstream, "drain = \"2m\"");
    let port = gateway.port();
    let (chain, key) = alice(&pki);
    // A keep-alive connection with nothing in flight must not hold the drain up.
    let mut idle = TlsClient::connect(port, &pki.root(), (&chain, &key));
    assert_eq!(idle.get("/before").status, 200);
    let in_flight = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "120",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
        ])
        .arg("--cacert")
        .arg(pki.root())
        .arg("--cert")
        .arg(&chain)
        .arg("--key")
        .arg(&key)
        .arg(gateway.url("/slow"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The upstream holds /slow until released: once it has the request, it is in flight.
    assert!(
        wait_for(Duration::from_secs(30), || upstream
            .seen()
            .iter()
            .any(|r| r.path == "/slow")),
        "the slow request never reached the upstream:\n{}",
        gateway.output()
    );

    gateway.send_terminate();
    // The listener closes at once; the process stays to drain.
    assert!(
        wait_for(Duration::from_secs(30), || TcpStream::connect((
            "127.0.0.1",
            port
        ))
        .is_err()),
        "still accepting connections after SIGTERM:\n{}",
        gateway.output()
    );
    assert!(
        gateway.wait(Duration::from_millis(0)).is_none(),
        "the gateway exited with a request in flight:\n{}",
        gateway.output()
    );

    upstream.release();
    let output = in_flight.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (body, status) = text.rsplit_once('\n').unwrap();
    assert_eq!(status, "200", "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(body).unwrap()["path"],
        "/slow"
    );

    // Well within the drain time: the idle connection was closed, not waited for.
    let exit = gateway.wait(Duration::from_secs(60));
    assert_eq!(
        exit.and_then(|e| e.code()),
        Some(0),
        "{exit:?}\n{}",
        gateway.output()
    );
    assert!(gateway.output().contains("gateway stopped"));
    let statuses: Vec<(Value, Value)> = gateway
        .events("request")
        .iter()
        .map(|e| (e["path"].clone(), e["status"].clone()))
        .collect();
    assert!(
        statuses.contains(&("/slow".into(), 200.into())),
        "{statuses:?}"
    );
    drop(idle);
}

#[test]
fn a_new_server_certificate_is_loaded_without_dropping_a_keep_alive_connection() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let gateway = pki.gateway(&upstream, &["--client-ca", s(&pki.client_ca())]);
    let (chain, key) = alice(&pki);
    let old_serial = inspect_one(&pki.path("localhost.pem"))["serial"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut kept = TlsClient::connect(gateway.port(), &pki.root(), (&chain, &key));
    assert_eq!(kept.server_serial(), old_serial);
    assert_eq!(kept.get("/before").status, 200);

    // A new certificate for the same name, moved into place file by file (as a renewal
    // tool would), each file whole.
    let renewed = pki.path("renewed");
    std::fs::create_dir_all(&renewed).unwrap();
    mutual()
        .args(["issue", "server", "localhost"])
        .args(["--home", s(&pki.path("home")), "--out-dir", s(&renewed)])
        .assert()
        .success();
    let new_serial = inspect_one(&renewed.join("localhost.pem"))["serial"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_serial, old_serial);
    for name in ["localhost.chain.pem", "localhost.key.pem"] {
        let staged = pki.path(&format!("{name}.new"));
        std::fs::copy(renewed.join(name), &staged).unwrap();
        std::fs::rename(&staged, pki.path(name)).unwrap();
    }
    // The file watcher notices (it may first catch the certificate without its key, say
    // so, and keep the running one until the key follows).
    let reloaded_because = |why: &str| gateway.events("reloaded").iter().any(|e| e["why"] == why);
    assert!(
        wait_for(Duration::from_secs(30), || reloaded_because(
            "a file changed"
        )),
        "the changed files were not reloaded:\n{}",
        gateway.output()
    );
    let mut fresh = TlsClient::connect(gateway.port(), &pki.root(), (&chain, &key));
    assert_eq!(fresh.server_serial(), new_serial);
    assert_eq!(fresh.get("/fresh").json()["path"], "/fresh");

    // The connection made before the reload still works, on the same TLS session.
    for path in ["/after", "/after-again"] {
        let answer = kept.get(path);
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.json()["path"], path);
    }
    assert_eq!(kept.server_serial(), old_serial);

    // SIGHUP reloads too, and neither connection notices.
    gateway.hangup();
    assert!(
        wait_for(Duration::from_secs(30), || reloaded_because("SIGHUP")),
        "SIGHUP did not reload:\n{}",
        gateway.output()
    );
    for client in [&mut kept, &mut fresh] {
        assert_eq!(client.get("/after-sighup").status, 200);
    }
    assert_eq!(
        TlsClient::connect(gateway.port(), &pki.root(), (&chain, &key)).server_serial(),
        new_serial
    );
}

#[test]
fn requests_on_one_client_connection_reuse_one_upstream_connection() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let gateway = pki.gateway(&upstream, &["--client-ca", s(&pki.client_ca())]);
    let (chain, key) = alice(&pki);
    let mut client = TlsClient::connect(gateway.port(), &pki.root(), (&chain, &key));
    for n in 0..5 {
        let answer = client.get(&format!("/pooled/{n}"));
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.json()["path"], format!("/pooled/{n}"));
    }
    assert_eq!(upstream.seen().len(), 5);
    assert_eq!(upstream.connections(), 1, "{}", gateway.output());
    // Other client connections are served from their worker thread's pool (the kernel
    // spreads connections over one socket per worker): at most one upstream connection per
    // worker, however many clients come one after another.
    let workers = std::thread::available_parallelism().unwrap().get();
    for n in 0..4 {
        let mut other = TlsClient::connect(gateway.port(), &pki.root(), (&chain, &key));
        assert_eq!(other.get(&format!("/pooled/other/{n}")).status, 200);
    }
    assert!(
        upstream.connections() <= workers,
        "{} upstream connections for {workers} workers\n{}",
        upstream.connections(),
        gateway.output()
    );
}

/// An HTTP/2 client that goes quiet is sent a GOAWAY and closed after `idle_timeout`, as an
/// HTTP/1.1 one is; without it, a client answering the gateway's pings would hold the
/// connection for ever. (A real client, `openssl s_client -alpn h2`, sends the HTTP/2
/// preface and its SETTINGS, then nothing.)
#[test]
fn an_idle_http2_connection_gets_a_goaway_after_the_idle_timeout() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let gateway = gateway_with_limits(&pki, &upstream, "idle_timeout = \"1s\"");
    let (cert, key) = alice(&pki);
    let mut client = Command::new("openssl")
        .args(["s_client", "-quiet", "-alpn", "h2", "-connect"])
        .arg(format!("127.0.0.1:{}", gateway.port()))
        .arg("-CAfile")
        .arg(pki.root())
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = client.stdin.take().unwrap();
    // The client connection preface (RFC 9113 §3.4) and an empty SETTINGS frame.
    stdin
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .unwrap();
    stdin.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).unwrap();
    stdin.flush().unwrap();
    let mut stdout = client.stdout.take().unwrap();
    let started = Instant::now();
    // The reader parses frames (length: 3 bytes, type, flags, stream: 4, payload) and passes
    // each PING's payload on, to be acknowledged as a live client does: a graceful HTTP/2
    // shutdown is a GOAWAY, a PING, and the close once the PING is answered.
    let (pings, pinged) = std::sync::mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut types = Vec::new();
        let mut head = [0_u8; 9];
        while stdout.read_exact(&mut head).is_ok() {
            let length =
                usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
            let mut payload = vec![0_u8; length];
            if stdout.read_exact(&mut payload).is_err() {
                break;
            }
            types.push(head[3]);
            if head[3] == 6 && head[4] & 1 == 0 {
                let _ = pings.send(payload);
            }
        }
        types
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    while client.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the idle HTTP/2 connection was still open after 15 s"
        );
        if let Ok(payload) = pinged.recv_timeout(Duration::from_millis(50)) {
            let _ = stdin.write_all(&[0, 0, 8, 6, 1, 0, 0, 0, 0]);
            let _ = stdin.write_all(&payload);
            let _ = stdin.flush();
        }
    }
    let closed_after = started.elapsed();
    drop(stdin);
    let types = reader.join().unwrap();
    assert!(
        closed_after >= Duration::from_millis(900),
        "closed after {closed_after:?}, before the idle timeout"
    );
    assert!(
        types.contains(&7),
        "no GOAWAY among the frame types {types:?}"
    );
}
