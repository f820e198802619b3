//! Enrollment tokens, `POST /api/v1/enroll` and `POST /api/v1/renew` end to end: tokens made
//! by `mutual token create` (and the admin API), keys and CSRs made by `openssl req`, calls
//! made by `curl` (with the enrolled certificate over mTLS for renewal), certificates
//! checked by `openssl verify`.

use std::path::{Path, PathBuf};
use std::process::Command;

use mutual_ca::home::Home;
use mutual_ca::profile::ProfileKind;
use mutual_ca::store::tokens::{EnrollmentToken, NewToken};
use mutual_ca::store::{AuditAction, AuditQuery, Store};
use mutual_test::{MutualServe, openssl};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::mutual;
use crate::{s, start_serve as start};

/// `mutual token create --format json` on the service's home; the parsed report.
fn token_create(service: &MutualServe, profile: &str, subject: &str, ttl: &str) -> Value {
    let output = mutual()
        .args(["token", "create", "--home", s(service.home())])
        .args(["--profile", profile, "--subject", subject, "--ttl", ttl])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "mutual token create: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A new P-256 key and a CSR for `/CN=cn` (with `-addext` arguments), by `openssl req`;
/// (key path, CSR PEM).
fn key_and_csr(dir: &Path, name: &str, cn: &str, addext: &[&str]) -> (PathBuf, String) {
    let key = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let mut args = vec![
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        s(&key),
        "-out",
        s(&csr),
    ];
    let subject = format!("/CN={cn}");
    args.extend(["-subj", &subject]);
    for ext in addext {
        args.extend(["-addext", ext]);
    }
    openssl(&args);
    (key, std::fs::read_to_string(&csr).unwrap())
}

/// `curl` POSTing `body` as JSON to `path`, presenting `identity` when given.
fn post(
    service: &MutualServe,
    identity: Option<(&Path, &Path)>,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let body = body.to_string();
    let (status, text) = service.curl(
        identity,
        &[
            "-H",
            "content-type: application/json",
            "--data-binary",
            &body,
            &service.https(path),
        ],
    );
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {text}"));
    (status, value)
}

fn enroll(service: &MutualServe, token: &str, csr: &str) -> (u16, Value) {
    post(
        service,
        None,
        "/api/v1/enroll",
        &json!({ "token": token, "csr": csr }),
    )
}

fn certificate_count(service: &MutualServe) -> usize {
    let (status, body) = service.curl_admin(&[&service.https("/api/v1/certificates?limit=1000")]);
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["certificates"].as_array().unwrap().len()
}

/// Writes an issued body's certificate to `dir/name.pem`.
fn write_certificate(dir: &Path, name: &str, issued: &Value) -> PathBuf {
    let path = dir.join(format!("{name}.pem"));
    std::fs::write(&path, issued["certificate"].as_str().unwrap()).unwrap();
    path
}

/// `openssl verify` as a TLS server would judge a client certificate of this CA.
fn verify_client(service: &MutualServe, cert: &Path) {
    let out = openssl(&[
        "verify",
        "-CAfile",
        s(&service.root_pem()),
        "-untrusted",
        s(&service.ca_pem("client-ca")),
        "-purpose",
        "sslclient",
        s(cert),
    ]);
    assert!(out.contains(": OK"), "{out}");
}

/// The PEM with one base64 digit of its last line changed: the DER still decodes (the
/// signature is the last thing in a CSR) but the signature no longer verifies.
fn flip_signature_bits(pem: &str) -> String {
    let mut lines: Vec<String> = pem.lines().map(str::to_owned).collect();
    let last_body = lines.len() - 2;
    let line = &mut lines[last_body];
    let at = line.len() / 2;
    let digit = if &line[at..=at] == "A" { "B" } else { "A" };
    line.replace_range(at..=at, digit);
    lines.join("\n") + "\n"
}

fn public_key(cert: &Path) -> String {
    openssl(&["x509", "-noout", "-pubkey", "-in", s(cert)])
}

fn error_code(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

/// Runs `work` against the service's store, opened beside the running service.
fn with_store<T>(service: &MutualServe, work: impl AsyncFnOnce(&Store) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let home = Home::resolve(Some(service.home()));
        let store = Store::open_sqlite(&home.store()).await.unwrap();
        let result = work(&store).await;
        store.close().await;
        result
    })
}

#[test]
fn a_token_enrolls_once_and_the_certificate_renews_itself_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let created = token_create(&service, "client", "device-123", "1h");
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(token.starts_with(&format!("mtk_{id}_")), "{created}");
    assert_eq!(created["profile"], "client");
    assert_eq!(created["subject"], "device-123");

    // The device: its own key, a CSR, the token; no client certificate.
    let (key, csr) = key_and_csr(dir.path(), "device", "device-123", &[]);
    let before = certificate_count(&service);
    let (status, issued) = enroll(&service, &token, &csr);
    assert_eq!(status, 201, "{issued:#}");
    assert_eq!(issued["profile"], "client");
    assert_eq!(issued["subject"], "CN=device-123");
    assert_eq!(issued["requester"], format!("token:{id}"));
    assert!(
        issued["chain"]
            .as_str()
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    let cert = write_certificate(dir.path(), "device", &issued);
    verify_client(&service, &cert);
    // `[server] url` in mutual.toml: relying parties are told where to check it.
    let text = openssl(&["x509", "-noout", "-text", "-in", s(&cert)]);
    assert!(
        text.contains(&format!("OCSP - URI:{}", service.http("/ocsp"))),
        "{text}"
    );
    assert_eq!(certificate_count(&service), before + 1);

    // The same token again: refused, with when and for which serial; nothing issued.
    let serial = issued["serial"].as_str().unwrap().to_owned();
    let (_, csr2) = key_and_csr(dir.path(), "device-again", "device-123", &[]);
    let (status, body) = enroll(&service, &token, &csr2);
    assert_eq!((status, error_code(&body)), (409, "token_used"), "{body:#}");
    assert!(
        body["message"].as_str().unwrap().contains(&serial),
        "{body:#}"
    );
    assert_eq!(certificate_count(&service), before + 1);

    // Renewal with the enrolled certificate over mTLS, no body: same key, same identity.
    let (status, renewed) = service.curl(
        Some((&cert, &key)),
        &["-X", "POST", &service.https("/api/v1/renew")],
    );
    assert_eq!(status, 201, "{renewed}");
    let renewed: Value = serde_json::from_str(&renewed).unwrap();
    assert_ne!(renewed["serial"], issued["serial"]);
    assert_eq!(renewed["renews"], issued["serial"]);
    assert_eq!(renewed["subject"], issued["subject"]);
    assert_eq!(renewed["sans"], issued["sans"]);
    assert_eq!(renewed["profile"], "client");
    let renewed_cert = write_certificate(dir.path(), "renewed", &renewed);
    verify_client(&service, &renewed_cert);
    assert_eq!(public_key(&renewed_cert), public_key(&cert));

    // Renewal with a new key: the CSR gives the key, never the names.
    let (new_key, new_csr) = key_and_csr(dir.path(), "rekey", "someone-else", &[]);
    let (status, rekeyed) = post(
        &service,
        Some((&renewed_cert, &key)),
        "/api/v1/renew",
        &json!({ "csr": new_csr }),
    );
    assert_eq!(status, 201, "{rekeyed:#}");
    assert_eq!(rekeyed["subject"], "CN=device-123");
    let rekeyed_cert = write_certificate(dir.path(), "rekeyed", &rekeyed);
    verify_client(&service, &rekeyed_cert);
    assert_ne!(public_key(&rekeyed_cert), public_key(&cert));
    assert_eq!(
        public_key(&rekeyed_cert),
        openssl(&["pkey", "-pubout", "-in", s(&new_key)])
    );
    // Revoked on the CA: the certificate no longer renews, and nothing is issued.
    let rekeyed_serial = rekeyed["serial"].as_str().unwrap();
    mutual()
        .args(["revoke", rekeyed_serial, "--home", s(service.home())])
        .args(["--reason", "keyCompromise"])
        .assert()
        .success();
    let count = certificate_count(&service);
    let (status, body) = post(
        &service,
        Some((&rekeyed_cert, &new_key)),
        "/api/v1/renew",
        &json!({}),
    );
    assert_eq!(
        (status, error_code(&body)),
        (403, "certificate_revoked"),
        "{body:#}"
    );
    assert!(body["expected"].is_string(), "{body:#}");
    assert_eq!(certificate_count(&service), count);
    // Nor does one without a client certificate.
    let (status, body) = post(&service, None, "/api/v1/renew", &json!({}));
    assert_eq!(
        (status, error_code(&body)),
        (401, "client_certificate_required"),
        "{body:#}"
    );

    // The audit trail names the token's maker, the token and the holder.
    let entries = with_store(&service, async |store| {
        store.audit_log(&AuditQuery::default()).await.unwrap()
    });
    let find = |action| entries.iter().find(|e| e.action == action).unwrap();
    assert!(find(AuditAction::Token).actor.starts_with("local:"));
    assert!(find(AuditAction::Token).detail.contains(&id));
    assert_eq!(find(AuditAction::Enroll).actor, format!("token:{id}"));
    assert_eq!(
        find(AuditAction::Enroll).serial.as_deref(),
        Some(serial.as_str())
    );
    let renewals: Vec<_> = entries
        .iter()
        .filter(|e| e.action == AuditAction::Renew)
        .collect();
    assert_eq!(renewals.len(), 2);
    assert!(renewals.iter().all(|e| e.actor.starts_with("cert:")));
    // Exactly one entry per certificate issued, committed with it (at its recording time);
    // the revocation above adds its own.
    for issued in [&issued, &renewed, &rekeyed] {
        let serial = issued["serial"].as_str().unwrap();
        let about: Vec<_> = entries
            .iter()
            .filter(|e| e.serial.as_deref() == Some(serial) && e.action != AuditAction::Revoke)
            .collect();
        assert_eq!(about.len(), 1, "{serial}: {entries:#?}");
        assert_eq!(
            about[0]
                .at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap(),
            issued["issued_at"].as_str().unwrap(),
            "{issued:#}"
        );
    }
    // The secret is nowhere in the trail.
    let secret = &token["mtk_".len() + id.len() + 1..];
    assert!(entries.iter().all(|e| !format!("{e:?}").contains(secret)));
    let record = with_store(&service, async |store| {
        store.find_token(&id).await.unwrap().unwrap()
    });
    assert_eq!(record.used_serial.as_deref(), Some(serial.as_str()));
}

#[test]
fn bad_tokens_and_csrs_are_refused_and_a_mistake_does_not_burn_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let created = token_create(&service, "client", "device-7", "10m");
    let token = created["token"].as_str().unwrap().to_owned();
    let before = certificate_count(&service);

    // Another subject in the CSR: 403, the token survives.
    let (_, csr) = key_and_csr(dir.path(), "wrong", "device-8", &[]);
    let (status, body) = enroll(&service, &token, &csr);
    assert_eq!(
        (status, error_code(&body)),
        (403, "token_subject_mismatch"),
        "{body:#}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("device-7"),
        "{body:#}"
    );
    // Names beside the subject: 403, the token survives.
    let (_, csr) = key_and_csr(
        dir.path(),
        "extra",
        "device-7",
        &["subjectAltName=DNS:device-7,email:ceo@example.com"],
    );
    let (status, body) = enroll(&service, &token, &csr);
    assert_eq!(
        (status, error_code(&body)),
        (403, "token_san_mismatch"),
        "{body:#}"
    );
    // A CSR whose signature does not verify: the profile refuses it, the token survives.
    let (_, good) = key_and_csr(dir.path(), "tampered", "device-7", &[]);
    let (status, body) = enroll(&service, &token, &flip_signature_bits(&good));
    assert_eq!((status, error_code(&body)), (422, "refused"), "{body:#}");
    // The right secret matters: another secret for the same id is refused like an unknown
    // token, and does not burn it either.
    let (id, _) = token["mtk_".len()..].split_once('_').unwrap();
    let other = EnrollmentToken::generate().unwrap().expose();
    let wrong_secret = format!("mtk_{id}_{}", &other.as_str()["mtk_".len() + 17..]);
    let (_, csr) = key_and_csr(dir.path(), "device-7", "device-7", &[]);
    for bad in [wrong_secret.as_str(), other.as_str(), "mtk_nonsense", ""] {
        let (status, body) = enroll(&service, bad, &csr);
        assert_eq!(
            (status, error_code(&body)),
            (401, "token_invalid"),
            "{body:#}"
        );
        assert!(!body.to_string().contains("device-7"), "{body:#}");
    }
    assert_eq!(certificate_count(&service), before);

    // After all that, the token still enrolls its subject.
    let (status, issued) = enroll(&service, &token, &csr);
    assert_eq!(status, 201, "{issued:#}");
    assert_eq!(certificate_count(&service), before + 1);

    // An expired token says when it expired; nothing is issued.
    let expired = EnrollmentToken::generate().unwrap();
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    with_store(&service, async |store| {
        store
            .create_token(&NewToken {
                id: expired.id().to_owned(),
                secret_sha256: expired.secret_sha256(),
                profile: ProfileKind::Client,
                subject: "device-9".to_owned(),
                created_at: now - Duration::hours(2),
                expires_at: now - Duration::hours(1),
                created_by: "local:test".to_owned(),
            })
            .await
            .unwrap()
    });
    let (_, csr) = key_and_csr(dir.path(), "device-9", "device-9", &[]);
    let (status, body) = enroll(&service, &expired.expose(), &csr);
    assert_eq!(
        (status, error_code(&body)),
        (410, "token_expired"),
        "{body:#}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("expired at"),
        "{body:#}"
    );
    assert_eq!(certificate_count(&service), before + 1);

    // Tokens from the admin API work the same; without the admin certificate there are none.
    let request = json!({ "profile": "client", "subject": "device-10", "ttl": "5m" });
    let (status, body) = post(&service, None, "/api/v1/tokens", &request);
    assert_eq!(status, 401, "{body:#}");
    let (status, made) = service.post_admin("/api/v1/tokens", &request);
    assert_eq!(status, 201, "{made:#}");
    assert_eq!(made["subject"], "device-10");
    assert!(made["expires_at"].is_string());
    let (_, csr) = key_and_csr(dir.path(), "device-10", "device-10", &[]);
    let (status, issued) = enroll(&service, made["token"].as_str().unwrap(), &csr);
    assert_eq!(status, 201, "{issued:#}");
    assert!(issued["requester"].as_str().unwrap().starts_with("token:"));
    // A server token: the subject becomes the certificate's DNS name, which TLS clients check.
    let created = token_create(&service, "server", "build-7.example.internal", "15m");
    let (_, csr) = key_and_csr(dir.path(), "build-7", "build-7.example.internal", &[]);
    let (status, issued) = enroll(&service, created["token"].as_str().unwrap(), &csr);
    assert_eq!(status, 201, "{issued:#}");
    assert_eq!(issued["sans"], json!(["DNS:build-7.example.internal"]));
    let cert = write_certificate(dir.path(), "build-7", &issued);
    let out = openssl(&[
        "verify",
        "-CAfile",
        s(&service.root_pem()),
        "-untrusted",
        s(&service.ca_pem("server-ca")),
        "-purpose",
        "sslserver",
        "-verify_hostname",
        "build-7.example.internal",
        s(&cert),
    ]);
    assert!(out.contains(": OK"), "{out}");

    for (request, code) in [
        (
            json!({ "profile": "ocsp-signer", "subject": "x" }),
            "profile_not_enrollable",
        ),
        (
            json!({ "profile": "server-client", "subject": "x" }),
            "profile_disabled",
        ),
        (
            json!({ "profile": "nope", "subject": "x" }),
            "unknown_profile",
        ),
        (
            json!({ "profile": "client", "subject": "" }),
            "invalid_subject",
        ),
        (
            json!({ "profile": "client", "subject": "x", "ttl": "31d" }),
            "ttl_out_of_range",
        ),
        (
            json!({ "profile": "client", "subject": "x", "ttl": "soon" }),
            "bad_ttl",
        ),
    ] {
        let (status, body) = service.post_admin("/api/v1/tokens", &request);
        assert_eq!((status, error_code(&body)), (400, code), "{body:#}");
    }
}

#[test]
fn token_create_refuses_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // No CA yet.
    let output = mutual()
        .args(["token", "create", "--home", s(&home)])
        .args(["--profile", "client", "--subject", "a"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    mutual()
        .args(["init", "--home", s(&home), "--unencrypted-intermediate"])
        .env("MUTUAL_PASSPHRASE", "correct horse battery staple")
        .assert()
        .success();
    for (args, mention) in [
        (
            ["--profile", "ocsp-signer", "--subject", "a", "--ttl", "1h"],
            "--profile",
        ),
        (
            [
                "--profile",
                "server-client",
                "--subject",
                "a",
                "--ttl",
                "1h",
            ],
            "disabled",
        ),
        (
            ["--profile", "client", "--subject", "a", "--ttl", "30s"],
            "--ttl",
        ),
        (
            ["--profile", "client", "--subject", "a", "--ttl", "31d"],
            "between 1m and 30d",
        ),
        (
            ["--profile", "client", "--subject", " ", "--ttl", "1h"],
            "--subject",
        ),
    ] {
        let output = mutual()
            .args(["token", "create", "--home", s(&home)])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(mention), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty());
    }
    // Text output: the token alone on standard output, the rest on standard error.
    let output = mutual()
        .args(["token", "create", "--home", s(&home)])
        .args(["--profile", "admin", "--subject", "ops", "--ttl", "30d"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token: EnrollmentToken = stdout.trim().parse().unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(token.id()), "{stderr}");
    assert!(!stderr.contains(stdout.trim()), "{stderr}");
}

#[test]
fn of_sixteen_concurrent_enrollments_with_one_token_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let created = token_create(&service, "client", "sensor-1", "1h");
    let token = created["token"].as_str().unwrap().to_owned();
    let before = certificate_count(&service);
    let bodies: Vec<String> = (0..16)
        .map(|i| {
            let (_, csr) = key_and_csr(dir.path(), &format!("sensor-{i}"), "sensor-1", &[]);
            json!({ "token": token, "csr": csr }).to_string()
        })
        .collect();
    let url = service.https("/api/v1/enroll");
    let root = service.root_pem();
    let statuses: Vec<(u16, String)> = std::thread::scope(|scope| {
        let attempts: Vec<_> = bodies
            .iter()
            .map(|body| {
                let (url, root) = (&url, &root);
                scope.spawn(move || {
                    let output = Command::new("curl")
                        .args(["-sS", "--max-time", "60", "-w", "\n%{http_code}"])
                        .args(["--cacert", s(root)])
                        .args(["-H", "content-type: application/json"])
                        .args(["--data-binary", body, url])
                        .output()
                        .unwrap();
                    let text = String::from_utf8_lossy(&output.stdout).into_owned();
                    let (body, status) = text.rsplit_once('\n').unwrap();
                    (status.trim().parse().unwrap(), body.to_owned())
                })
            })
            .collect();
        attempts.into_iter().map(|a| a.join().unwrap()).collect()
    });
    let won: Vec<_> = statuses
        .iter()
        .filter(|(status, _)| *status == 201)
        .collect();
    assert_eq!(won.len(), 1, "{statuses:#?}");
    for (status, body) in &statuses {
        if *status != 201 {
            assert_eq!(*status, 409, "{body}");
            assert!(body.contains("token_used"), "{body}");
        }
    }
    assert_eq!(certificate_count(&service), before + 1);
}
