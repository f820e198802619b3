//! `--format pem|der|json` and the documented JSON schema.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{corpus, inspect_json, mutual};
use mutual_test::openssl;

#[test]
fn der_output_is_what_openssl_writes() {
    let path = corpus().cert("server-p384");
    let ours = mutual()
        .args(["inspect", "--format", "der", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(ours.status.success());
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("c.der");
    openssl(&[
        "x509",
        "-in",
        path.to_str().unwrap(),
        "-outform",
        "DER",
        "-out",
        theirs.to_str().unwrap(),
    ]);
    assert_eq!(ours.stdout, std::fs::read(&theirs).unwrap());

    // And DER goes back in: the same certificate, detected without being told.
    let der_path = dir.path().join("ours.der");
    std::fs::write(&der_path, &ours.stdout).unwrap();
    assert_eq!(
        crate::inspect_one(&der_path)["fingerprints"],
        crate::inspect_one(&path)["fingerprints"]
    );
}

#[test]
fn der_refuses_several_objects() {
    let output = mutual()
        .args(["inspect", "--format", "der"])
        .arg(corpus().cert("root"))
        .arg(corpus().cert("intermediate"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("use --format pem"));
}

#[test]
fn pkcs7_bundle_in_der_and_pem() {
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("chain.pem");
    let mut text = std::fs::read_to_string(corpus().cert("server-p256")).unwrap();
    text.push_str(&std::fs::read_to_string(corpus().cert("intermediate")).unwrap());
    std::fs::write(&chain, &text).unwrap();
    for form in ["DER", "PEM"] {
        let p7b = dir.path().join(format!("bundle.{form}.p7b"));
        openssl(&[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            chain.to_str().unwrap(),
            "-outform",
            form,
            "-out",
            p7b.to_str().unwrap(),
        ]);
        let docs = inspect_json(&[p7b.to_str().unwrap()]);
        let bundle = &docs[0]["objects"][0];
        assert_eq!(bundle["type"], "pkcs7", "{form}");
        assert_eq!(
            bundle["certificates"].as_array().unwrap().len(),
            2,
            "{form}"
        );
        assert_eq!(bundle["signer_count"], 0);
        assert_eq!(bundle["certificates"][0]["purpose"]["kind"], "server");
        assert_eq!(
            bundle["certificates"][1]["purpose"]["kind"],
            "intermediate_ca"
        );

        // --format pem turns the bundle back into the chain it was made from.
        let pem = mutual()
            .args(["inspect", "--format", "pem", p7b.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(pem.status.success());
        assert_eq!(String::from_utf8(pem.stdout).unwrap(), text, "{form}");
    }
}

#[test]
fn stdin_and_openssl_text_prepended() {
    // `openssl x509 -text` output followed by the PEM, fed on stdin.
    let path = corpus().cert("client-uri-san");
    let with_text = openssl(&["x509", "-in", path.to_str().unwrap(), "-text"]);
    let output = mutual()
        .args(["inspect", "--format", "json", "-"])
        .write_stdin(with_text)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["input"], "-");
    let san = crate::extension(&doc["objects"][0], "subject_alt_name").unwrap();
    assert_eq!(san["names"][0]["type"], "uri");
    assert_eq!(
        san["names"][0]["value"],
        "spiffe://example.test/workload/api"
    );
}

/// Every key path in real output is documented in docs/inspect-json.md, so the schema
/// cannot drift from the document.
#[test]
fn json_keys_are_documented() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/inspect-json.md"
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p12 = crate::passwordless_p12(dir.path());
    let csr = dir.path().join("r.csr");
    openssl(&[
        "req",
        "-new",
        "-key",
        corpus().key("server-p256").to_str().unwrap(),
        "-subj",
        "/CN=x",
        "-addext",
        "subjectAltName=DNS:x.example.test",
        "-out",
        csr.to_str().unwrap(),
    ]);
    let mut inputs: Vec<String> = ["root", "intermediate"]
        .into_iter()
        .chain(corpus().names())
        .map(|n| corpus().cert(n).to_str().unwrap().to_owned())
        .collect();
    inputs.push(p12.to_str().unwrap().to_owned());
    inputs.push(csr.to_str().unwrap().to_owned());
    inputs.push(corpus().key("server-p256").to_str().unwrap().to_owned());
    let real_world = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/real-world/google.com/leaf.pem"
    );
    if std::path::Path::new(real_world).exists() {
        inputs.push(real_world.to_owned());
    }
    let args: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let mut paths = BTreeSet::new();
    for report in inspect_json(&args) {
        collect_paths(&report, "", &mut paths);
    }
    let missing: Vec<String> = paths
        .iter()
        .map(|p| relative_path(p))
        .filter(|p| !p.is_empty() && !doc.contains(&format!("`{p}`")))
        .collect();
    assert!(missing.is_empty(), "undocumented JSON fields: {missing:#?}");
}

/// The documentation lists fields relative to the object type they belong to; strip the
/// containers (`objects[].`, a PKCS#12 bag's `certificate.`, a key bag's `key.`).
fn relative_path(path: &str) -> String {
    let mut p = path.to_owned();
    for (container, replacement) in [
        ("objects[].certificates[].certificate.", ""),
        ("objects[].keys[].key.", ""),
        ("objects[].crls[].", ""),
        ("objects[].", ""),
        ("requested_extensions[].", "extensions[]."),
    ] {
        if let Some(rest) = p.strip_prefix(container) {
            p = format!("{replacement}{rest}");
        }
    }
    match p.as_str() {
        "objects[].certificates[].certificate" | "objects[].keys[].key" => String::new(),
        _ => p.replace("objects[].", ""),
    }
}

/// Key paths like `objects[].purpose.kind`.
pub(crate) fn collect_paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.insert(path.clone());
                collect_paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let path = corpus().cert("server-client");
    let piped = mutual().arg("inspect").arg(&path).output().unwrap();
    assert!(!piped.stdout.contains(&0x1b), "no escape codes when piped");
    let forced = mutual()
        .env("CLICOLOR_FORCE", "1")
        .arg("inspect")
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8(forced.stdout).unwrap();
    assert!(text.contains("\u{1b}[32myes serverAuth"), "{text}");
    assert!(
        text.contains("warning\u{1b}[0m [server_and_client_eku]"),
        "{text}"
    );
    let no_colour = mutual()
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .arg("inspect")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!no_colour.stdout.contains(&0x1b), "NO_COLOR wins");
}
