//! Whole-command tests of the `mutual` binary against real peers: certificates made by
//! the `openssl` CLI, bundles made by `openssl pkcs12`/`crl2pkcs7`, and a live
//! `openssl s_server`.
#![allow(clippy::unwrap_used)]

mod bad_input;
mod bench;
mod ca;
mod config;
mod corpus;
mod dashboard;
mod endpoint;
mod formats;
mod full_disk;
mod gateway;
mod gateway_clients;
mod keys;
mod lint;
mod pkcs12;
mod pkcs12_export;
mod pki;
mod postgres;
mod probe;
mod probe_audit;
mod real_world;
mod requests_and_crls;
mod revocation;
mod serve;
mod serve_client;
mod serve_enroll;
mod verify;
mod verify_matrix;

use std::path::Path;
use std::sync::OnceLock;

use assert_cmd::Command;
use mutual_test::Corpus;
use serde_json::Value;

/// A path as a command-line argument.
pub(crate) fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A real `mutual serve` on free loopback ports with its home in `dir/home`.
pub(crate) fn start_serve(dir: &Path) -> mutual_test::MutualServe {
    mutual_test::MutualServe::start(
        &assert_cmd::cargo::cargo_bin("mutual"),
        &dir.join("home"),
        &[],
    )
}

/// The `mutual` binary built by cargo for this test run.
pub(crate) fn mutual() -> Command {
    Command::cargo_bin("mutual").unwrap()
}

/// The openssl-generated corpus, made once per test binary.
pub(crate) fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<(tempfile::TempDir, Corpus)> = OnceLock::new();
    let (_, corpus) = CORPUS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let corpus = Corpus::generate(dir.path());
        (dir, corpus)
    });
    corpus
}

/// Runs `mutual inspect --format json ARGS...`, expects success, and returns each JSON
/// document it printed (one per input).
pub(crate) fn inspect_json(args: &[&str]) -> Vec<Value> {
    let output = mutual()
        .arg("inspect")
        .arg("--format")
        .arg("json")
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "mutual inspect {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::Deserializer::from_slice(&output.stdout)
        .into_iter::<Value>()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// The single object of a single-input inspection.
pub(crate) fn inspect_one(path: &Path) -> Value {
    let docs = inspect_json(&[path.to_str().unwrap()]);
    assert_eq!(docs.len(), 1);
    let objects = docs[0]["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 1, "{}", docs[0]);
    objects[0].clone()
}

/// The codes of a certificate's findings.
pub(crate) fn finding_codes(cert: &Value) -> Vec<String> {
    cert["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The extension of a certificate with this `kind`.
pub(crate) fn extension<'a>(cert: &'a Value, kind: &str) -> Option<&'a Value> {
    cert["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind)
}

/// A PKCS#12 with the corpus client's key and certificate and an empty password, made by
/// `openssl pkcs12 -export`.
pub(crate) fn passwordless_p12(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("nopass.p12");
    mutual_test::openssl(&[
        "pkcs12",
        "-export",
        "-in",
        corpus().cert("client").to_str().unwrap(),
        "-inkey",
        corpus().key("client").to_str().unwrap(),
        "-out",
        out.to_str().unwrap(),
        "-passout",
        "pass:",
    ]);
    out
}

/// The base64 body of a PEM file: what must never appear in output when it is a key.
pub(crate) fn pem_body(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.contains(':') && !l.is_empty())
        .collect()
}
