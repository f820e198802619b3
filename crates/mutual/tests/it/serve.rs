//! `mutual serve` end to end: the real binary on loopback ports, called with `curl`
//! (client certificates over mTLS), checked by `openssl ocsp`, `openssl crl`, `openssl
//! verify` and `openssl pkcs12` — the relying parties and clients users have.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::{s, start_serve as start};
use mutual_test::{MutualServe, openssl, openssl_output};
use serde_json::{Value, json};

/// Issues over the API with the service-generated key as PEM; writes NAME.pem (chain
/// without the root) and NAME.key into `dir`.
fn issue_pem(service: &MutualServe, dir: &Path, request: Value) -> (PathBuf, PathBuf, Value) {
    let name = request["name"].as_str().unwrap().to_owned();
    let mut request = request;
    request["format"] = "pem".into();
    let (status, body) = service.post_admin("/api/v1/issue", &request);
    assert_eq!(status, 201, "{body:#}");
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, body["chain"].as_str().unwrap()).unwrap();
    std::fs::write(&key, body["key"].as_str().unwrap()).unwrap();
    (cert, key, body)
}

fn certificate_count(service: &MutualServe) -> usize {
    let (status, body) = service.curl_admin(&[&service.https("/api/v1/certificates?limit=1000")]);
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["certificates"].as_array().unwrap().len()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_fresh_home_becomes_a_running_ca_and_a_restart_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut service = start(dir.path());
    let banner = service.output();
    assert!(banner.contains("Created a CA"), "{banner}");
    assert!(banner.contains("admin.p12"), "{banner}");

    // Secrets are 0600; the admin bundle opens with the password written beside it.
    for secret in [
        "root-passphrase.txt",
        "admin.p12",
        "admin.p12.password",
        "admin.key.pem",
        "serve/tls.key.pem",
        "ca/root.key.pem",
        "ca/client-ca.key.pem",
    ] {
        assert_eq!(mode(&home.join(secret)), 0o600, "{secret}");
    }
    let p12_info = openssl(&[
        "pkcs12",
        "-in",
        s(&home.join("admin.p12")),
        "-passin",
        &format!("file:{}", s(&home.join("admin.p12.password"))),
        "-nokeys",
        "-info",
    ]);
    assert!(p12_info.contains("subject=CN = admin"), "{p12_info}");
    // The root key stays encrypted with the passphrase the service made up.
    let root_key = std::fs::read_to_string(home.join("ca/root.key.pem")).unwrap();
    assert!(root_key.contains("ENCRYPTED PRIVATE KEY"));
    openssl(&[
        "pkey",
        "-in",
        s(&home.join("ca/root.key.pem")),
        "-passin",
        &format!("file:{}", s(&home.join("root-passphrase.txt"))),
        "-noout",
    ]);

    // Issued certificates point at the plain-HTTP listener.
    let config = std::fs::read_to_string(home.join("mutual.toml")).unwrap();
    assert!(
        config.contains(&format!(
            "url = \"http://127.0.0.1:{}\"",
            service.http_port()
        )),
        "{config}"
    );
    // The service's own certificate names localhost and chains to the root for TLS servers.
    openssl(&[
        "verify",
        "-CAfile",
        s(&service.root_pem()),
        "-untrusted",
        s(&service.ca_pem("server-ca")),
        "-purpose",
        "sslserver",
        "-verify_hostname",
        "localhost",
        s(&home.join("serve/tls.pem")),
    ]);

    for url in [service.https("/health"), service.http("/health")] {
        let (status, body) = service.curl(None, &[&url]);
        assert_eq!((status, body.as_str()), (200, "{\"status\":\"ok\"}"));
    }
    // The OpenAPI document describes every route the service has.
    let (status, body) = service.curl(None, &[&service.https("/api/v1/openapi.json")]);
    assert_eq!(status, 200);
    let openapi: Value = serde_json::from_str(&body).unwrap();
    for path in [
        "/api/v1/sign",
        "/api/v1/issue",
        "/api/v1/revoke",
        "/api/v1/certificates",
        "/api/v1/certificates/{serial}",
        "/api/v1/ca",
        "/api/v1/crl",
        "/api/v1/health",
        "/api/v1/metrics",
        "/api/v1/tokens",
        "/api/v1/enroll",
        "/api/v1/renew",
        "/metrics",
        "/health",
        "/ocsp",
        "/ocsp/{request}",
        "/crl/{file}",
        "/ca/{file}",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} undocumented");
    }

    let tls_before = std::fs::read(home.join("serve/tls.pem")).unwrap();
    let p12_before = std::fs::read(home.join("admin.p12")).unwrap();
    assert!(service.terminate(Duration::from_secs(20)).is_some());
    drop(service);

    let service = start(dir.path());
    let banner = service.output();
    assert!(!banner.contains("Created a CA"), "{banner}");
    assert!(!banner.contains("admin.p12"), "{banner}");
    assert_eq!(
        std::fs::read(home.join("serve/tls.pem")).unwrap(),
        tls_before
    );
    assert_eq!(std::fs::read(home.join("admin.p12")).unwrap(), p12_before);
    // The admin of the first start is still the admin.
    let (status, _) = service.curl_admin(&[&service.https("/api/v1/certificates")]);
    assert_eq!(status, 200);
}

#[test]
fn openssl_sees_good_then_revoked_over_ocsp_and_crl() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (alice, _, issued) = issue_pem(
        &service,
        dir.path(),
        json!({ "profile": "client", "name": "alice", "email": ["alice@example.com"] }),
    );
    let serial = issued["serial"].as_str().unwrap().to_owned();
    let client_ca = service.ca_pem("client-ca");
    openssl(&[
        "verify",
        "-CAfile",
        s(&service.root_pem()),
        "-untrusted",
        s(&client_ca),
        "-purpose",
        "sslclient",
        s(&alice),
    ]);
    // The certificate names the plain-HTTP responder and CRL.
    let text = openssl(&["x509", "-in", s(&alice), "-noout", "-text"]);
    assert!(
        text.contains(&format!("OCSP - URI:{}", service.http("/ocsp"))),
        "{text}"
    );
    assert!(text.contains(&service.http("/crl/client-ca.crl")), "{text}");

    let output = service.openssl_ocsp(&client_ca, &alice, &["-resp_text"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("Response verify OK"), "{stderr}");
    assert!(stdout.contains(&format!("{}: good", s(&alice))), "{stdout}");
    assert!(stdout.contains("Client CA OCSP Responder"), "{stdout}");

    // The same question by GET, base64 in the path, as RFC 6960 A.1 allows.
    let request = dir.path().join("request.der");
    openssl(&[
        "ocsp",
        "-issuer",
        s(&client_ca),
        "-cert",
        s(&alice),
        "-no_nonce",
        "-reqout",
        s(&request),
    ]);
    let encoded = openssl(&["base64", "-A", "-in", s(&request)]);
    let encoded = encoded
        .trim()
        .replace('/', "%2F")
        .replace('+', "%2B")
        .replace('=', "%3D");
    let response = dir.path().join("response.der");
    let headers = Command::new("curl")
        .args(["-sS", "-D", "-", "-o", s(&response)])
        .arg(service.http(&format!("/ocsp/{encoded}")))
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&headers.stdout).to_ascii_lowercase();
    assert!(
        headers.contains("content-type: application/ocsp-response"),
        "{headers}"
    );
    assert!(headers.contains("cache-control: max-age="), "{headers}");
    let bundle = dir.path().join("trust.pem");
    std::fs::write(
        &bundle,
        format!(
            "{}{}",
            std::fs::read_to_string(service.root_pem()).unwrap(),
            std::fs::read_to_string(&client_ca).unwrap()
        ),
    )
    .unwrap();
    let read = openssl_output(&[
        "ocsp",
        "-respin",
        s(&response),
        "-issuer",
        s(&client_ca),
        "-cert",
        s(&alice),
        "-CAfile",
        s(&service.root_pem()),
    ]);
    assert!(
        String::from_utf8_lossy(&read.stdout).contains(": good"),
        "{}{}",
        String::from_utf8_lossy(&read.stdout),
        String::from_utf8_lossy(&read.stderr)
    );

    let (status, revoked) = service.post_admin(
        "/api/v1/revoke",
        &json!({ "certificate": serial, "reason": "keyCompromise" }),
    );
    assert_eq!(status, 200, "{revoked:#}");
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revocation_reason"], "keyCompromise");
    // Twice is a conflict, not a second revocation.
    let (status, again) = service.post_admin("/api/v1/revoke", &json!({ "certificate": serial }));
    assert_eq!(
        (status, again["error"].as_str()),
        (409, Some("already_revoked"))
    );

    let output = service.openssl_ocsp(&client_ca, &alice, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("{}: revoked", s(&alice))),
        "{stdout}"
    );
    assert!(stdout.contains("Reason: keyCompromise"), "{stdout}");
    assert!(stdout.contains("Revocation Time:"), "{stdout}");

    // The CRL over plain HTTP: signed by the client CA, listing alice with the reason.
    let crl_der = dir.path().join("client-ca.crl");
    let fetched = Command::new("curl")
        .args(["-sS", "--fail", "-o", s(&crl_der)])
        .arg(service.http("/crl/client-ca.crl"))
        .status()
        .unwrap();
    assert!(fetched.success());
    let crl_pem = dir.path().join("client-ca.crl.pem");
    openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        s(&crl_der),
        "-out",
        s(&crl_pem),
    ]);
    let crl_output = openssl_output(&[
        "crl",
        "-in",
        s(&crl_pem),
        "-noout",
        "-text",
        "-CAfile",
        s(&bundle),
    ]);
    let crl_text = String::from_utf8_lossy(&crl_output.stdout);
    assert!(
        String::from_utf8_lossy(&crl_output.stderr).contains("verify OK"),
        "{}",
        String::from_utf8_lossy(&crl_output.stderr)
    );
    assert!(crl_text.contains(&serial), "{crl_text}");
    assert!(crl_text.contains("Key Compromise"), "{crl_text}");
    let verify = openssl_output(&[
        "verify",
        "-crl_check",
        "-CAfile",
        s(&bundle),
        "-CRLfile",
        s(&crl_pem),
        s(&alice),
    ]);
    assert!(!verify.status.success());
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("certificate revoked")
            || String::from_utf8_lossy(&verify.stderr).contains("certificate revoked"),
        "{verify:?}"
    );
}

#[test]
fn only_an_admin_certificate_administers_and_the_others_hear_why() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let list = service.https("/api/v1/certificates");

    let (status, body) = service.curl(None, &[&list]);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 401, "{body:#}");
    assert_eq!(body["error"], "client_certificate_required");
    assert!(
        body["expected"].as_str().unwrap().contains("admin"),
        "{body:#}"
    );

    // A client certificate of this CA, but not an admin's.
    let (alice, alice_key, _) = issue_pem(
        &service,
        dir.path(),
        json!({ "profile": "client", "name": "alice" }),
    );
    let (status, body) = service.curl(Some((&alice, &alice_key)), &[&list]);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("wrong_profile")),
        "{body:#}"
    );

    // A server certificate presented as a client certificate.
    let (web, web_key, _) = issue_pem(
        &service,
        dir.path(),
        json!({ "profile": "server", "name": "web.example.internal", "dns": ["web.example.internal"] }),
    );
    let (status, body) = service.curl(Some((&web, &web_key)), &[&list]);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 401, "{body:#}");
    assert_eq!(body["error"], "client_certificate_invalid");
    let codes: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"eku_mismatch"), "{body:#}");

    // A client certificate from another CA altogether (made by openssl).
    let corpus = crate::corpus();
    let (status, body) = service.curl(
        Some((&corpus.cert("client"), &corpus.key("client"))),
        &[&list],
    );
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 401, "{body:#}");
    assert!(
        body["details"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "unknown_issuer"),
        "{body:#}"
    );

    // A second admin works until it is revoked.
    let (admin2, admin2_key, issued) = issue_pem(
        &service,
        dir.path(),
        json!({ "profile": "admin", "name": "ops" }),
    );
    let (status, _) = service.curl(Some((&admin2, &admin2_key)), &[&list]);
    assert_eq!(status, 200);
    let (status, _) = service.post_admin(
        "/api/v1/revoke",
        &json!({ "certificate": issued["fingerprint_sha256"], "reason": "affiliationChanged" }),
    );
    assert_eq!(status, 200);
    let (status, body) = service.curl(Some((&admin2, &admin2_key)), &[&list]);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("certificate_revoked")),
        "{body:#}"
    );

    // Public endpoints stay open without a certificate.
    let (status, body) = service.curl(None, &[&service.https("/api/v1/ca")]);
    assert_eq!(status, 200);
    let ca: Value = serde_json::from_str(&body).unwrap();
    assert!(ca["root"].as_str().unwrap().contains("BEGIN CERTIFICATE"));
}

/// A kept-alive connection remembers its certificate's inventory record between requests;
/// a revocation must still end it: at once when the service revokes, and within the
/// epoch check (a second) when another process on the same store does.
#[test]
fn a_revoked_admin_is_refused_on_a_connection_kept_alive() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let root = reqwest::Certificate::from_pem(&std::fs::read(service.root_pem()).unwrap()).unwrap();
    let client_for = |cert: &Path, key: &Path| {
        let mut identity = std::fs::read(cert).unwrap();
        identity.extend(std::fs::read(key).unwrap());
        reqwest::blocking::Client::builder()
            .add_root_certificate(root.clone())
            .identity(reqwest::Identity::from_pem(&identity).unwrap())
            .http1_only()
            .pool_max_idle_per_host(1)
            .build()
            .unwrap()
    };
    let list = service.https("/api/v1/certificates");
    let get = |client: &reqwest::blocking::Client| {
        let response = client.get(&list).send().unwrap();
        let status = response.status().as_u16();
        let body: Value = serde_json::from_str(&response.text().unwrap()).unwrap();
        (status, body["error"].as_str().map(str::to_owned))
    };

    // Revoked through the service.
    let (cert, key, issued) = issue_pem(
        &service,
        dir.path(),
        json!({ "profile": "admin", "name": "ops-api" }),
    );
    let client = client_for(&cert, &key);
    for _ in 0..3 {
        assert_eq!(get(&client), (200, None));
    }
    let (status, _) = service.post_admin(
        "/api/v1/revoke",
        &json!({ "certificate": issued["serial"], "reason": "affiliationChanged" }),
    );
    assert_eq!(status, 200);
    assert_eq!(
        get(&client),
        (403, Some("certificate_revoked".to_owned())),
        "refused on the next request"
    );

    // Revoked by `mutual revoke` on the same home, a process of its own.
    let (cert, key, issued) = issue_pem(
        &service,
        dir.path(),
        json!({ "profile": "admin", "name": "ops-cli" }),
    );
    let client = client_for(&cert, &key);
    for _ in 0..3 {
        assert_eq!(get(&client), (200, None));
    }
    let revoke = crate::mutual()
        .args(["revoke", issued["serial"].as_str().unwrap(), "--home"])
        .arg(service.home())
        .output()
        .unwrap();
    assert!(
        revoke.status.success(),
        "{}",
        String::from_utf8_lossy(&revoke.stderr)
    );
    let revoked = std::time::Instant::now();
    loop {
        match get(&client) {
            (403, Some(code)) if code == "certificate_revoked" => break,
            (200, None) => {}
            other => panic!("{other:?}"),
        }
        // The epoch check runs every second; five allow for a loaded machine.
        assert!(
            revoked.elapsed() < Duration::from_secs(5),
            "still accepted {:?} after the revocation",
            revoked.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn bad_requests_get_json_errors_and_issue_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let before = certificate_count(&service);
    let post = |path: &str, body: &str, content_type: &str| {
        let (status, text) = service.curl_admin(&[
            "-H",
            &format!("content-type: {content_type}"),
            "--data-binary",
            body,
            &service.https(path),
        ]);
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path} {body:.40}: not JSON ({e}): {text}"));
        (status, value)
    };

    let (status, body) = post("/api/v1/sign", "{not json", "application/json");
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("bad_json")),
        "{body:#}"
    );
    let (status, body) = post(
        "/api/v1/sign",
        "{\"profile\":\"client\"}",
        "application/json",
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("bad_request_body")),
        "{body:#}"
    );
    let (status, body) = post("/api/v1/sign", "{}", "text/plain");
    assert_eq!(
        (status, body["error"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let huge = format!(
        "{{\"csr\":\"{}\",\"profile\":\"client\"}}",
        "A".repeat(200_000)
    );
    let huge_file = dir.path().join("huge.json");
    std::fs::write(&huge_file, huge).unwrap();
    let (status, body) = post(
        "/api/v1/sign",
        &format!("@{}", s(&huge_file)),
        "application/json",
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("body_too_large")),
        "{body:#}"
    );
    // Far over the limit and sent without waiting for `100 Continue`: the 413 is answered
    // from Content-Length while curl is still sending, and must reach it all the same
    // rather than a reset ("Send failure: Broken pipe"); the service lingers.
    let far_over = dir.path().join("far-over.json");
    std::fs::write(
        &far_over,
        format!(
            "{{\"csr\":\"{}\",\"profile\":\"client\"}}",
            "A".repeat(8 << 20)
        ),
    )
    .unwrap();
    for _ in 0..5 {
        let (status, body) = service.curl_admin(&[
            "-H",
            "content-type: application/json",
            "-H",
            "expect:",
            "--data-binary",
            &format!("@{}", s(&far_over)),
            &service.https("/api/v1/sign"),
        ]);
        assert_eq!(status, 413, "{body}");
    }
    let (status, body) = post(
        "/api/v1/issue",
        "{\"profile\":\"nonsense\",\"name\":\"x\"}",
        "application/json",
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unknown_profile"))
    );
    // The profile's rules: a server certificate needs a host name.
    let (status, body) = post(
        "/api/v1/issue",
        "{\"profile\":\"server\",\"name\":\"no sans\"}",
        "application/json",
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("refused")),
        "{body:#}"
    );

    // A CSR whose signature does not verify: one byte of the signature flipped.
    let key = dir.path().join("k.pem");
    let csr = dir.path().join("r.der");
    openssl(&[
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
        "/CN=mallory",
        "-outform",
        "DER",
        "-out",
        s(&csr),
    ]);
    let mut der = std::fs::read(&csr).unwrap();
    let last = der.len() - 3;
    der[last] ^= 0x55;
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    let (status, body) = post(
        "/api/v1/sign",
        &json!({ "csr": b64, "profile": "client" }).to_string(),
        "application/json",
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("refused")),
        "{body:#}"
    );
    assert_eq!(body["details"][0]["code"], "bad_csr", "{body:#}");

    // OCSP: garbage is malformedRequest, a question about another CA unauthorized.
    let answer = |bytes: &[u8]| {
        let file = dir.path().join("ocsp-request.der");
        std::fs::write(&file, bytes).unwrap();
        Command::new("curl")
            .args([
                "-sS",
                "-H",
                "content-type: application/ocsp-request",
                "--data-binary",
            ])
            .arg(format!("@{}", s(&file)))
            .arg(service.http("/ocsp"))
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(answer(b"\x30\x03garbage"), [0x30, 0x03, 0x0a, 0x01, 0x01]);
    let corpus = crate::corpus();
    let foreign = dir.path().join("foreign.der");
    openssl(&[
        "ocsp",
        "-issuer",
        s(&corpus.cert("intermediate")),
        "-cert",
        s(&corpus.cert("client")),
        "-reqout",
        s(&foreign),
    ]);
    assert_eq!(
        answer(&std::fs::read(&foreign).unwrap()),
        [0x30, 0x03, 0x0a, 0x01, 0x06]
    );

    assert_eq!(certificate_count(&service), before, "something was issued");
}

#[test]
fn a_csr_from_openssl_and_a_pkcs12_from_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let key = dir.path().join("api.key");
    let csr = dir.path().join("api.csr");
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        s(&key),
        "-subj",
        "/CN=api.example.internal",
        "-addext",
        "subjectAltName=DNS:api.example.internal",
        "-addext",
        "extendedKeyUsage=clientAuth",
        "-out",
        s(&csr),
    ]);
    let (status, body) = service.post_admin(
        "/api/v1/sign",
        &json!({ "csr": std::fs::read_to_string(&csr).unwrap(), "profile": "server", "days": 30 }),
    );
    assert_eq!(status, 201, "{body:#}");
    // The CSR's EKU is the profile's to decide, and the answer says it was ignored.
    assert!(
        body["ignored"]
            .to_string()
            .to_lowercase()
            .contains("extended key usage"),
        "{body:#}"
    );
    let cert = dir.path().join("api.pem");
    std::fs::write(&cert, body["chain"].as_str().unwrap()).unwrap();
    openssl(&[
        "verify",
        "-CAfile",
        s(&service.root_pem()),
        "-untrusted",
        s(&service.ca_pem("server-ca")),
        "-purpose",
        "sslserver",
        "-verify_hostname",
        "api.example.internal",
        s(&cert),
    ]);
    let modulus = |args: &[&str]| openssl(args);
    assert_eq!(
        modulus(&["x509", "-in", s(&cert), "-noout", "-pubkey"]),
        modulus(&["pkey", "-in", s(&key), "-pubout"])
    );

    let (status, body) = service.post_admin(
        "/api/v1/issue",
        &json!({ "profile": "client", "name": "bob", "uri": ["spiffe://example.internal/bob"] }),
    );
    assert_eq!(status, 201, "{body:#}");
    use base64::Engine as _;
    let p12 = dir.path().join("bob.p12");
    std::fs::write(
        &p12,
        base64::engine::general_purpose::STANDARD
            .decode(body["pkcs12"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let password = body["password"].as_str().unwrap();
    let info = openssl(&[
        "pkcs12",
        "-in",
        s(&p12),
        "-passin",
        &format!("pass:{password}"),
        "-nodes",
    ]);
    assert!(info.contains("subject=CN = bob"), "{info}");
    assert!(info.contains("BEGIN PRIVATE KEY"), "{info}");
    assert!(info.contains("Mutual Client CA"), "{info}");
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = start(dir.path());
    let (cert, key) = service.admin();
    // An RSA-4096 key and a PKCS#12 at 600,000 iterations: a request that takes a while.
    let request =
        json!({ "profile": "client", "name": "slow", "key_type": "rsa-4096" }).to_string();
    let url = service.https("/api/v1/issue");
    let root = service.root_pem();
    let in_flight = std::thread::spawn(move || {
        Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(root)
            .arg("--cert")
            .arg(cert)
            .arg("--key")
            .arg(key)
            .args([
                "-H",
                "content-type: application/json",
                "--data-binary",
                &request,
            ])
            .arg(url)
            .output()
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(300));
    let status = service.terminate(Duration::from_secs(30));
    let output = in_flight.join().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "201", "{output:?}");
    let status = status.expect("mutual serve did not exit after SIGTERM");
    assert!(status.success(), "{status:?}\n{}", service.output());
    assert!(
        service.output().contains("mutual: stopped"),
        "{}",
        service.output()
    );
}

#[test]
fn metrics_count_the_inventory_and_the_audit_trail_names_who_did_what() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (alice, _, issued) = issue_pem(
        &service,
        dir.path(),
        json!({ "profile": "client", "name": "alice" }),
    );
    let (status, _) = service.post_admin(
        "/api/v1/revoke",
        &json!({ "certificate": issued["serial"], "reason": "superseded" }),
    );
    assert_eq!(status, 200);
    let ocsp = service.openssl_ocsp(&service.ca_pem("client-ca"), &alice, &[]);
    assert!(ocsp.status.success());
    let csr = dir.path().join("web.csr");
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        s(&dir.path().join("web.key")),
        "-subj",
        "/CN=web.example.internal",
        "-addext",
        "subjectAltName=DNS:web.example.internal",
        "-out",
        s(&csr),
    ]);
    let (status, signed) = service.post_admin(
        "/api/v1/sign",
        &json!({ "csr": std::fs::read_to_string(&csr).unwrap(), "profile": "server", "days": 30 }),
    );
    assert_eq!(status, 201, "{signed:#}");
    // A local command on the same home while the service runs.
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let local = crate::mutual()
        .args(["issue", "client", "bob", "--home"])
        .arg(service.home())
        .arg("--out-dir")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        local.status.success(),
        "{}",
        String::from_utf8_lossy(&local.stderr)
    );

    let (status, metrics) = service.curl(None, &[&service.http("/metrics")]);
    assert_eq!(status, 200);
    for line in [
        "mutual_certificates{profile=\"client\",status=\"revoked\"} 1",
        "mutual_certificates{profile=\"client\",status=\"valid\"} 1",
        "mutual_certificates{profile=\"admin\",status=\"valid\"} 1",
        "mutual_certificates_expiring{within=\"7d\"} 2",
        "mutual_issuance_seconds_count{endpoint=\"issue\"} 1",
        "mutual_ocsp_response_seconds_count 1",
        "mutual_revocations_total{reason=\"superseded\"} 1",
    ] {
        assert!(metrics.contains(line), "no `{line}` in:\n{metrics}");
    }

    let audit = crate::mutual()
        .args(["audit", "--format", "json", "--home"])
        .arg(service.home())
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    let audit: Value = serde_json::from_slice(&audit.stdout).unwrap();
    let entries = audit["entries"].as_array().unwrap();
    let find = |action: &str, subject: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action && e["subject"] == subject)
            .unwrap_or_else(|| panic!("no {action} of {subject} in {audit:#}"))
    };
    let admin = openssl(&[
        "x509",
        "-in",
        s(&service.admin().0),
        "-noout",
        "-fingerprint",
        "-sha256",
    ]);
    let admin = admin.trim().rsplit('=').next().unwrap().replace(':', "");
    assert_eq!(find("issue", "CN=alice")["actor"], format!("admin:{admin}"));
    assert_eq!(find("revoke", "CN=alice")["detail"], "reason superseded");
    let sign = find("sign", "CN=web.example.internal");
    assert_eq!(sign["actor"], format!("admin:{admin}"));
    assert_eq!(sign["detail"], "profile server");
    // Each issuance has exactly one entry, written in its certificate's own transaction
    // (so at the time the store recorded it); a revocation adds its own.
    for (action, issued) in [("issue", &issued), ("sign", &signed)] {
        let about: Vec<&Value> = entries
            .iter()
            .filter(|e| e["serial"] == issued["serial"] && e["action"] != "revoke")
            .collect();
        assert_eq!(about.len(), 1, "{action}: {audit:#}");
        assert_eq!(about[0]["action"], action);
        assert_eq!(about[0]["at"], issued["issued_at"], "{issued:#}");
    }
    let bob: Vec<&Value> = entries
        .iter()
        .filter(|e| e["subject"] == "CN=bob")
        .collect();
    assert_eq!(bob.len(), 1, "{audit:#}");
    assert!(
        find("issue", "CN=bob")["actor"]
            .as_str()
            .unwrap()
            .starts_with("local:")
    );
    // Newest first.
    assert_eq!(entries[0]["subject"], "CN=bob", "{audit:#}");
}

#[test]
fn an_existing_ca_with_encrypted_keys_needs_its_passphrase_to_serve() {
    let ca = crate::ca::Ca::init(&[]);
    // Without the passphrase the service cannot sign unattended: one clear line, exit 2.
    let output = crate::mutual()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            "--home",
        ])
        .arg(ca.home())
        .env_remove("MUTUAL_PASSPHRASE")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--passphrase-file"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    // With it, the service serves the CA that was there: no new CA, no admin.p12 made.
    let pass = ca.pass();
    let service = MutualServe::start(
        &assert_cmd::cargo::cargo_bin("mutual"),
        &ca.home(),
        &["--passphrase-file", s(&pass)],
    );
    let banner = service.output();
    assert!(!banner.contains("Created a CA"), "{banner}");
    assert!(!ca.home().join("admin.p12").exists());
    let (status, body) = service.curl(None, &[&service.http("/ca/client-ca.crt")]);
    assert_eq!(status, 200, "{body}");
}
