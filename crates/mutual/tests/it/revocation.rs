//! `mutual revoke` and `mutual crl`, checked by real relying parties: `openssl crl` verifies
//! the CRLs and reads their entries, `openssl verify -crl_check` rejects what was revoked,
//! and `mutual verify --crl` agrees (a CRL made by mutual, beside the matrix's openssl-made
//! ones).

use std::collections::BTreeSet;
use std::path::Path;

use crate::ca::Ca;
use crate::s;
use crate::verify::{codes, verify_json};
use mutual_test::{openssl, openssl_output};

/// Runs `mutual VERB... --home H EXTRA...` (commands that use no CA key).
fn run(ca: &Ca, verb: &[&str], extra: &[&str]) -> std::process::Output {
    crate::mutual()
        .args(verb)
        .arg("--home")
        .arg(ca.home())
        .args(extra)
        .output()
        .unwrap()
}

/// The serial `mutual list` shows for the certificate whose subject contains `name`.
fn serial_of(ca: &Ca, name: &str) -> String {
    let output = run(ca, &["list"], &["--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    list["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject"].as_str().unwrap().contains(name))
        .unwrap_or_else(|| panic!("{name} is not in the inventory: {list:#}"))["serial"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn crl_number(crl: &Path) -> String {
    openssl(&["crl", "-in", s(crl), "-noout", "-crlnumber"])
        .trim()
        .to_owned()
}

#[test]
fn a_revoked_client_certificate_is_rejected_by_openssl_and_by_mutual() {
    let ca = Ca::init(&[]);
    let (_, alice, _) = ca.issue("client", &["alice"]);
    let (_, bob, _) = ca.issue("client", &["bob"]);
    let alice_serial = serial_of(&ca, "CN=alice");

    let output = run(
        &ca,
        &["revoke", &alice_serial],
        &[
            "--reason",
            "keyCompromise",
            "--at",
            "2026-01-02T03:04:05Z",
            "--format",
            "json",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["reason"], "keyCompromise");
    assert_eq!(report["invalid_since"], "2026-01-02T03:04:05Z");

    let output = ca.run(&["crl"], &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let crl_dir = ca.home().join("crl");
    let client_crl = crl_dir.join("client-ca.crl.pem");
    for (file, signer) in [
        ("root.crl.pem", "root.pem"),
        ("server-ca.crl.pem", "server-ca.pem"),
        ("client-ca.crl.pem", "client-ca.pem"),
    ] {
        // openssl checks the signature against the CA that issued it.
        let verified = openssl_output(&[
            "crl",
            "-in",
            s(&crl_dir.join(file)),
            "-noout",
            "-CAfile",
            &ca.ca_file(signer),
        ]);
        assert!(
            String::from_utf8_lossy(&verified.stderr).contains("verify OK"),
            "{file}: {}",
            String::from_utf8_lossy(&verified.stderr)
        );
    }
    let text = openssl(&["crl", "-in", s(&client_crl), "-noout", "-text"]);
    assert!(text.contains(&alice_serial), "{text}");
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(text.contains("Invalidity Date"), "{text}");
    assert!(text.contains("Jan  2 03:04:05 2026 GMT"), "{text}");
    assert!(text.contains("Authority Key Identifier"), "{text}");
    assert_eq!(crl_number(&client_crl), "crlNumber=0x01");

    let openssl_verify = |leaf: &Path| {
        openssl_output(&[
            "verify",
            "-crl_check",
            "-CAfile",
            &ca.ca_file("root.pem"),
            "-untrusted",
            &ca.ca_file("client-ca.pem"),
            "-CRLfile",
            s(&client_crl),
            "-purpose",
            "sslclient",
            s(leaf),
        ])
    };
    let rejected = openssl_verify(&alice);
    assert!(!rejected.status.success());
    assert!(
        String::from_utf8_lossy(&rejected.stdout).contains("certificate revoked")
            || String::from_utf8_lossy(&rejected.stderr).contains("certificate revoked"),
        "{rejected:?}"
    );
    assert!(openssl_verify(&bob).status.success());

    let mutual_verify = |leaf: &Path| {
        verify_json(&[
            s(leaf),
            "--trusted",
            &ca.ca_file("root.pem"),
            "--untrusted",
            &ca.ca_file("client-ca.pem"),
            "--purpose",
            "client",
            "--crl",
            s(&client_crl),
        ])
    };
    let (code, document) = mutual_verify(&alice);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&document, "errors"),
        BTreeSet::from(["revoked".to_owned()])
    );
    let evidence = document["errors"][0]["evidence"].to_string();
    assert!(evidence.contains("keyCompromise"), "{evidence}");
    let (code, document) = mutual_verify(&bob);
    assert_eq!(code, 0, "{document:#}");

    // Every CRL gets a larger number; revoked-at and reason show in the inventory.
    assert!(ca.run(&["crl"], &[]).status.success());
    assert_eq!(crl_number(&client_crl), "crlNumber=0x02");
    let shown = run(&ca, &["show", &alice_serial], &[]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("keyCompromise"), "{shown}");
}

#[test]
fn the_root_crl_lists_a_revoked_intermediate() {
    let ca = Ca::init(&[]);
    let (_, carol, _) = ca.issue("client", &["carol"]);
    let client_ca_serial = serial_of(&ca, "Client CA");
    let output = run(
        &ca,
        &["revoke", &client_ca_serial],
        &["--reason", "cACompromise"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out = ca.out();
    let root_crl = out.join("root.crl");
    let output = ca.run(
        &["crl"],
        &["--issuer", "root", "--out", s(&root_crl), "--format", "der"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = openssl(&[
        "crl",
        "-inform",
        "der",
        "-in",
        s(&root_crl),
        "-noout",
        "-text",
    ]);
    assert!(
        text.contains(&client_ca_serial) && text.contains("CA Compromise"),
        "{text}"
    );

    // The client CA's own CRL on standard output, for a complete check of the chain.
    let output = ca.run(&["crl"], &["--issuer", "client"]);
    assert!(output.status.success());
    let client_crl = out.join("client-ca.crl.pem");
    std::fs::write(&client_crl, &output.stdout).unwrap();

    let openssl_says = openssl_output(&[
        "verify",
        "-crl_check_all",
        "-CAfile",
        &ca.ca_file("root.pem"),
        "-untrusted",
        &ca.ca_file("client-ca.pem"),
        "-CRLfile",
        s(&client_crl),
        "-CRLfile",
        s(&root_crl),
        "-purpose",
        "sslclient",
        s(&carol),
    ]);
    assert!(
        !openssl_says.status.success(),
        "openssl should reject: {openssl_says:?}"
    );
    let (code, document) = verify_json(&[
        s(&carol),
        "--trusted",
        &ca.ca_file("root.pem"),
        "--untrusted",
        &ca.ca_file("client-ca.pem"),
        "--purpose",
        "client",
        "--crl",
        s(&client_crl),
        "--crl",
        s(&root_crl),
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&document, "errors"),
        BTreeSet::from(["revoked".to_owned()])
    );
    assert!(
        document["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Client CA")
    );
}

#[test]
fn revocation_mistakes_are_clear() {
    let ca = Ca::init(&[]);
    ca.issue("server", &["dave.example.internal"]);
    let serial = serial_of(&ca, "dave");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["revoke", "ABCDEF01"], 2, "no certificate"),
        (vec!["revoke", "not-hex!"], 2, "serial"),
        (
            vec!["revoke", &serial, "--reason", "removeFromCRL"],
            2,
            "--reason",
        ),
        (vec!["revoke", &serial, "--reason", "stolen"], 2, "--reason"),
        (
            vec!["revoke", &serial, "--at", "2999-01-01T00:00:00Z"],
            2,
            "future",
        ),
        (vec!["revoke", &serial, "--at", "yesterday"], 2, "--at"),
    ];
    for (args, code, words) in cases {
        let output = run(&ca, &args, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
    // Revoking twice changes nothing: a negative answer naming the first revocation.
    assert!(run(&ca, &["revoke", &serial], &[]).status.success());
    let again = run(&ca, &["revoke", &serial], &["--reason", "superseded"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already revoked"));
    // No CA: exit 2.
    let output = crate::mutual()
        .args(["crl", "--home"])
        .arg(ca.path("nowhere"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
