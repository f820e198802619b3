//! PKCS#12 bundles written by `mutual issue client --p12` and `mutual pkcs12 export`, read
//! by real peers: `openssl pkcs12` (modern, and `-legacy` — which OpenSSL 3 needs for the
//! legacy flavour, proving it is one), NSS's `pk12util` into a fresh database (the store
//! Firefox and Chromium on Linux use), `mutual inspect`, and `mutual pkcs12 import`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::ca::{Ca, PASSPHRASE as PASSWORD, mode};
use crate::s;
use crate::{inspect_json, mutual};
use mutual_test::{openssl, openssl_output, require_tool};

/// What these tests do with a CA beyond `ca.rs`'s helper.
trait Pkcs12Ca {
    fn issue_client(&self, name: &str, extra: &[&str]) -> (PathBuf, PathBuf);
    fn export(&self, name: &str, extra: &[&str]) -> (PathBuf, Output);
}

impl Pkcs12Ca for Ca {
    /// `mutual issue client NAME --out-dir OUT EXTRA...`; the paths of NAME.key.pem and NAME.pem.
    fn issue_client(&self, name: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
        let out = self.out();
        let mut args = vec!["--out-dir", out.to_str().unwrap()];
        args.extend(extra);
        let output = self.run(&["issue", "client", name], &args);
        assert!(output.status.success(), "issue {name}: {}", stderr(&output));
        (
            out.join(format!("{name}.key.pem")),
            out.join(format!("{name}.pem")),
        )
    }

    /// `mutual pkcs12 export` of NAME's files with the client CA as chain.
    fn export(&self, name: &str, extra: &[&str]) -> (PathBuf, Output) {
        let out = self.out();
        let p12 = out.join(format!("{name}-export.p12"));
        let output = mutual()
            .args(["pkcs12", "export", "--cert"])
            .arg(out.join(format!("{name}.pem")))
            .arg("--key")
            .arg(out.join(format!("{name}.key.pem")))
            .arg("--chain")
            .arg(self.ca_file("client-ca.pem"))
            .arg("--out")
            .arg(&p12)
            .arg("--password-file")
            .arg(self.pass())
            .args(extra)
            .output()
            .unwrap();
        (p12, output)
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `openssl pkcs12 -in P12 -passin file:PASS ARGS...`.
fn openssl_pkcs12(p12: &Path, pass: &Path, args: &[&str]) -> Output {
    let passin = format!("file:{}", pass.display());
    let mut all = vec!["pkcs12", "-in", s(p12), "-passin", &passin];
    all.extend(args);
    openssl_output(&all)
}

/// The public key of a private key file, as `openssl pkey -pubout` prints it.
fn public_key_of_key(key: &Path) -> String {
    openssl(&["pkey", "-in", s(key), "-pubout"])
}

fn public_key_of_certificate(cert: &Path) -> String {
    openssl(&["x509", "-in", s(cert), "-noout", "-pubkey"])
}

fn fingerprint(cert: &Path) -> String {
    openssl(&["x509", "-in", s(cert), "-noout", "-fingerprint", "-sha256"])
}

/// Reads the bundle back with `openssl pkcs12` (adding `-legacy` when asked) and checks the
/// key it holds is `key`'s, the client certificate is `cert`, and `ca_count` CA
/// certificates come with it. Returns the `-info` report.
fn check_with_openssl(p12: &Path, pass: &Path, key: &Path, cert: &Path, legacy: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let legacy_flag: &[&str] = if legacy { &["-legacy"] } else { &[] };
    let all = openssl_pkcs12(p12, pass, &[&["-nodes", "-info"], legacy_flag].concat());
    assert!(all.status.success(), "openssl pkcs12: {}", stderr(&all));
    let info = stderr(&all) + &String::from_utf8_lossy(&all.stdout);

    let key_out = dir.path().join("key.pem");
    let got = openssl_pkcs12(
        p12,
        pass,
        &[&["-nodes", "-nocerts", "-out", s(&key_out)], legacy_flag].concat(),
    );
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(public_key_of_key(&key_out), public_key_of_key(key));
    assert_eq!(public_key_of_key(&key_out), public_key_of_certificate(cert));

    let cert_out = dir.path().join("cert.pem");
    let got = openssl_pkcs12(
        p12,
        pass,
        &[&["-clcerts", "-nokeys", "-out", s(&cert_out)], legacy_flag].concat(),
    );
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(fingerprint(&cert_out), fingerprint(cert));
    info
}

fn count_certificates(pem: &str) -> usize {
    pem.matches("-----BEGIN CERTIFICATE-----").count()
}

/// `mutual inspect --format json` of a bundle: the one PKCS#12 object.
fn inspect_bundle(p12: &Path, pass: &Path) -> serde_json::Value {
    let docs = inspect_json(&[s(p12), "--password-file", s(pass)]);
    let bundle = docs[0]["objects"][0].clone();
    assert_eq!(bundle["type"], "pkcs12", "{bundle}");
    bundle
}

/// The friendly name and localKeyId are on the key and on the leaf, and match.
fn check_bags(bundle: &serde_json::Value, friendly_name: &str, certificates: usize) {
    let certs = bundle["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), certificates, "{bundle}");
    let keys = bundle["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["friendly_name"], friendly_name);
    let leaf = &certs[keys[0]["matches_certificate"].as_u64().unwrap() as usize];
    assert_eq!(leaf["friendly_name"], friendly_name);
    assert!(keys[0]["local_key_id"].is_string(), "{bundle}");
    assert_eq!(leaf["local_key_id"], keys[0]["local_key_id"]);
    assert_eq!(leaf["certificate"]["purpose"]["kind"], "client");
}

#[test]
fn issue_client_p12_is_modern_and_openssl_reads_it() {
    let ca = Ca::init(&[]);
    let p12 = ca.out().join("alice.p12");
    let (key, cert) = ca.issue_client(
        "alice",
        &["--p12", s(&p12), "--p12-password-file", s(&ca.pass())],
    );
    assert_eq!(mode(&p12), 0o600);

    let info = check_with_openssl(&p12, &ca.pass(), &key, &cert, false);
    assert!(info.contains("MAC: sha256, Iteration 600000"), "{info}");
    assert!(
        info.contains("PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256"),
        "{info}"
    );
    assert!(info.contains("friendlyName: alice"), "{info}");
    // The issuing chain: the client CA and the root.
    let cas = openssl_pkcs12(&p12, &ca.pass(), &["-cacerts", "-nokeys"]);
    assert!(cas.status.success(), "{}", stderr(&cas));
    assert_eq!(count_certificates(&String::from_utf8_lossy(&cas.stdout)), 2);

    let bundle = inspect_bundle(&p12, &ca.pass());
    assert_eq!(bundle["legacy"], false, "{bundle}");
    assert_eq!(bundle["mac"]["algorithm"], "SHA256");
    check_bags(&bundle, "alice", 3);
}

#[test]
fn legacy_bundles_need_openssl_legacy() {
    let ca = Ca::init(&[]);
    let (key, cert) = ca.issue_client("bob", &[]);
    let (p12, output) = ca.export("bob", &["--legacy", "--name", "Bob's laptop"]);
    assert!(output.status.success(), "export: {}", stderr(&output));
    assert_eq!(mode(&p12), 0o600);

    // OpenSSL 3 keeps RC2 in its legacy provider: without -legacy it refuses the bundle.
    let refused = openssl_pkcs12(&p12, &ca.pass(), &["-nodes"]);
    assert!(!refused.status.success(), "OpenSSL 3 read a legacy bundle");
    assert!(
        stderr(&refused).contains("RC2-40-CBC"),
        "{}",
        stderr(&refused)
    );

    let info = check_with_openssl(&p12, &ca.pass(), &key, &cert, true);
    assert!(info.contains("MAC: sha1, Iteration 2048"), "{info}");
    assert!(
        info.contains("pbeWithSHA1And40BitRC2-CBC, Iteration 2048"),
        "{info}"
    );
    assert!(
        info.contains("Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048"),
        "{info}"
    );

    let bundle = inspect_bundle(&p12, &ca.pass());
    assert_eq!(bundle["legacy"], true, "{bundle}");
    assert_eq!(bundle["mac"]["algorithm"], "SHA1");
    check_bags(&bundle, "Bob's laptop", 2);
}

/// Runs an NSS tool, panicking with its output when it fails.
fn nss(tool: &str, args: &[&str]) -> String {
    let output = Command::new(require_tool(tool))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`{tool} {}` failed: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn nss_imports_both_flavours() {
    let ca = Ca::init(&[]);
    let modern = ca.out().join("carol.p12");
    let (_, cert) = ca.issue_client(
        "carol",
        &["--p12", s(&modern), "--p12-password-file", s(&ca.pass())],
    );
    let legacy = ca.out().join("dave.p12");
    let (_, dave_cert) = ca.issue_client(
        "dave",
        &[
            "--p12",
            s(&legacy),
            "--p12-password-file",
            s(&ca.pass()),
            "--legacy-p12",
        ],
    );
    for (p12, name, leaf) in [(&modern, "carol", &cert), (&legacy, "dave", &dave_cert)] {
        let db = tempfile::tempdir().unwrap();
        let db = format!("sql:{}", db.path().display());
        nss("certutil", &["-N", "-d", &db, "--empty-password"]);
        let imported = nss("pk12util", &["-i", s(p12), "-d", &db, "-W", PASSWORD]);
        assert!(imported.contains("PKCS12 IMPORT SUCCESSFUL"), "{imported}");

        // The friendly name is the nickname, and the certificate is a user certificate
        // (`u`: NSS holds its key).
        let listed = nss("certutil", &["-L", "-d", &db]);
        let line = listed
            .lines()
            .find(|line| line.starts_with(name))
            .unwrap_or_else(|| panic!("no `{name}` in:\n{listed}"));
        assert!(line.trim_end().ends_with("u,u,u"), "{listed}");
        let keys = nss("certutil", &["-K", "-d", &db]);
        assert!(
            keys.lines().any(|line| line.trim_end().ends_with(name)),
            "{keys}"
        );
        // It is our certificate.
        let exported = nss("certutil", &["-L", "-d", &db, "-n", name, "-a"]);
        let out = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(out.path(), exported).unwrap();
        assert_eq!(fingerprint(out.path()), fingerprint(leaf));
    }
}

#[test]
fn import_round_trips_to_the_same_key_and_certificate() {
    let ca = Ca::init(&[]);
    let p12 = ca.out().join("erin.p12");
    let (key, cert) = ca.issue_client(
        "erin",
        &["--p12", s(&p12), "--p12-password-file", s(&ca.pass())],
    );
    let (legacy, output) = ca.export("erin", &["--legacy"]);
    assert!(output.status.success(), "{}", stderr(&output));

    for (bundle, cas) in [(&p12, 2), (&legacy, 1)] {
        let dir = tempfile::tempdir().unwrap();
        let output = mutual()
            .args(["pkcs12", "import"])
            .arg(bundle)
            .arg("--password-file")
            .arg(ca.pass())
            .arg("--out-dir")
            .arg(dir.path())
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "import: {}", stderr(&output));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["friendly_name"], "erin");
        assert_eq!(report["ca_certificates"], cas);

        let got_key = dir.path().join("erin.key.pem");
        let got_cert = dir.path().join("erin.pem");
        let got_chain = dir.path().join("erin.chain.pem");
        assert_eq!(mode(&got_key), 0o600);
        assert_eq!(mode(&got_cert), 0o644);
        // The same key: openssl prints the same private key from both files.
        assert_eq!(
            openssl(&["pkey", "-in", s(&got_key)]),
            openssl(&["pkey", "-in", s(&key)])
        );
        assert_eq!(fingerprint(&got_cert), fingerprint(&cert));
        let chain = std::fs::read_to_string(&got_chain).unwrap();
        assert_eq!(count_certificates(&chain), 1 + cas);
        // The chain verifies as a client chain.
        let verified = openssl_output(&[
            "verify",
            "-CAfile",
            ca.ca_file("root.pem").as_str(),
            "-untrusted",
            s(&got_chain),
            "-purpose",
            "sslclient",
            s(&got_cert),
        ]);
        assert!(verified.status.success(), "{}", stderr(&verified));
    }
}

#[test]
fn import_reads_what_openssl_writes() {
    let ca = Ca::init(&[]);
    let (key, cert) = ca.issue_client("frank", &[]);
    for legacy in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let p12 = dir.path().join("from-openssl.p12");
        let passout = format!("file:{}", ca.pass().display());
        let mut args = vec![
            "pkcs12",
            "-export",
            "-in",
            s(&cert),
            "-inkey",
            s(&key),
            "-out",
            s(&p12),
            "-passout",
            &passout,
        ];
        if legacy {
            args.push("-legacy");
        }
        openssl(&args);
        let output = mutual()
            .args(["pkcs12", "import"])
            .arg(&p12)
            .arg("--password-file")
            .arg(ca.pass())
            .arg("--out-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        // No friendly name: the files are named for the bundle.
        let got_key = dir.path().join("from-openssl.key.pem");
        assert_eq!(
            public_key_of_key(&got_key),
            public_key_of_certificate(&cert)
        );
        assert_eq!(
            fingerprint(&dir.path().join("from-openssl.pem")),
            fingerprint(&cert)
        );
    }
}

/// Runs `mutual ARGS`, expects exit 2 and one line on stderr containing every `needle`.
fn refused(args: &[&str], needles: &[&str]) {
    let output = mutual().args(args).output().unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
    assert_eq!(text.trim_end().lines().count(), 1, "{args:?}: {text}");
    for needle in needles {
        assert!(
            text.contains(needle),
            "{args:?}: expected {needle:?} in {text}"
        );
    }
}

#[test]
fn wrong_password_is_exit_2_with_a_clear_line() {
    let ca = Ca::init(&[]);
    let p12 = ca.out().join("grace.p12");
    ca.issue_client(
        "grace",
        &["--p12", s(&p12), "--p12-password-file", s(&ca.pass())],
    );
    let wrong = ca.path("wrong");
    std::fs::write(&wrong, "not the password\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    refused(
        &[
            "pkcs12",
            "import",
            s(&p12),
            "--password-file",
            s(&wrong),
            "--out-dir",
            s(dir.path()),
        ],
        &[s(&p12), "the password does not open the PKCS#12"],
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn bad_input_is_exit_2_naming_the_input() {
    let ca = Ca::init(&[]);
    let (alice_key, alice_cert) = ca.issue_client("alice", &[]);
    let (bob_key, _) = ca.issue_client("bob", &[]);
    let out = ca.out();
    let p12 = out.join("x.p12");
    let pass = ca.pass();
    let missing = out.join("missing.pem");
    let export = |cert: &Path, key: &Path| -> Vec<String> {
        [
            "pkcs12",
            "export",
            "--cert",
            s(cert),
            "--key",
            s(key),
            "--out",
            s(&p12),
            "--password-file",
            s(&pass),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let refused_export = |args: Vec<String>, needles: &[&str]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, needles);
        assert!(!p12.exists(), "{args:?} wrote a bundle");
    };

    refused_export(export(&missing, &alice_key), &["--cert", "missing.pem"]);
    refused_export(export(&alice_cert, &missing), &["--key", "missing.pem"]);
    refused_export(
        export(&alice_cert, &bob_key),
        &[
            "bob.key.pem",
            "alice.pem",
            "does not belong to the certificate",
        ],
    );
    refused_export(
        export(&alice_key, &alice_key),
        &[
            "--cert",
            "expected a `CERTIFICATE` PEM block; found `PRIVATE KEY`",
        ],
    );
    refused_export(
        export(&alice_cert, &alice_cert),
        &["--key", "expected a `PRIVATE KEY`"],
    );
    let short = ca.path("short");
    std::fs::write(&short, "short\n").unwrap();
    let mut args = export(&alice_cert, &alice_key);
    args[9] = s(&short).to_owned();
    refused_export(args, &["PKCS#12 password", "at least 8"]);
    let mut args = export(&alice_cert, &alice_key);
    args.truncate(8); // no --password-file, no variable, no terminal
    refused_export(
        args,
        &[
            "no PKCS#12 password",
            "--password-file FILE",
            "MUTUAL_P12_PASSWORD",
        ],
    );

    // Never overwrites: an existing --out is refused and left as it was.
    std::fs::write(&p12, "keep me").unwrap();
    let args = export(&alice_cert, &alice_key);
    refused(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &["exists"],
    );
    assert_eq!(std::fs::read_to_string(&p12).unwrap(), "keep me");

    // Not a PKCS#12.
    refused(
        &[
            "pkcs12",
            "import",
            s(&alice_cert),
            "--password-file",
            s(&pass),
            "--out-dir",
            s(&out),
        ],
        &["alice.pem", "not a readable PKCS#12", "found PEM text"],
    );
    let junk = out.join("junk.p12");
    std::fs::write(&junk, [0x30, 0x03, 0x02, 0x01, 0x03]).unwrap();
    refused(
        &[
            "pkcs12",
            "import",
            s(&junk),
            "--password-file",
            s(&pass),
            "--out-dir",
            s(&out),
        ],
        &["junk.p12", "not a readable PKCS#12"],
    );
    refused(
        &["pkcs12", "import", s(&missing), "--password-file", s(&pass)],
        &["missing.pem"],
    );

    // --p12-password-file and --legacy-p12 mean nothing without --p12: a usage error, and
    // nothing issued.
    for flag in [
        &["--p12-password-file", s(&pass)][..],
        &["--legacy-p12"][..],
    ] {
        let output = ca.run(&["issue", "client", "henry"], flag);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("--p12 <FILE>"),
            "{}",
            stderr(&output)
        );
        assert!(!out.join("henry.pem").exists());
    }
    // A friendly name PKCS#12 cannot hold is refused before anything is issued.
    let output = ca.run(
        &["issue", "client", "ivan 😀"],
        &[
            "--out-dir",
            s(&out),
            "--p12",
            s(&out.join("ivan.p12")),
            "--p12-password-file",
            s(&pass),
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("friendly name"),
        "{}",
        stderr(&output)
    );
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("ivan"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
