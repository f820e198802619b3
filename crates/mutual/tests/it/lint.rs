//! `mutual lint` through the real binary: certificates made by the `openssl` CLI (the
//! shared corpus and a few more), files, directories and standard input, text and JSON,
//! exit codes, and the documented JSON schema.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::formats::collect_paths;
use crate::{corpus, mutual};
use mutual_test::openssl;

/// Runs `mutual lint --format json ARGS...`; returns the exit code and each document.
fn lint_json(args: &[&str]) -> (i32, Vec<Value>) {
    let output = mutual()
        .args(["lint", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let docs = serde_json::Deserializer::from_slice(&output.stdout)
        .into_iter::<Value>()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (output.status.code().unwrap(), docs)
}

/// The result of one lint on the single certificate of a single-input run.
fn result(doc: &Value, code: &str) -> String {
    doc["certificates"][0]["results"][code]["result"]
        .as_str()
        .unwrap_or_else(|| panic!("no result for {code}: {doc}"))
        .to_owned()
}

fn path(name: &str) -> String {
    corpus().cert(name).to_str().unwrap().to_owned()
}

/// The corpus shapes, each flagged by the lint that is about it.
#[test]
fn corpus_certificates_are_flagged_by_the_right_lint() {
    for (name, code, want) in [
        ("server-cn-only", "e_server_without_dns_or_ip_san", "error"),
        ("client-with-dns-san", "n_client_dns_san", "notice"),
        ("leaf-ca-true", "e_leaf_ca_true", "error"),
        ("any-eku", "w_leaf_eku_any", "warn"),
        ("no-eku", "w_leaf_eku_missing", "warn"),
        ("server-client", "w_leaf_server_and_client_auth", "warn"),
        ("self-signed-leaf", "n_leaf_self_signed", "notice"),
        ("server-p256", "e_server_without_dns_or_ip_san", "pass"),
        ("server-rsa2048", "e_rsa_modulus_under_2048_bits", "pass"),
        ("client", "n_client_dns_san", "pass"),
        ("root", "e_subject_key_identifier_missing_ca", "pass"),
    ] {
        let (_, docs) = lint_json(&[&path(name)]);
        assert_eq!(docs.len(), 1, "{name}");
        assert_eq!(result(&docs[0], code), want, "{name}: {code}");
    }
}

/// Exit 1 when a finding at or above --min-severity exists (default error), else 0.
#[test]
fn exit_status_follows_min_severity() {
    let code = |args: &[&str]| {
        mutual()
            .arg("lint")
            .args(args)
            .output()
            .unwrap()
            .status
            .code()
    };
    let server_cn_only = path("server-cn-only");
    assert_eq!(code(&[&server_cn_only]), Some(1), "an error");
    // any-eku: warnings only.
    let any_eku = path("any-eku");
    let (status, docs) = lint_json(&[&any_eku]);
    let findings: Vec<&str> = docs[0]["certificates"][0]["results"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|r| r["result"].as_str())
        .filter(|r| *r == "error")
        .collect();
    assert!(findings.is_empty(), "{}", docs[0]);
    assert_eq!(status, 0);
    assert_eq!(code(&["--min-severity", "warn", &any_eku]), Some(1));
    assert_eq!(code(&["--min-severity", "error", &any_eku]), Some(0));
}

/// `--trust private` (the default) makes public-trust-only rules notices.
#[test]
fn trust_private_and_public() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = openssl_server(dir.path(), "db.internal", "DNS:db.internal,IP:10.1.2.3");
    let (status, docs) = lint_json(&[&cert]);
    assert_eq!(result(&docs[0], "e_server_dns_name_internal"), "notice");
    assert_eq!(result(&docs[0], "e_server_ip_address_reserved"), "notice");
    assert_eq!(docs[0]["trust"], "private");
    assert_eq!(status, 0, "{}", docs[0]);
    let (status, docs) = lint_json(&["--trust", "public", &cert]);
    assert_eq!(result(&docs[0], "e_server_dns_name_internal"), "error");
    assert_eq!(result(&docs[0], "e_server_ip_address_reserved"), "error");
    assert_eq!(status, 1);
}

/// A self-signed P-256 server certificate made by `openssl req -x509`, 90 days.
fn openssl_server(dir: &Path, cn: &str, san: &str) -> (String, String) {
    let cert = dir.join(format!("{cn}.pem"));
    let key = dir.join(format!("{cn}.key"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
        "-days",
        "90",
        "-subj",
        &format!("/CN={cn}"),
        "-addext",
        &format!("subjectAltName={san}"),
        "-addext",
        "extendedKeyUsage=serverAuth",
        "-addext",
        "keyUsage=critical,digitalSignature",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ]);
    (
        cert.to_str().unwrap().to_owned(),
        key.to_str().unwrap().to_owned(),
    )
}

/// Directories are walked recursively; keys found there are skipped; `-` is stdin; a CSR
/// is linted as a request; the text output ends with a table of findings by lint.
#[test]
fn directories_stdin_requests_and_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::copy(corpus().cert("server-cn-only"), nested.join("one.pem")).unwrap();
    std::fs::copy(corpus().cert("any-eku"), dir.path().join("two.pem")).unwrap();
    std::fs::copy(corpus().key("server-p256"), dir.path().join("a/key.pem")).unwrap();
    let (status, docs) = lint_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(status, 1);
    assert_eq!(docs.len(), 2, "the key is skipped: {docs:?}");

    let output = mutual().arg("lint").arg(dir.path()).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("2 certificates and requests linted, 1 with errors"),
        "{text}"
    );
    assert!(text.contains("e_server_without_dns_or_ip_san"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("lint ") && l.contains("notice")),
        "{text}"
    );
    assert!(!text.contains("\u{1b}["), "no colour when not a terminal");

    let csr = dir.path().join("r.csr");
    openssl(&[
        "req",
        "-new",
        "-key",
        corpus().key("server-p256").to_str().unwrap(),
        "-subj",
        "/CN=api.example.com",
        "-addext",
        "subjectAltName=DNS:api.example.com",
        "-out",
        csr.to_str().unwrap(),
    ]);
    let output = mutual()
        .args(["lint", "--format", "json", "-"])
        .write_stdin(std::fs::read(&csr).unwrap())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["input"], "-");
    assert_eq!(doc["certificates"][0]["kind"], "certificate_request");
    assert_eq!(result(&doc, "e_csr_signature_invalid"), "pass");
}

/// Many files, linted on every core and written as they finish: the documents still come
/// in path order (depth first, names sorted), the same on every run, with keys skipped and
/// a broken file reported on stderr without stopping the others.
#[test]
fn many_files_come_out_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let shapes = ["server-p256", "client", "any-eku", "server-cn-only"];
    let mut expected = Vec::new();
    for i in 0..240 {
        let sub = dir
            .path()
            .join(format!("d{}", i % 3))
            .join(format!("e{}", i % 2));
        std::fs::create_dir_all(&sub).unwrap();
        let file = sub.join(format!("c{i:03}.pem"));
        std::fs::copy(corpus().cert(shapes[i % shapes.len()]), &file).unwrap();
        expected.push(file.to_str().unwrap().to_owned());
    }
    std::fs::copy(corpus().key("client"), dir.path().join("d1/key.pem")).unwrap();
    let broken = dir.path().join("d2/e0/c000x.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    expected.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));

    let run = || {
        mutual()
            .args(["lint", "--format", "json"])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let output = run();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("c000x.pem"), "{stderr}");
    let docs: Vec<Value> = serde_json::Deserializer::from_slice(&output.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap();
    let inputs: Vec<&str> = docs.iter().map(|d| d["input"].as_str().unwrap()).collect();
    assert_eq!(inputs, expected);
    assert_eq!(run().stdout, output.stdout, "the same bytes on every run");

    let text = mutual().arg("lint").arg(dir.path()).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    let headers: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("==> ")?.strip_suffix(" <=="))
        .collect();
    assert_eq!(headers, expected);
    assert!(
        text.contains("240 certificates and requests linted, 60 with errors"),
        "{}",
        &text[text.len().saturating_sub(2000)..]
    );
}

/// A CA home without `[server] url` issues certificates that name no CRL and no OCSP
/// responder: `mutual issue` still issues them (the pre-issuance gate refuses on errors
/// only), and `mutual lint` says so with a notice — the BR's rule for the server
/// certificate (an error under `--trust public`), mutual's own for the client one. With
/// `[server] url` both pass.
#[test]
fn revocation_pointers_are_a_notice_for_a_home_without_a_server_url() {
    let ca = crate::ca::Ca::init(&[]);
    let (_, server, _) = ca.issue("server", &["plain.example.test"]);
    let (_, client, _) = ca.issue("client", &["erin"]);
    let server_path = server.to_str().unwrap();
    let client_path = client.to_str().unwrap();
    let (status, docs) = lint_json(&[server_path, client_path]);
    assert_eq!(status, 0, "notices do not fail the default --min-severity");
    assert_eq!(
        result(&docs[0], "e_server_revocation_information_missing"),
        "notice"
    );
    assert_eq!(
        result(&docs[0], "n_leaf_revocation_information_missing"),
        "NA"
    );
    assert_eq!(
        result(&docs[1], "n_leaf_revocation_information_missing"),
        "notice"
    );
    let (_, docs) = lint_json(&["--trust", "public", server_path]);
    assert_eq!(
        result(&docs[0], "e_server_revocation_information_missing"),
        "error"
    );

    std::fs::write(
        ca.home().join("mutual.toml"),
        "[server]\nurl = \"http://ca.example.test/\"\n",
    )
    .unwrap();
    let (_, server, _) = ca.issue("server", &["web.example.test"]);
    let (_, client, _) = ca.issue("client", &["frank"]);
    let (_, docs) = lint_json(&[server.to_str().unwrap(), client.to_str().unwrap()]);
    assert_eq!(
        result(&docs[0], "e_server_revocation_information_missing"),
        "pass"
    );
    assert_eq!(
        result(&docs[1], "n_leaf_revocation_information_missing"),
        "pass"
    );
}

/// Broken input: exit 2 and one line naming the input; the other inputs are still linted.
#[test]
fn bad_input_is_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, [0x30, 0x82, 0x10, 0x00, 0x01]).unwrap();
    let key = corpus().key("client");
    for (input, expected) in [
        (garbage.to_str().unwrap(), "garbage.bin"),
        (
            key.to_str().unwrap(),
            "holds no certificate or certificate request",
        ),
        ("/nonexistent/cert.pem", "could not be opened"),
    ] {
        let output = mutual().args(["lint", input]).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{input}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
    let (status, docs) = lint_json(&[garbage.to_str().unwrap(), &path("client")]);
    assert_eq!(status, 2);
    assert_eq!(docs.len(), 1);
}

/// `--list` prints the registry; `--format json` as an array of entries.
#[test]
fn list_prints_the_registry() {
    let output = mutual().args(["lint", "--list"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let count: usize = text
        .lines()
        .last()
        .and_then(|l| l.strip_suffix(" lints"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(count >= 80, "{count}");
    assert!(text.contains("e_server_validity_over_47_days"));
    let (status, docs) = lint_json(&["--list"]);
    assert_eq!(status, 0);
    assert_eq!(docs[0].as_array().unwrap().len(), count);
}

/// Every key path in real output (and `--list --format json`) is documented in
/// docs/lint-json.md.
#[test]
fn lint_json_keys_are_documented() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/lint-json.md"
    ))
    .unwrap();
    let mut inputs: Vec<String> = ["root", "intermediate"]
        .into_iter()
        .chain(corpus().names())
        .map(path)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let csr = dir.path().join("r.csr");
    openssl(&[
        "req",
        "-new",
        "-key",
        corpus().key("server-p256").to_str().unwrap(),
        "-subj",
        "/CN=x",
        "-out",
        csr.to_str().unwrap(),
    ]);
    inputs.push(csr.to_str().unwrap().to_owned());
    let args: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let mut paths = BTreeSet::new();
    for report in lint_json(&args).1 {
        collect_paths(&report, "", &mut paths);
    }
    for entry in lint_json(&["--list"]).1 {
        collect_paths(&entry, "list", &mut paths);
    }
    let codes: BTreeSet<String> = lint_json(&["--list"]).1[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect();
    let missing: Vec<String> = paths
        .iter()
        .map(|p| {
            // Results are keyed by lint id: document the shape once.
            p.split('.')
                .map(|segment| {
                    if codes.contains(segment) {
                        "<lint_id>"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .filter(|p| !doc.contains(&format!("`{p}`")))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(missing.is_empty(), "undocumented JSON fields: {missing:#?}");
}
