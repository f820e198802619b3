//! `mutual verify` as a command: real chains served by public sites (agreeing with
//! `openssl verify`), certificates from `mutual init`/`issue` checked for each purpose, bad
//! input, batch mode, and the JSON schema against docs/verify-json.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::ca::Ca;
use crate::mutual;
use crate::s;
use mutual_test::openssl_output;

fn real_world_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/real-world"
    ))
}

/// (site, host, validate-at) from the corpus README's table.
fn sites() -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(real_world_dir().join("README.md"))
        .expect("the real-world corpus is at ../shared/corpus/real-world");
    readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() > 4 && cells[3].starts_with("20")).then(|| {
                (
                    cells[1].to_owned(),
                    cells[2].to_owned(),
                    cells[3].to_owned(),
                )
            })
        })
        .collect()
}

/// Runs `mutual verify ARGS --format json`; returns (exit code, document).
pub(crate) fn verify_json(args: &[&str]) -> (i32, Value) {
    let output = mutual()
        .arg("verify")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let code = output.status.code().unwrap();
    let document = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "verify {args:?} (exit {code}) wrote no JSON ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (code, document)
}

pub(crate) fn codes(document: &Value, list: &str) -> BTreeSet<String> {
    document[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn real_world_chains_are_valid_for_their_host_as_openssl_says() {
    let sites = sites();
    assert!(sites.len() >= 10, "{sites:?}");
    for (site, host, at) in sites {
        let dir = real_world_dir().join(&site);
        let (leaf, intermediates, roots) = (
            dir.join("leaf.pem"),
            dir.join("intermediates.pem"),
            dir.join("roots.pem"),
        );
        let args = [
            s(&leaf),
            "--untrusted",
            s(&intermediates),
            "--trusted",
            s(&roots),
            "--host",
            &host,
            "--at",
            &at,
        ];
        let (code, document) = verify_json(&args);
        assert_eq!(code, 0, "{site}: {document:#}");
        assert_eq!(document["valid"], true);
        assert_eq!(document["purpose"], "server", "--host implies server");
        let chain = document["chain"].as_array().unwrap();
        assert_eq!(chain.first().unwrap()["role"], "leaf");
        assert_eq!(chain.last().unwrap()["role"], "trust_anchor", "{site}");

        let at_unix =
            time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
                .unwrap()
                .unix_timestamp()
                .to_string();
        let openssl = openssl_output(&[
            "verify",
            "-attime",
            &at_unix,
            "-purpose",
            "sslserver",
            "-verify_hostname",
            &host,
            "-CAfile",
            s(&roots),
            "-untrusted",
            s(&intermediates),
            s(&leaf),
        ]);
        assert!(
            openssl.status.success(),
            "{site}: openssl disagrees: {}",
            String::from_utf8_lossy(&openssl.stdout)
        );

        // The same chain for another name, and a year after the leaf's end.
        let (code, document) = verify_json(&[
            s(&leaf),
            "--untrusted",
            s(&intermediates),
            "--trusted",
            s(&roots),
            "--host",
            "not-this-site.example",
            "--at",
            &at,
        ]);
        assert_eq!(code, 1);
        assert_eq!(
            codes(&document, "errors"),
            BTreeSet::from(["hostname_mismatch".to_owned()]),
            "{site}"
        );
        let (code, document) = verify_json(&[
            s(&leaf),
            "--untrusted",
            s(&intermediates),
            "--trusted",
            s(&roots),
            "--at",
            "2031-01-01T00:00:00Z",
        ]);
        assert_eq!(code, 1, "{site}");
        assert!(
            codes(&document, "errors").contains("expired"),
            "{site}: {document:#}"
        );
    }
}

#[test]
fn debian_roots_are_the_default_trust_store() {
    let (site, host, at) = sites()
        .into_iter()
        .find(|(site, ..)| site == "google.com")
        .expect("google.com is in the corpus");
    let dir = real_world_dir().join(&site);
    let args = [
        s(&dir.join("leaf.pem")).to_owned(),
        "--untrusted".into(),
        s(&dir.join("intermediates.pem")).to_owned(),
        "--host".into(),
        host,
        "--at".into(),
        at,
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, document) = verify_json(&args);
    assert_eq!(code, 0, "{document:#}");
    // Without the intermediates the path breaks at the leaf's issuer, named with its AKI.
    let (code, document) = verify_json(&[args[0], args[3], args[4], args[5], args[6]]);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&document, "errors"),
        BTreeSet::from(["unknown_issuer".to_owned()])
    );
    let evidence: Vec<&str> = document["errors"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(evidence.contains(&"missing_issuer"), "{evidence:?}");
    assert!(evidence.contains(&"authority_key_id"), "{evidence:?}");
}

#[test]
fn issued_certificates_are_valid_for_their_purpose_only() {
    let ca = Ca::init(&[]);
    let (_, server, server_chain) = ca.issue("server", &["api.example.internal"]);
    let (_, client, client_chain) = ca.issue("client", &["alice"]);
    let root = ca.ca_file("root.pem");

    let check = |leaf: &Path, purpose: &str, expected: &[&str]| {
        let (code, document) = verify_json(&[s(leaf), "--trusted", &root, "--purpose", purpose]);
        let errors = codes(&document, "errors");
        let expected: BTreeSet<String> = expected.iter().map(|c| (*c).to_owned()).collect();
        assert_eq!(
            errors,
            expected,
            "{} as {purpose}: {document:#}",
            leaf.display()
        );
        assert_eq!(code, if expected.is_empty() { 0 } else { 1 });
        document
    };
    check(&server_chain, "server", &[]);
    check(&client_chain, "client", &[]);
    check(&server_chain, "any", &[]);
    // The leaf's EKU and its CA's EKU both say no.
    let document = check(&client_chain, "server", &["eku_mismatch"]);
    let messages: Vec<&str> = document["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("client certificate")),
        "{messages:?}"
    );
    check(&server_chain, "client", &["eku_mismatch"]);
    // The leaf alone: its issuing CA is missing.
    check(&server, "server", &["unknown_issuer"]);
    check(&client, "client", &["unknown_issuer"]);

    // --host and the default purpose it implies.
    let (code, document) = verify_json(&[
        s(&server_chain),
        "--trusted",
        &root,
        "--host",
        "API.example.internal.",
    ]);
    assert_eq!(code, 0, "{document:#}");
    assert_eq!(document["purpose"], "server");
    let (code, document) = verify_json(&[s(&client_chain), "--trusted", &root, "--host", "alice"]);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&document, "errors"),
        BTreeSet::from(["eku_mismatch".to_owned(), "hostname_mismatch".to_owned()])
    );
    // The client CA alone as trust anchor (what a gateway trusts): least privilege holds.
    let client_ca = ca.ca_file("client-ca.pem");
    let (code, _) = verify_json(&[s(&client), "--trusted", &client_ca, "--purpose", "client"]);
    assert_eq!(code, 0);
    let (code, document) =
        verify_json(&[s(&server), "--trusted", &client_ca, "--purpose", "server"]);
    assert_eq!(code, 1);
    assert!(codes(&document, "errors").contains("unknown_issuer"));

    // Text output says which purpose was checked.
    let output = mutual()
        .args([
            "verify",
            s(&client_chain),
            "--trusted",
            &root,
            "--purpose",
            "client",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.starts_with("VALID: checked as a TLS client (EKU clientAuth)"),
        "{text}"
    );
}

#[test]
fn batch_mode_judges_every_leaf_under_one_trust_setup() {
    let ca = Ca::init(&[]);
    let (_, server, _) = ca.issue("server", &["a.example.internal"]);
    let (_, client, _) = ca.issue("client", &["bob"]);
    let list = ca.path("leaves.txt");
    std::fs::write(
        &list,
        format!("# leaves\n{}\n\n{}\n", server.display(), client.display()),
    )
    .unwrap();
    let untrusted = ca.path("intermediates.pem");
    let intermediates = std::fs::read_to_string(ca.ca_file("server-ca.pem")).unwrap()
        + &std::fs::read_to_string(ca.ca_file("client-ca.pem")).unwrap();
    std::fs::write(&untrusted, intermediates).unwrap();
    let root = ca.ca_file("root.pem");
    let base = [
        "--batch",
        s(&list),
        "--trusted",
        &root,
        "--untrusted",
        s(&untrusted),
    ];
    let (code, document) = verify_json(&[&base[..], &["--purpose", "any"]].concat());
    assert_eq!(code, 0, "{document:#}");
    assert_eq!(document["schema"], "mutual.verify-batch/v1");
    assert_eq!(document["valid"], 2);
    // The pool holds both CAs: no chain_order warning for the stranger in a shared pool.
    for result in document["results"].as_array().unwrap() {
        assert!(codes(result, "warnings").is_empty(), "{result:#}");
    }
    let (code, document) = verify_json(&[&base[..], &["--purpose", "client"]].concat());
    assert_eq!(code, 1);
    assert_eq!(
        (document["valid"].clone(), document["invalid"].clone()),
        (1.into(), 1.into())
    );
    assert_eq!(document["results"][0]["valid"], false);
    assert_eq!(document["results"][1]["valid"], true);
}

#[test]
fn bad_input_is_one_line_and_exit_2_but_a_broken_certificate_is_a_verdict() {
    let ca = Ca::init(&[]);
    let (key, server, _) = ca.issue("server", &["x.example.internal"]);
    let root = ca.ca_file("root.pem");
    let csr = ca.path("x.csr");
    mutual_test::openssl(&[
        "req",
        "-new",
        "-key",
        s(&key),
        "-subj",
        "/CN=x",
        "-out",
        s(&csr),
    ]);
    let missing = ca.path("missing.pem");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![s(&missing), "--trusted", &root], "could not be opened"),
        (
            vec![s(&csr), "--trusted", &root],
            "expected a certificate to verify",
        ),
        (
            vec![s(&server), "--trusted", s(&csr)],
            "expected certificates",
        ),
        (
            vec![s(&server), "--trusted", &root, "--eku", "serverauth.x"],
            "--eku",
        ),
        (
            vec![s(&server), "--trusted", &root, "--host", "bad host"],
            "--host",
        ),
        (
            vec![s(&server), "--trusted", &root, "--at", "yesterday"],
            "--at",
        ),
        (
            vec![s(&server), "--trusted", &root, "--crl", &root],
            "expected a CRL",
        ),
    ];
    for (args, expected) in cases {
        let output = mutual().arg("verify").args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }

    // A certificate whose DER is damaged: exit 1, malformed_certificate.
    let pem = std::fs::read_to_string(&server).unwrap();
    let mut lines: Vec<String> = pem.lines().map(str::to_owned).collect();
    lines[3] = "A".repeat(lines[3].len());
    let broken = ca.path("broken.pem");
    std::fs::write(&broken, lines.join("\n") + "\n").unwrap();
    let (code, document) = verify_json(&[s(&broken), "--trusted", &root]);
    assert_eq!(code, 1, "{document:#}");
    assert_eq!(
        codes(&document, "errors"),
        BTreeSet::from(["malformed_certificate".to_owned()])
    );
}

/// Every key path in real output is documented in docs/verify-json.md.
#[test]
fn json_keys_are_documented() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/verify-json.md"
    ))
    .unwrap();
    let ca = Ca::init(&[]);
    let (_, _, client_chain) = ca.issue("client", &["carol"]);
    let root = ca.ca_file("root.pem");
    let list = ca.path("list.txt");
    std::fs::write(&list, format!("{}\n", client_chain.display())).unwrap();
    let mut paths = BTreeSet::new();
    for args in [
        vec![
            s(&client_chain),
            "--trusted",
            &root,
            "--host",
            "carol.example",
        ],
        vec![s(&client_chain), "--trusted", &root, "--purpose", "client"],
        vec!["--batch", s(&list), "--trusted", &root],
    ] {
        let (_, document) = verify_json(&args);
        crate::formats::collect_paths(&document, "", &mut paths);
    }
    let missing: Vec<String> = paths
        .iter()
        .map(|p| p.strip_prefix("results[].").unwrap_or(p).to_owned())
        .filter(|p| !doc.contains(&format!("`{p}`")))
        .collect();
    assert!(missing.is_empty(), "undocumented JSON fields: {missing:#?}");
    // Every code the engine can report is documented too.
    for code in mutual_verify::Code::ALL {
        assert!(
            doc.contains(&format!("`{code}`")),
            "code {code} is undocumented"
        );
    }
}

/// A wildcard over a multi-label public suffix: openssl's hostname check accepts `*.co.uk`
/// for `example.co.uk`; mutual refuses it with the public suffix list (RFC 6125 §7.2), and
/// says so. The same certificate trusted as its own anchor is otherwise valid.
#[test]
fn a_wildcard_over_a_public_suffix_is_refused_where_openssl_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("w.key"), dir.path().join("w.pem"));
    mutual_test::openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        s(&key),
        "-out",
        s(&cert),
        "-subj",
        "/CN=wild",
        "-days",
        "30",
        "-addext",
        "subjectAltName=DNS:*.co.uk,DNS:*.example.co.uk",
        "-addext",
        "extendedKeyUsage=serverAuth",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ]);
    let openssl = openssl_output(&[
        "verify",
        "-CAfile",
        s(&cert),
        "-purpose",
        "sslserver",
        "-verify_hostname",
        "example.co.uk",
        s(&cert),
    ]);
    assert!(openssl.status.success(), "openssl's behaviour changed");

    let (code, document) =
        verify_json(&[s(&cert), "--trusted", s(&cert), "--host", "example.co.uk"]);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&document, "errors"),
        BTreeSet::from(["hostname_mismatch".to_owned()])
    );
    let evidence = document["errors"][0]["evidence"].to_string();
    assert!(evidence.contains("public suffix"), "{evidence}");
    // One label further down the wildcard is fine.
    let (code, document) =
        verify_json(&[s(&cert), "--trusted", s(&cert), "--host", "a.example.co.uk"]);
    assert_eq!(code, 0, "{document:#}");
}
