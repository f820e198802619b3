//! The private CA: `init`, `issue server|client`, `list`, `show`, checked by real peers —
//! `openssl verify -purpose`, `openssl pkey`, `openssl s_server` with `curl` as the client.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::mutual;
use mutual_test::{SServer, openssl, openssl_output};

pub(crate) const PASSPHRASE: &str = "correct horse battery staple";

/// A CA home with its passphrase file (which doubles as a PKCS#12 password file), made by
/// `mutual init`; shared by the tests that need a CA.
pub(crate) struct Ca {
    dir: tempfile::TempDir,
}

impl Ca {
    pub(crate) fn init(extra: &[&str]) -> Ca {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pass"), format!("{PASSPHRASE}\n")).unwrap();
        let ca = Ca { dir };
        let output = ca.run(&["init"], extra);
        assert!(
            output.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        ca
    }

    /// A path in the test's scratch directory.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub(crate) fn pass(&self) -> PathBuf {
        self.dir.path().join("pass")
    }

    pub(crate) fn out(&self) -> PathBuf {
        let out = self.dir.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        out
    }

    pub(crate) fn ca_file(&self, name: &str) -> String {
        self.home()
            .join("ca")
            .join(name)
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// Runs `mutual VERB... --home H --passphrase-file P EXTRA...`.
    pub(crate) fn run(&self, verb: &[&str], extra: &[&str]) -> std::process::Output {
        mutual()
            .args(verb)
            .arg("--home")
            .arg(self.home())
            .arg("--passphrase-file")
            .arg(self.pass())
            .args(extra)
            .output()
            .unwrap()
    }

    /// Issues and returns (key, certificate, chain) paths.
    pub(crate) fn issue(&self, kind: &str, args: &[&str]) -> (PathBuf, PathBuf, PathBuf) {
        let out = self.out();
        let mut extra: Vec<&str> = args.to_vec();
        let out_s = out.to_str().unwrap().to_owned();
        extra.extend(["--out-dir", &out_s, "--format", "json"]);
        let output = self.run(&["issue", kind], &extra);
        assert!(
            output.status.success(),
            "issue {kind} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let path = |field: &str| PathBuf::from(report[field].as_str().unwrap());
        (path("key"), path("certificate"), path("chain"))
    }

    pub(crate) fn verify(&self, purpose: &str, cert: &Path) -> std::process::Output {
        let issuing = if purpose == "sslserver" {
            "server-ca.pem"
        } else {
            "client-ca.pem"
        };
        openssl_output(&[
            "verify",
            "-CAfile",
            &self.ca_file("root.pem"),
            "-untrusted",
            &self.ca_file(issuing),
            "-purpose",
            purpose,
            cert.to_str().unwrap(),
        ])
    }
}

pub(crate) fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_writes_an_encrypted_root_and_two_issuing_cas() {
    let ca = Ca::init(&["--name", "Acme Internal"]);
    for key in ["root.key.pem", "server-ca.key.pem", "client-ca.key.pem"] {
        let path = ca.home().join("ca").join(key);
        assert_eq!(mode(&path), 0o600, "{key}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "{key}"
        );
        // openssl reads it with the passphrase, and not without.
        let ok = openssl_output(&[
            "pkey",
            "-in",
            path.to_str().unwrap(),
            "-passin",
            &format!("file:{}", ca.pass().display()),
            "-noout",
        ]);
        assert!(
            ok.status.success(),
            "{key}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        let wrong = openssl_output(&[
            "pkey",
            "-in",
            path.to_str().unwrap(),
            "-passin",
            "pass:wrong-passphrase",
            "-noout",
        ]);
        assert!(!wrong.status.success(), "{key}");
    }
    let root = crate::inspect_one(Path::new(&ca.ca_file("root.pem")));
    assert_eq!(root["purpose"]["kind"], "root_ca");
    assert_eq!(
        root["subject"]["rfc4514"],
        "CN=Acme Internal Root CA,O=Acme Internal"
    );
    for (file, eku) in [
        ("server-ca.pem", "serverAuth"),
        ("client-ca.pem", "clientAuth"),
    ] {
        let cert = crate::inspect_one(Path::new(&ca.ca_file(file)));
        assert_eq!(cert["purpose"]["kind"], "intermediate_ca", "{file}");
        assert_eq!(cert["purpose"]["ca"]["path_len"], 0, "{file}");
        let ekus = crate::extension(&cert, "extended_key_usage").unwrap()["purposes"].clone();
        assert_eq!(ekus.as_array().unwrap().len(), 1, "{file}");
        assert_eq!(ekus[0]["name"], eku, "{file}");
        let verified = openssl_output(&[
            "verify",
            "-CAfile",
            &ca.ca_file("root.pem"),
            &ca.ca_file(file),
        ]);
        assert!(
            verified.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&verified.stdout)
        );
    }

    // A second init refuses and leaves everything as it was.
    let before = std::fs::read(ca.home().join("ca/root.pem")).unwrap();
    let again = ca.run(&["init"], &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a CA"));
    assert_eq!(
        std::fs::read(ca.home().join("ca/root.pem")).unwrap(),
        before
    );
}

/// Server certificates pass `-purpose sslserver` and fail `sslclient`; client
/// certificates the other way round; for ECDSA, RSA and Ed25519 CAs and leaves.
#[test]
fn openssl_verifies_each_kind_for_its_purpose_only() {
    for key_type in ["ec-p256", "rsa-2048", "ed25519"] {
        let ca = Ca::init(&["--key-type", key_type]);
        let (key, server, _) = ca.issue(
            "server",
            &[
                "api.example.test",
                "--ip",
                "127.0.0.1",
                "--key-type",
                key_type,
            ],
        );
        let (_, client, _) = ca.issue(
            "client",
            &[
                "alice",
                "--email",
                "alice@example.test",
                "--key-type",
                key_type,
            ],
        );
        assert_eq!(mode(&key), 0o600);
        assert!(
            ca.verify("sslserver", &server).status.success(),
            "{key_type} server as server"
        );
        assert!(
            !ca.verify("sslclient", &server).status.success(),
            "{key_type} server as client"
        );
        assert!(
            ca.verify("sslclient", &client).status.success(),
            "{key_type} client as client"
        );
        assert!(
            !ca.verify("sslserver", &client).status.success(),
            "{key_type} client as server"
        );
        let decoded = crate::inspect_one(&server);
        assert_eq!(decoded["purpose"]["kind"], "server");
        assert!(
            decoded["findings"].as_array().unwrap().is_empty(),
            "{}",
            decoded["findings"]
        );
        let decoded = crate::inspect_one(&client);
        assert_eq!(decoded["purpose"]["kind"], "client");
    }
}

/// A real mutual-TLS round trip: s_server demands a client certificate from the client
/// CA; curl presents an issued client certificate and gets in, a server certificate
/// in its place does not.
#[test]
fn mutual_tls_round_trip_with_curl_and_s_client() {
    mutual_test::require_tool("curl");
    let ca = Ca::init(&[]);
    let (server_key, _, server_chain) = ca.issue("server", &["localhost", "--ip", "127.0.0.1"]);
    let (client_key, _, client_chain) = ca.issue("client", &["alice"]);
    let server = SServer::builder(&server_chain, &server_key)
        .cert_chain(&server_chain)
        .require_client_certificate(2, ca.ca_file("root.pem"))
        .start();
    let url = format!("https://localhost:{}/", server.port());
    let curl = |cert: &Path, key: &Path| {
        std::process::Command::new("curl")
            .args([
                "--silent",
                "--show-error",
                "--max-time",
                "10",
                "--cacert",
                &ca.ca_file("root.pem"),
            ])
            .arg("--cert")
            .arg(cert)
            .arg("--key")
            .arg(key)
            .arg(&url)
            .output()
            .unwrap()
    };
    let ok = curl(&client_chain, &client_key);
    assert!(
        ok.status.success(),
        "client certificate refused: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("s_server"),
        "the s_server -www page"
    );

    let wrong = curl(&server_chain, &server_key);
    assert!(
        !wrong.status.success(),
        "a server certificate must not pass as a client certificate"
    );

    // openssl s_client with the client identity too.
    let s_client = openssl_output(&[
        "s_client",
        "-connect",
        &format!("127.0.0.1:{}", server.port()),
        "-servername",
        "localhost",
        "-CAfile",
        &ca.ca_file("root.pem"),
        "-verify_return_error",
        "-cert",
        client_chain.to_str().unwrap(),
        "-key",
        client_key.to_str().unwrap(),
        "-brief",
    ]);
    let text = String::from_utf8_lossy(&s_client.stderr);
    assert!(text.contains("Verification: OK"), "{text}");
}

#[test]
fn every_issued_certificate_is_in_the_inventory() {
    let ca = Ca::init(&[]);
    let (_, server, _) = ca.issue("server", &["www.example.test"]);
    ca.issue("client", &["bob", "--uri", "spiffe://example.test/bob"]);
    let list = mutual()
        .args(["list", "--format", "json", "--home"])
        .arg(ca.home())
        .output()
        .unwrap();
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let certs = doc["certificates"].as_array().unwrap();
    let profiles: Vec<&str> = certs
        .iter()
        .map(|c| c["profile"].as_str().unwrap())
        .collect();
    assert_eq!(
        certs.len(),
        5,
        "root, two intermediates and two leaves: {profiles:?}"
    );
    for profile in ["root", "intermediate", "server", "client"] {
        assert!(profiles.contains(&profile), "{profiles:?}");
    }

    let only_clients = mutual()
        .args(["list", "--format", "json", "--profile", "client", "--home"])
        .arg(ca.home())
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&only_clients.stdout).unwrap();
    assert_eq!(doc["certificates"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["certificates"][0]["sans"][0],
        "URI:spiffe://example.test/bob"
    );

    // `show` by serial (any spelling) and by fingerprint gives back the same certificate.
    let serial = openssl(&["x509", "-in", server.to_str().unwrap(), "-noout", "-serial"]);
    let serial = serial.trim().trim_start_matches("serial=").to_lowercase();
    let shown = mutual()
        .args(["show", "--format", "pem", &serial, "--home"])
        .arg(ca.home())
        .output()
        .unwrap();
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert_eq!(
        String::from_utf8(shown.stdout).unwrap(),
        std::fs::read_to_string(&server).unwrap()
    );
    let fingerprint = openssl(&[
        "x509",
        "-in",
        server.to_str().unwrap(),
        "-noout",
        "-fingerprint",
        "-sha256",
    ]);
    let fingerprint = fingerprint.trim().split_once('=').unwrap().1.to_owned();
    let shown = mutual()
        .args(["show", &fingerprint, "--home"])
        .arg(ca.home())
        .output()
        .unwrap();
    let text = String::from_utf8(shown.stdout).unwrap();
    assert!(text.contains("Profile:      server"), "{text}");
    assert!(text.contains("Certificate: server certificate"), "{text}");

    let expiring = mutual()
        .args(["list", "--expiring", "100d", "--home"])
        .arg(ca.home())
        .output()
        .unwrap();
    let text = String::from_utf8(expiring.stdout).unwrap();
    assert!(
        text.contains("www.example.test") && !text.contains("bob"),
        "90-day server only: {text}"
    );
}

#[test]
fn policy_refusals_exit_1_with_one_reason_per_line() {
    let ca = Ca::init(&["--permitted-dns", "example.internal"]);
    let refuse = |kind: &str, args: &[&str], expected: &[&str]| {
        let out = ca.out();
        let mut extra = args.to_vec();
        let out_s = out.to_str().unwrap().to_owned();
        extra.extend(["--out-dir", &out_s]);
        let output = ca.run(&["issue", kind], &extra);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{kind} {args:?}: {stderr}");
        for code in expected {
            assert!(
                stderr.contains(&format!("[{code}]")),
                "{kind} {args:?}: {stderr}"
            );
        }
        assert_eq!(
            stderr.lines().count(),
            expected.len(),
            "one line per reason: {stderr}"
        );
    };
    refuse("server", &["api.other.test"], &["outside_name_constraints"]);
    refuse(
        "server",
        &["api.example.internal", "--days", "0"],
        &["zero_validity"],
    );
    refuse(
        "server",
        &["api.example.internal", "--days", "100000"],
        &["validity_too_long"],
    );
    refuse(
        "client",
        &["carol", "--dns", "carol.example.internal"],
        &["san_not_allowed"],
    );
    refuse(
        "server",
        &["bad_name.example.internal", "--days", "999"],
        &["invalid_dns_name", "validity_too_long"],
    );

    let (_, ok, _) = ca.issue("server", &["api.example.internal"]);
    assert!(ca.verify("sslserver", &ok).status.success());
    let listed = mutual()
        .args(["list", "--profile", "server", "--home"])
        .arg(ca.home())
        .output()
        .unwrap();
    let text = String::from_utf8(listed.stdout).unwrap();
    assert_eq!(
        text.matches("server ").count(),
        1,
        "refused requests are not recorded: {text}"
    );
}

#[test]
fn bad_inputs_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    // No CA yet.
    let out = mutual()
        .args(["issue", "server", "x.example.test", "--home"])
        .arg(dir.path().join("none"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `mutual init` first"));

    let ca = Ca::init(&[]);
    // Wrong passphrase.
    std::fs::write(dir.path().join("wrong"), "not the passphrase\n").unwrap();
    let out = mutual()
        .args(["issue", "server", "x.example.test", "--home"])
        .arg(ca.home())
        .arg("--passphrase-file")
        .arg(dir.path().join("wrong"))
        .arg("--out-dir")
        .arg(ca.out())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.to_lowercase().contains("passphrase"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // Corrupted key file.
    let key = ca.home().join("ca/server-ca.key.pem");
    let text = std::fs::read_to_string(&key).unwrap();
    std::fs::write(&key, &text[..text.len() / 2]).unwrap();
    let out = ca.run(
        &["issue", "server"],
        &["x.example.test", "--out-dir", ca.out().to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("server-ca.key.pem"));
    std::fs::write(&key, &text).unwrap();

    // Unknown key type, a passphrase that is too short for a new CA.
    let out = mutual()
        .args(["init", "--key-type", "rsa-1024", "--home"])
        .arg(dir.path().join("h"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rsa-1024"));
    std::fs::write(dir.path().join("short"), "abc\n").unwrap();
    let out = mutual()
        .args(["init", "--home"])
        .arg(dir.path().join("h2"))
        .arg("--passphrase-file")
        .arg(dir.path().join("short"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("h2/ca").exists(), "nothing half-written");

    // Files are never overwritten.
    let (_, cert, _) = ca.issue("server", &["dup.example.test"]);
    let before = std::fs::read(&cert).unwrap();
    let out = ca.run(
        &["issue", "server"],
        &["dup.example.test", "--out-dir", ca.out().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists"));
    assert_eq!(std::fs::read(&cert).unwrap(), before);
}

#[test]
fn unencrypted_intermediates_need_no_passphrase_to_issue() {
    let ca = Ca::init(&["--unencrypted-intermediate"]);
    let key = ca.home().join("ca/server-ca.key.pem");
    assert_eq!(mode(&key), 0o600);
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert!(
        std::fs::read_to_string(ca.home().join("ca/root.key.pem"))
            .unwrap()
            .contains("ENCRYPTED")
    );
    let out = mutual()
        .args(["issue", "server", "svc.example.test", "--home"])
        .arg(ca.home())
        .arg("--out-dir")
        .arg(ca.out())
        .env_remove("MUTUAL_PASSPHRASE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl req` CSRs signed through `mutual sign`: the profile decides, the CSR only
/// names the subject and its key; policy breaches are refused one reason per line.
#[test]
fn sign_applies_the_profile_to_openssl_csrs() {
    let ca = Ca::init(&[]);
    let dir = ca.out();
    let csr = |name: &str, key: &[&str], extra: &[&str]| -> PathBuf {
        let path = dir.join(format!("{name}.csr"));
        let key_path = dir.join(format!("{name}.key"));
        let mut args = vec![
            "req",
            "-new",
            "-nodes",
            "-keyout",
            key_path.to_str().unwrap(),
            "-out",
            path.to_str().unwrap(),
        ];
        args.extend_from_slice(key);
        args.extend_from_slice(extra);
        openssl(&args);
        path
    };
    let p256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

    // A server CSR that asks for clientAuth too: issued with serverAuth only.
    let web = csr(
        "web",
        &p256,
        &[
            "-subj",
            "/CN=web.example.test",
            "-addext",
            "subjectAltName=DNS:web.example.test",
            "-addext",
            "extendedKeyUsage=serverAuth,clientAuth",
        ],
    );
    let out = dir.join("web.pem");
    let signed = ca.run(
        &["sign"],
        &[
            web.to_str().unwrap(),
            "--profile",
            "server",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    assert!(
        String::from_utf8_lossy(&signed.stderr).contains("ignored requested Extended Key Usage")
    );
    assert!(ca.verify("sslserver", &out).status.success());
    assert!(
        !ca.verify("sslclient", &out).status.success(),
        "the profile, not the CSR, decides the EKU"
    );

    // A client CSR, PEM to stdout.
    let alice = csr(
        "alice",
        &["-newkey", "rsa:2048"],
        &[
            "-subj",
            "/CN=alice",
            "-addext",
            "subjectAltName=email:alice@example.test",
        ],
    );
    let signed = ca.run(&["sign"], &[alice.to_str().unwrap(), "--profile", "client"]);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let pem_path = dir.join("alice-signed.pem");
    std::fs::write(&pem_path, &signed.stdout).unwrap();
    assert!(ca.verify("sslclient", &pem_path).status.success());

    // --dry-run shows the certificate and records nothing.
    let count = |ca: &Ca| {
        let out = mutual()
            .args(["list", "--format", "json", "--home"])
            .arg(ca.home())
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["certificates"].as_array().unwrap().len()
    };
    let before = count(&ca);
    let api = csr(
        "api",
        &p256,
        &[
            "-subj",
            "/CN=api.example.test",
            "-addext",
            "subjectAltName=DNS:api.example.test,IP:10.1.2.3",
        ],
    );
    let dry = mutual()
        .args([
            "sign",
            "--dry-run",
            "--profile",
            "server",
            api.to_str().unwrap(),
            "--home",
        ])
        .arg(ca.home())
        .output()
        .unwrap();
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let text = String::from_utf8(dry.stdout).unwrap();
    assert!(text.contains("nothing was signed or recorded"), "{text}");
    assert!(text.contains("Certificate: server certificate"), "{text}");
    assert!(text.contains("DNS:api.example.test, IP:10.1.2.3"), "{text}");
    assert!(
        text.contains("Issuer:      CN=Mutual Server CA,O=Mutual"),
        "{text}"
    );
    assert_eq!(count(&ca), before, "a dry run records nothing");
    // Each signature has its one audit entry, written with the certificate; the dry run none.
    let audit = mutual()
        .args(["audit", "--format", "json", "--home"])
        .arg(ca.home())
        .output()
        .unwrap();
    assert!(audit.status.success());
    let audit: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    let mut signed: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "sign")
        .map(|e| {
            assert!(e["actor"].as_str().unwrap().starts_with("local:"), "{e}");
            e["subject"].as_str().unwrap()
        })
        .collect();
    signed.sort_unstable();
    assert_eq!(signed, ["CN=alice", "CN=web.example.test"], "{audit:#}");

    // Refusals: exit 1, one line each, nothing recorded.
    let refuse = |path: &Path, profile: &str, extra: &[&str], codes: &[&str]| {
        let mut args = vec![path.to_str().unwrap(), "--profile", profile];
        args.extend_from_slice(extra);
        let out = ca.run(&["sign"], &args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", path.display());
        let refusal_lines: Vec<&str> = stderr.lines().filter(|l| l.contains("refused")).collect();
        assert_eq!(refusal_lines.len(), codes.len(), "{stderr}");
        for code in codes {
            assert!(
                stderr.contains(&format!("[{code}]")),
                "{}: {stderr}",
                path.display()
            );
        }
    };
    let ca_csr = csr(
        "ca",
        &p256,
        &[
            "-subj",
            "/CN=sneaky",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "subjectAltName=DNS:sneaky.example.test",
        ],
    );
    refuse(&ca_csr, "server", &[], &["ca_requested"]);
    let weak = csr(
        "weak",
        &["-newkey", "rsa:1024"],
        &[
            "-subj",
            "/CN=weak.example.test",
            "-addext",
            "subjectAltName=DNS:weak.example.test",
        ],
    );
    refuse(&weak, "server", &[], &["weak_key"]);
    let p521 = csr(
        "p521",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"],
        &[
            "-subj",
            "/CN=x",
            "-addext",
            "subjectAltName=DNS:x.example.test",
        ],
    );
    refuse(&p521, "server", &[], &["weak_key"]);
    let cn_only = csr("cnonly", &p256, &["-subj", "/CN=cn-only.example.test"]);
    refuse(&cn_only, "server", &[], &["server_missing_san"]);
    refuse(&web, "server", &["--days", "1000"], &["validity_too_long"]);
    refuse(&web, "client", &[], &["san_not_allowed"]);
    let der_path = dir.join("tampered.der");
    openssl(&[
        "req",
        "-in",
        web.to_str().unwrap(),
        "-outform",
        "DER",
        "-out",
        der_path.to_str().unwrap(),
    ]);
    let mut der = std::fs::read(&der_path).unwrap();
    let at = der.windows(3).position(|w| w == b"web").unwrap();
    der[at] = b'W';
    std::fs::write(&der_path, der).unwrap();
    refuse(&der_path, "server", &[], &["bad_csr"]);
    assert_eq!(count(&ca), before, "refused requests are not recorded");

    // Not a CSR at all, and an unknown profile: usage errors.
    let out = ca.run(
        &["sign"],
        &[ca.ca_file("root.pem").as_str(), "--profile", "server"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected a CERTIFICATE REQUEST"));
    let out = ca.run(
        &["sign"],
        &[web.to_str().unwrap(), "--profile", "webserver"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown profile `webserver`"));
}

/// Profiles are overridable in mutual.toml: server-client stays refused until enabled,
/// client DNS names until allowed, and shorter bounds apply at once.
#[test]
fn mutual_toml_overrides_profiles() {
    let ca = Ca::init(&[]);
    let dir = ca.out();
    let csr_path = dir.join("both.csr");
    openssl(&[
        "req",
        "-new",
        "-nodes",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-keyout",
        dir.join("both.key").to_str().unwrap(),
        "-subj",
        "/CN=both.example.test",
        "-addext",
        "subjectAltName=DNS:both.example.test",
        "-out",
        csr_path.to_str().unwrap(),
    ]);
    let out = ca.run(
        &["sign"],
        &[csr_path.to_str().unwrap(), "--profile", "server-client"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[profile_disabled]"));
    let out = ca.run(
        &["issue", "client"],
        &[
            "dave",
            "--dns",
            "dave.example.test",
            "--out-dir",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));

    std::fs::write(
        ca.home().join("mutual.toml"),
        "[profiles.server-client]\nenabled = true\n\n[profiles.client]\nallow = [\"email\", \"dns\"]\n\n[profiles.server]\nmax_days = 30\ndefault_days = 7\n",
    )
    .unwrap();
    let out = ca.run(
        &["sign"],
        &[csr_path.to_str().unwrap(), "--profile", "server-client"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: a server-client certificate"));
    let pem = dir.join("both.pem");
    std::fs::write(&pem, &out.stdout).unwrap();
    assert_eq!(
        crate::inspect_one(&pem)["purpose"]["kind"],
        "server_and_client"
    );
    let (_, dave, _) = ca.issue("client", &["dave", "--dns", "dave.example.test"]);
    assert_eq!(crate::inspect_one(&dave)["purpose"]["kind"], "client");
    let (_, short, _) = ca.issue("server", &["short.example.test"]);
    assert_eq!(crate::inspect_one(&short)["validity"]["lifetime_days"], 7);
    let out = ca.run(
        &["issue", "server"],
        &[
            "long.example.test",
            "--days",
            "31",
            "--out-dir",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));

    std::fs::write(
        ca.home().join("mutual.toml"),
        "[profiles.webserver]\nenabled = true\n",
    )
    .unwrap();
    let out = ca.run(
        &["issue", "server"],
        &["x.example.test", "--out-dir", dir.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mutual.toml") && stderr.contains("webserver"),
        "{stderr}"
    );
}

#[test]
fn a_certificate_never_outlives_its_ca() {
    let ca = Ca::init(&["--intermediate-days", "30"]);
    let out = ca.run(
        &["issue", "server"],
        &["late.example.test", "--out-dir", ca.out().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("[outlives_ca]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, ok, _) = ca.issue("server", &["soon.example.test", "--days", "29"]);
    assert!(ca.verify("sslserver", &ok).status.success());
}

/// With `[server] url` in mutual.toml, certificates carry the OCSP, CA-issuer and CRL
/// locations of the CA service, as openssl reads them.
#[test]
fn server_url_puts_aia_and_crl_distribution_points_in_certificates() {
    let ca = Ca::init(&[]);
    let (_, before, _) = ca.issue("server", &["plain.example.test"]);
    let ext = |cert: &Path| {
        openssl(&[
            "x509",
            "-in",
            cert.to_str().unwrap(),
            "-noout",
            "-ext",
            "authorityInfoAccess,crlDistributionPoints",
        ])
    };
    assert_eq!(
        ext(&before).trim(),
        "",
        "no URLs without a configured server"
    );

    std::fs::write(
        ca.home().join("mutual.toml"),
        "[server]\nurl = \"https://ca.example.test:8443/\"\n",
    )
    .unwrap();
    let (_, server, _) = ca.issue("server", &["web.example.test"]);
    let (_, client, _) = ca.issue("client", &["erin"]);
    let text = ext(&server);
    assert!(
        text.contains("OCSP - URI:https://ca.example.test:8443/ocsp"),
        "{text}"
    );
    assert!(
        text.contains("CA Issuers - URI:https://ca.example.test:8443/ca/server-ca.crt"),
        "{text}"
    );
    assert!(
        text.contains("URI:https://ca.example.test:8443/crl/server-ca.crl"),
        "{text}"
    );
    let text = ext(&client);
    assert!(
        text.contains("CA Issuers - URI:https://ca.example.test:8443/ca/client-ca.crt"),
        "{text}"
    );
    assert!(
        text.contains("URI:https://ca.example.test:8443/crl/client-ca.crl"),
        "{text}"
    );
    assert!(ca.verify("sslserver", &server).status.success());
    assert!(ca.verify("sslclient", &client).status.success());
    let decoded = crate::inspect_one(&server);
    assert!(
        decoded["findings"].as_array().unwrap().is_empty(),
        "{}",
        decoded["findings"]
    );
    assert!(crate::extension(&decoded, "authority_info_access").is_some());
}

/// Every certificate is rehearsed with a throwaway key and linted (mutual-lint, private
/// trust) before the CA's key signs it: what the profile lets through but the lints call
/// broken is refused — exit 1, one line per lint — and nothing is signed, written or
/// recorded. `sign` and `sign --dry-run` refuse the same way.
#[test]
fn pre_issuance_lints_refuse_what_the_profile_lets_through() {
    let ca = Ca::init(&[]);
    let out = ca.out();
    let count = || {
        let output = mutual()
            .args(["list", "--format", "json", "--home"])
            .arg(ca.home())
            .output()
            .unwrap();
        let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        list["certificates"].as_array().unwrap().len()
    };
    let before = count();
    for (args, lint) in [
        (
            vec!["issue", "client", "erin", "--email", "not an email"],
            "e_san_rfc822_name_bad_syntax",
        ),
        (
            vec!["issue", "client", "frank", "--uri", "relative/path"],
            "e_san_uri_not_absolute",
        ),
    ] {
        let output = ca.run(&args, &["--out-dir", out.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("refused [lint_refused]") && stderr.contains(lint),
            "{stderr}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "files were written"
    );
    assert_eq!(count(), before, "a refused certificate was recorded");

    // A CSR from openssl asking for the same: refused by `sign`, and by its dry run.
    let key = ca.path("g.key");
    let csr = ca.path("g.csr");
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key.to_str().unwrap(),
        "-subj",
        "/CN=gina",
        "-addext",
        "subjectAltName=URI:relative/path",
        "-out",
        csr.to_str().unwrap(),
    ]);
    for extra in [&[][..], &["--dry-run"][..]] {
        let output = ca.run(
            &["sign", csr.to_str().unwrap(), "--profile", "client"],
            extra,
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{extra:?}: {stderr}");
        assert!(stderr.contains("e_san_uri_not_absolute"), "{stderr}");
    }
    assert_eq!(count(), before);
}
