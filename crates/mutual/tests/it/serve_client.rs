//! The client mode end to end: a real `mutual serve`, and `mutual --server ...` talking to
//! it with the admin.pem/admin.key.pem it wrote (or a certificate it issued), checked by
//! `openssl pkcs12`, `openssl req`, `openssl ocsp` and `openssl verify`, and against the
//! local commands' output on the service's own home.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use mutual_test::{MutualServe, openssl};
use serde_json::Value;

use crate::mutual;
use crate::{s, start_serve as start};

/// `mutual --server URL --ca-cert ROOT [identity] ARGS...`, with no client-mode variables
/// inherited from the environment.
fn client(service: &MutualServe, identity: Option<(&Path, &Path)>, args: &[&str]) -> Output {
    let mut command = mutual();
    for var in [
        "MUTUAL_SERVER",
        "MUTUAL_CA_CERT",
        "MUTUAL_CLIENT_CERT",
        "MUTUAL_CLIENT_KEY",
        "MUTUAL_HOME",
        "MUTUAL_P12_PASSWORD",
        "MUTUAL_TOKEN",
    ] {
        command.env_remove(var);
    }
    command
        .arg("--server")
        .arg(service.https(""))
        .arg("--ca-cert")
        .arg(service.root_pem());
    if let Some((cert, key)) = identity {
        command.arg("--cert").arg(cert).arg("--key").arg(key);
    }
    command.args(args).output().unwrap()
}

/// As [`client`] with the first administrator's certificate; expects success.
fn admin(service: &MutualServe, args: &[&str]) -> Output {
    let (cert, key) = service.admin();
    let output = client(service, Some((&cert, &key)), args);
    assert!(
        output.status.success(),
        "mutual --server {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `openssl verify` as a TLS server judges a client certificate of this CA.
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

fn serial_of(cert: &Path) -> String {
    openssl(&["x509", "-in", s(cert), "-noout", "-serial"])
        .trim()
        .trim_start_matches("serial=")
        .to_owned()
}

fn public_key_of_certificate(cert: &Path) -> String {
    openssl(&["x509", "-in", s(cert), "-noout", "-pubkey"])
}

fn public_key_of_key(key: &Path) -> String {
    openssl(&["pkey", "-in", s(key), "-pubout"])
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_administrator_issues_signs_lists_and_revokes_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let password = dir.path().join("alice.p12.pass");
    std::fs::write(&password, "correct horse battery\n").unwrap();

    // `issue client --p12`: the same files as locally, the bundle readable by openssl.
    let output = admin(
        &service,
        &[
            "issue",
            "client",
            "alice",
            "--email",
            "alice@example.com",
            "--out-dir",
            s(&out),
            "--p12",
            s(&out.join("alice.p12")),
            "--p12-password-file",
            s(&password),
        ],
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("Issued a client certificate for CN=alice (email:alice@example.com)"),
        "{text}"
    );
    assert_eq!(
        names_in(&out),
        ["alice.chain.pem", "alice.key.pem", "alice.p12", "alice.pem"]
    );
    assert_eq!(mode(&out.join("alice.key.pem")), 0o600);
    assert_eq!(mode(&out.join("alice.p12")), 0o600);
    let bundle = openssl(&[
        "pkcs12",
        "-in",
        s(&out.join("alice.p12")),
        "-passin",
        &format!("file:{}", s(&password)),
        "-nodes",
        "-info",
    ]);
    assert!(bundle.contains("subject=CN = alice"), "{bundle}");
    assert!(bundle.contains("Mutual Client CA"), "{bundle}");
    assert!(bundle.contains("Mutual Root CA"), "{bundle}");
    assert!(bundle.contains("BEGIN PRIVATE KEY"), "{bundle}");
    verify_client(&service, &out.join("alice.pem"));
    assert_eq!(
        public_key_of_certificate(&out.join("alice.pem")),
        public_key_of_key(&out.join("alice.key.pem"))
    );

    // `issue server --format json`: the local report.
    let report = json(&admin(
        &service,
        &[
            "issue",
            "server",
            "api.example.internal",
            "--ip",
            "10.0.0.7",
            "--out-dir",
            s(&out),
            "--format",
            "json",
        ],
    ));
    assert_eq!(report["profile"], "server");
    assert_eq!(report["subject"], "CN=api.example.internal");
    assert_eq!(
        report["sans"],
        serde_json::json!(["DNS:api.example.internal", "IP:10.0.0.7"])
    );
    assert_eq!(
        report["key"].as_str().unwrap(),
        s(&out.join("api.example.internal.key.pem"))
    );

    // `sign` a CSR made by openssl.
    let csr = dir.path().join("web.csr");
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
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
    let signed = out.join("web.pem");
    let output = admin(
        &service,
        &["sign", s(&csr), "--profile", "server", "--out", s(&signed)],
    );
    assert!(
        stderr(&output).contains("issued server serial"),
        "{}",
        stderr(&output)
    );
    let verified = openssl(&[
        "verify",
        "-CAfile",
        s(&service.root_pem()),
        "-untrusted",
        s(&service.ca_pem("server-ca")),
        "-purpose",
        "sslserver",
        s(&signed),
    ]);
    assert!(verified.contains(": OK"), "{verified}");

    // `list --format json` sees all three, exactly as the local command on the service's
    // home prints it; the text table too.
    let listed = json(&admin(&service, &["list", "--format", "json"]));
    let subjects: Vec<&str> = listed["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    for subject in [
        "CN=alice",
        "CN=api.example.internal",
        "CN=web.example.internal",
    ] {
        assert!(subjects.contains(&subject), "{subject} missing: {listed:#}");
    }
    for format in ["json", "text"] {
        let remote = admin(&service, &["list", "--format", format]);
        let local = mutual()
            .args(["list", "--home", s(service.home()), "--format", format])
            .output()
            .unwrap();
        assert!(local.status.success(), "{}", stderr(&local));
        assert_eq!(
            String::from_utf8_lossy(&remote.stdout),
            String::from_utf8_lossy(&local.stdout),
            "list --format {format}: the client mode and the local command differ"
        );
    }
    let alice = serial_of(&out.join("alice.pem"));
    let shown = json(&admin(&service, &["show", &alice, "--format", "json"]));
    assert_eq!(shown["subject"], "CN=alice");
    assert_eq!(shown["status"], "valid");

    // `revoke`, then the service's OCSP responder says so to openssl.
    let ocsp = || {
        let output =
            service.openssl_ocsp(&service.ca_pem("client-ca"), &out.join("alice.pem"), &[]);
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(ocsp().contains(": good"), "{}", ocsp());
    let revoked = json(&admin(
        &service,
        &[
            "revoke",
            &alice,
            "--reason",
            "keyCompromise",
            "--at",
            "2025-01-02T03:04:05Z",
            "--format",
            "json",
        ],
    ));
    assert_eq!(revoked["serial"], alice.as_str());
    assert_eq!(revoked["reason"], "keyCompromise");
    assert_eq!(revoked["invalid_since"], "2025-01-02T03:04:05Z");
    let answer = ocsp();
    assert!(answer.contains(": revoked"), "{answer}");
    assert!(answer.contains("Reason: keyCompromise"), "{answer}");

    // Again: a refusal, one line, exit 1, as `mutual revoke` says it locally.
    let (cert, key) = service.admin();
    let output = client(&service, Some((&cert, &key)), &["revoke", &alice]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(
        error.starts_with("mutual: refused [already_revoked]: "),
        "{error}"
    );
    assert_eq!(error.lines().count(), 1, "{error}");
}

#[test]
fn a_policy_refusal_is_exit_1_with_one_line_per_reason() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let (cert, key) = service.admin();
    let output = client(
        &service,
        Some((&cert, &key)),
        &[
            "issue",
            "client",
            "bob",
            "--days",
            "100000",
            "--out-dir",
            s(dir.path()),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(
        error.starts_with("mutual: refused [validity_too_long]: "),
        "{error}"
    );
    assert!(!dir.path().join("bob.key.pem").exists());
}

#[test]
fn a_client_certificate_or_none_gets_exit_2_naming_the_certificate_expected() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    admin(
        &service,
        &["issue", "client", "carol", "--out-dir", s(dir.path())],
    );
    let carol = (
        dir.path().join("carol.pem"),
        dir.path().join("carol.key.pem"),
    );

    // A valid client certificate, but not an administrator's: 403.
    let output = client(&service, Some((&carol.0, &carol.1)), &["list"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(error.contains("403"), "{error}");
    assert!(error.contains("from the `client` profile"), "{error}");
    assert!(
        error.contains("expected: a client certificate from the `admin` profile"),
        "{error}"
    );
    assert!(output.stdout.is_empty());

    // No certificate at all: 401, and how to give one.
    let output = client(&service, None, &["list"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(error.contains("[client_certificate_required]"), "{error}");
    assert!(error.contains("expected: "), "{error}");
    assert!(error.contains("--cert FILE --key FILE"), "{error}");

    // The same identity from the environment pair.
    let (cert, key) = service.admin();
    let output = mutual()
        .env("MUTUAL_SERVER", service.https(""))
        .env("MUTUAL_CA_CERT", service.root_pem())
        .env("MUTUAL_CLIENT_CERT", &cert)
        .env("MUTUAL_CLIENT_KEY", &key)
        .env_remove("MUTUAL_HOME")
        .args(["list", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(json(&output)["certificates"].is_array());

    // And from the PKCS#12 bundle the service wrote, with its password file.
    let home = service.home();
    let output = mutual()
        .env_remove("MUTUAL_CLIENT_CERT")
        .env_remove("MUTUAL_CLIENT_KEY")
        .env_remove("MUTUAL_P12_PASSWORD")
        .args([
            "--server",
            &service.https(""),
            "--ca-cert",
            s(&service.root_pem()),
        ])
        .args(["--p12", s(&home.join("admin.p12"))])
        .args(["--password-file", s(&home.join("admin.p12.password"))])
        .args(["list", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    // The service's certificate, not trusted: one line, exit 2.
    let output = mutual()
        .env_remove("MUTUAL_CA_CERT")
        .env("SSL_CERT_FILE", s(&carol.0))
        .args([
            "--server",
            &service.https(""),
            "--cert",
            s(&cert),
            "--key",
            s(&key),
            "list",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let error = stderr(&output);
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(error.contains(&service.https("")), "{error}");
    assert!(error.contains("TLS"), "{error}");
}

#[test]
fn an_unreachable_server_is_exit_2_and_one_line_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        s(&dir.path().join("root.key")),
        "-subj",
        "/CN=Some Root",
        "-days",
        "2",
        "-out",
        s(&root),
    ]);
    // A port nobody listens on: taken and released.
    let port = mutual_test::free_port();
    let url = format!("https://127.0.0.1:{port}");
    let output = mutual()
        .env_remove("MUTUAL_CLIENT_CERT")
        .env_remove("MUTUAL_CLIENT_KEY")
        .args(["--server", &url, "--ca-cert", s(&root), "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let error = stderr(&output);
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(error.starts_with("mutual: cannot reach `"), "{error}");
    assert!(error.contains(&url), "{error}");
    assert!(error.contains("connection refused"), "{error}");

    // Options of one mode are refused in the other, not ignored.
    let output = mutual()
        .args(["--server", &url, "init", "--home", s(dir.path())])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("works on local files only"));
    // Every command is named in that line (it once said "`mutual this command`").
    for command in [
        &["probe", "127.0.0.1:1"][..],
        &["audit"],
        &["gateway", "check", "--config", "x"],
    ] {
        let output = mutual()
            .args(["--server", &url])
            .args(command)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let error = stderr(&output);
        assert!(
            error.contains(&format!(
                "`mutual {}` works on local files only",
                command[0]
            )),
            "{error}"
        );
    }
    let output = mutual()
        .args(["--server", &url, "list", "--home", s(dir.path())])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("give one of them"));
}

#[test]
fn renew_replaces_the_certificate_and_with_new_key_the_key_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let devices = dir.path().join("device");
    std::fs::create_dir(&devices).unwrap();
    admin(
        &service,
        &["issue", "client", "dave", "--out-dir", s(&devices)],
    );
    let cert = devices.join("dave.pem");
    let key = devices.join("dave.key.pem");
    let first_serial = serial_of(&cert);
    let first_key = std::fs::read(&key).unwrap();

    // Same key: only the certificate changes.
    let output = client(
        &service,
        None,
        &[
            "renew",
            "--cert",
            s(&cert),
            "--key",
            s(&key),
            "--format",
            "json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json(&output);
    let second_serial = serial_of(&cert);
    assert_ne!(second_serial, first_serial);
    assert_eq!(report["serial"], second_serial.as_str());
    assert_eq!(report["previous_serial"], first_serial.as_str());
    assert_eq!(report["new_key"], false);
    assert_eq!(std::fs::read(&key).unwrap(), first_key);
    verify_client(&service, &cert);
    assert_eq!(public_key_of_certificate(&cert), public_key_of_key(&key));

    // A new key: both files replaced, the key 0600, the pair matching, nothing left over.
    let output = client(
        &service,
        None,
        &["renew", "--cert", s(&cert), "--key", s(&key), "--new-key"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("replaced by a new key"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let third_serial = serial_of(&cert);
    assert_ne!(third_serial, second_serial);
    assert_ne!(std::fs::read(&key).unwrap(), first_key);
    assert_eq!(mode(&key), 0o600);
    verify_client(&service, &cert);
    assert_eq!(public_key_of_certificate(&cert), public_key_of_key(&key));
    assert_eq!(
        names_in(&devices),
        ["dave.chain.pem", "dave.key.pem", "dave.pem"]
    );

    // The renewed certificate is the caller's identity now: it can renew again.
    let output = client(
        &service,
        None,
        &["renew", "--cert", s(&cert), "--key", s(&key)],
    );
    assert!(output.status.success(), "{}", stderr(&output));

    // A key that is not the certificate's: refused before anything is sent or written.
    let stranger: PathBuf = dir.path().join("stranger.key");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        s(&stranger),
    ]);
    let before = std::fs::read(&cert).unwrap();
    let output = client(
        &service,
        None,
        &["renew", "--cert", s(&cert), "--key", s(&stranger)],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("is not the key of the certificate"));
    assert_eq!(std::fs::read(&cert).unwrap(), before);
}

#[test]
fn enroll_with_a_token_writes_a_key_made_here_and_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path());
    let token = mutual()
        .args(["token", "create", "--home", s(service.home())])
        .args([
            "--profile",
            "client",
            "--subject",
            "device-123",
            "--ttl",
            "1h",
        ])
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", stderr(&token));
    let token_file = dir.path().join("device-123.token");
    std::fs::write(&token_file, &token.stdout).unwrap();
    let out = dir.path().join("device");
    std::fs::create_dir(&out).unwrap();

    let output = client(
        &service,
        None,
        &[
            "enroll",
            "--token-file",
            s(&token_file),
            "--subject",
            "device-123",
            "--out-dir",
            s(&out),
            "--format",
            "json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["subject"], "CN=device-123");
    assert_eq!(report["profile"], "client");
    assert_eq!(
        names_in(&out),
        [
            "device-123.chain.pem",
            "device-123.key.pem",
            "device-123.pem"
        ]
    );
    assert_eq!(mode(&out.join("device-123.key.pem")), 0o600);
    verify_client(&service, &out.join("device-123.pem"));
    assert_eq!(
        public_key_of_certificate(&out.join("device-123.pem")),
        public_key_of_key(&out.join("device-123.key.pem"))
    );

    // The token works once: the second try is refused and writes nothing.
    let again = dir.path().join("again");
    std::fs::create_dir(&again).unwrap();
    let output = client(
        &service,
        None,
        &[
            "enroll",
            "--token-file",
            s(&token_file),
            "--subject",
            "device-123",
            "--out-dir",
            s(&again),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("refused [token_used]"),
        "{}",
        stderr(&output)
    );
    assert!(names_in(&again).is_empty());
}
