//! Every certificate of the openssl-made corpus: fields compared with what `openssl x509`
//! prints, and the Purpose asserted case by case.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{corpus, extension, finding_codes, inspect_one};
use mutual_test::openssl;

fn all_names() -> Vec<&'static str> {
    let mut names = vec!["root", "intermediate"];
    names.extend(corpus().names());
    names
}

/// `openssl x509 -noout ARGS` on a corpus certificate, with the `key=` prefix removed.
fn openssl_field(name: &str, args: &[&str]) -> String {
    let path = corpus().cert(name);
    let mut full = vec!["x509", "-in", path.to_str().unwrap(), "-noout"];
    full.extend_from_slice(args);
    let out = openssl(&full);
    let line = out.trim();
    line.split_once('=')
        .map_or(line, |(_, v)| v)
        .trim()
        .to_owned()
}

/// openssl's `notBefore=Jan  1 00:00:00 2020 GMT`, as a time.
fn openssl_date(text: &str) -> OffsetDateTime {
    let format = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    time::PrimitiveDateTime::parse(text, format)
        .unwrap_or_else(|e| panic!("openssl date `{text}`: {e}"))
        .assume_utc()
}

#[test]
fn decoded_fields_match_openssl() {
    for name in all_names() {
        let cert = inspect_one(&corpus().cert(name));
        assert_eq!(cert["type"], "certificate", "{name}");
        assert_eq!(
            cert["serial"],
            openssl_field(name, &["-serial"]),
            "{name} serial"
        );
        assert_eq!(
            cert["subject"]["rfc4514"],
            openssl_field(name, &["-subject", "-nameopt", "RFC2253"]),
            "{name} subject"
        );
        assert_eq!(
            cert["issuer"]["rfc4514"],
            openssl_field(name, &["-issuer", "-nameopt", "RFC2253"]),
            "{name} issuer"
        );
        let not_before =
            OffsetDateTime::parse(cert["validity"]["not_before"].as_str().unwrap(), &Rfc3339)
                .unwrap();
        let not_after =
            OffsetDateTime::parse(cert["validity"]["not_after"].as_str().unwrap(), &Rfc3339)
                .unwrap();
        assert_eq!(
            not_before,
            openssl_date(&openssl_field(name, &["-startdate"])),
            "{name} notBefore"
        );
        assert_eq!(
            not_after,
            openssl_date(&openssl_field(name, &["-enddate"])),
            "{name} notAfter"
        );
        assert_eq!(
            cert["fingerprints"]["sha256"],
            openssl_field(name, &["-fingerprint", "-sha256"]),
            "{name} sha256"
        );
        assert_eq!(
            cert["fingerprints"]["sha1"],
            openssl_field(name, &["-fingerprint", "-sha1"]),
            "{name} sha1"
        );
        compare_extensions_with_openssl(name, &cert);
    }
}

/// Compares SAN, KU, EKU and basic constraints with `openssl x509 -ext`.
fn compare_extensions_with_openssl(name: &str, cert: &Value) {
    let path = corpus().cert(name);
    let ext = |which: &str| -> Option<String> {
        let out = openssl(&[
            "x509",
            "-in",
            path.to_str().unwrap(),
            "-noout",
            "-ext",
            which,
        ]);
        // First line names the extension; the value follows, indented.
        let value: Vec<&str> = out.lines().skip(1).map(str::trim).collect();
        (!value.is_empty()).then(|| value.join(" "))
    };

    let san = extension(cert, "subject_alt_name").map(|e| {
        e["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| match n["type"].as_str().unwrap() {
                "dns" => format!("DNS:{}", n["value"].as_str().unwrap()),
                "ip" => format!("IP Address:{}", n["value"].as_str().unwrap()),
                "email" => format!("email:{}", n["value"].as_str().unwrap()),
                "uri" => format!("URI:{}", n["value"].as_str().unwrap()),
                other => panic!("{name}: unexpected SAN type {other}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    assert_eq!(san, ext("subjectAltName"), "{name} SAN");

    let ku = extension(cert, "key_usage").map(|e| {
        e["usages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| openssl_ku_name(u.as_str().unwrap()))
            .collect::<Vec<_>>()
            .join(", ")
    });
    assert_eq!(ku, ext("keyUsage"), "{name} KU");

    let eku = extension(cert, "extended_key_usage").map(|e| {
        e["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| openssl_eku_name(p["oid"].as_str().unwrap()))
            .collect::<Vec<_>>()
    });
    let openssl_eku = ext("extendedKeyUsage").map(|s| {
        let mut v: Vec<String> = s.split(", ").map(str::to_owned).collect();
        v.sort();
        v
    });
    assert_eq!(
        eku.map(|mut v| {
            v.sort();
            v
        }),
        openssl_eku,
        "{name} EKU"
    );

    let bc = extension(cert, "basic_constraints").map(|e| match (&e["ca"], &e["path_len"]) {
        (Value::Bool(true), Value::Number(n)) => format!("CA:TRUE, pathlen:{n}"),
        (Value::Bool(true), _) => "CA:TRUE".to_owned(),
        _ => "CA:FALSE".to_owned(),
    });
    assert_eq!(bc, ext("basicConstraints"), "{name} basicConstraints");
}

fn openssl_ku_name(rfc: &str) -> String {
    match rfc {
        "digitalSignature" => "Digital Signature",
        "nonRepudiation" => "Non Repudiation",
        "keyEncipherment" => "Key Encipherment",
        "dataEncipherment" => "Data Encipherment",
        "keyAgreement" => "Key Agreement",
        "keyCertSign" => "Certificate Sign",
        "cRLSign" => "CRL Sign",
        "encipherOnly" => "Encipher Only",
        "decipherOnly" => "Decipher Only",
        other => panic!("unknown KU {other}"),
    }
    .to_owned()
}

fn openssl_eku_name(oid: &str) -> String {
    match oid {
        "1.3.6.1.5.5.7.3.1" => "TLS Web Server Authentication",
        "1.3.6.1.5.5.7.3.2" => "TLS Web Client Authentication",
        "1.3.6.1.5.5.7.3.3" => "Code Signing",
        "1.3.6.1.5.5.7.3.4" => "E-mail Protection",
        "1.3.6.1.5.5.7.3.8" => "Time Stamping",
        "1.3.6.1.5.5.7.3.9" => "OCSP Signing",
        "2.5.29.37.0" => "Any Extended Key Usage",
        other => panic!("unknown EKU {other}"),
    }
    .to_owned()
}

/// What each corpus certificate is for, and what inspect must point out about it.
#[test]
fn purpose_case_by_case() {
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        // name, purpose kind, usages allowed, finding codes
        ("root", "root_ca", &[], &[]),
        ("intermediate", "intermediate_ca", &[], &[]),
        ("server-rsa2048", "server", &["server_auth"], &[]),
        ("server-rsa3072", "server", &["server_auth"], &[]),
        ("server-p256", "server", &["server_auth"], &[]),
        ("server-p384", "server", &["server_auth"], &[]),
        ("server-ed25519", "server", &["server_auth"], &[]),
        ("client", "client", &["client_auth"], &[]),
        (
            "server-client",
            "server_and_client",
            &["server_auth", "client_auth"],
            &["server_and_client_eku"],
        ),
        (
            "no-eku",
            "unrestricted",
            &[
                "server_auth",
                "client_auth",
                "code_signing",
                "email_protection",
                "time_stamping",
                "ocsp_signing",
            ],
            &[],
        ),
        (
            "any-eku",
            "unrestricted",
            &[
                "server_auth",
                "client_auth",
                "code_signing",
                "email_protection",
                "time_stamping",
                "ocsp_signing",
            ],
            &[],
        ),
        ("ocsp-signer", "ocsp_signing", &["ocsp_signing"], &[]),
        ("ku-eku-conflict", "unusable", &[], &["ku_eku_conflict"]),
        (
            "server-cn-only",
            "server",
            &["server_auth"],
            &["server_missing_san"],
        ),
        ("server-ip-san", "server", &["server_auth"], &[]),
        ("client-email-san", "client", &["client_auth"], &[]),
        ("client-uri-san", "client", &["client_auth"], &[]),
        (
            "client-with-dns-san",
            "client",
            &["client_auth"],
            &["client_has_dns_san"],
        ),
        // CA:TRUE without keyCertSign: not a CA by RFC 5280, so a server leaf, flagged.
        (
            "leaf-ca-true",
            "server",
            &["server_auth"],
            &["leaf_marked_ca"],
        ),
        (
            "self-signed-leaf",
            "server",
            &["server_auth"],
            &["self_signed_leaf"],
        ),
        ("expired", "server", &["server_auth"], &["expired"]),
    ];
    let mut covered: Vec<&str> = cases.iter().map(|c| c.0).collect();
    covered.sort_unstable();
    let mut all = all_names();
    all.sort_unstable();
    assert_eq!(
        covered, all,
        "every corpus certificate has an expected purpose"
    );

    for (name, kind, allowed, codes) in cases {
        let cert = inspect_one(&corpus().cert(name));
        assert_eq!(
            cert["purpose"]["kind"], *kind,
            "{name}: {}",
            cert["purpose"]
        );
        if !allowed.is_empty() {
            let got: Vec<&str> = cert["purpose"]["usages"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|u| u["allowed"] == true)
                .map(|u| u["usage"].as_str().unwrap())
                .collect();
            assert_eq!(&got, allowed, "{name} usages");
        }
        assert_eq!(finding_codes(&cert), *codes, "{name} findings");
    }
}

#[test]
fn ca_roles_and_path_length() {
    let root = inspect_one(&corpus().cert("root"));
    assert_eq!(root["self_signed"], true);
    assert_eq!(root["purpose"]["ca"]["root"], true);
    let intermediate = inspect_one(&corpus().cert("intermediate"));
    assert_eq!(intermediate["self_signed"], false);
    assert_eq!(intermediate["purpose"]["ca"]["path_len"], 0);
    assert!(
        intermediate["purpose"]["summary"]
            .as_str()
            .unwrap()
            .contains("pathlen 0")
    );
}

#[test]
fn key_types_and_sizes() {
    for (name, summary) in [
        ("server-rsa2048", ("RSA", Some(2048), None)),
        ("server-rsa3072", ("RSA", Some(3072), None)),
        ("server-p256", ("EC", Some(256), Some("P-256"))),
        ("server-p384", ("EC", Some(384), Some("P-384"))),
        ("server-ed25519", ("Ed25519", Some(256), None)),
    ] {
        let cert = inspect_one(&corpus().cert(name));
        let key = &cert["public_key"];
        assert_eq!(key["algorithm"], summary.0, "{name}");
        assert_eq!(key["bits"].as_u64(), summary.1, "{name}");
        assert_eq!(key["curve"].as_str(), summary.2, "{name}");
    }
}

#[test]
fn plain_words_for_server_and_client() {
    let output = crate::mutual()
        .args([
            "inspect",
            corpus().cert("server-p256").to_str().unwrap(),
            corpus().cert("client").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Certificate: server certificate"), "{text}");
    assert!(text.contains("Certificate: client certificate"), "{text}");
    assert!(
        text.contains("yes serverAuth       Ensures the identity of a remote computer"),
        "{text}"
    );
    assert!(
        text.contains("yes clientAuth       Proves your identity to a remote computer"),
        "{text}"
    );
    assert!(
        text.contains("==> "),
        "several inputs are headed by their names: {text}"
    );
}

#[test]
fn spki_pin_matches_openssl() {
    // The pin curl's --pinnedpubkey takes: base64(sha256(DER SPKI)).
    let path = corpus().cert("server-p256");
    let spki = openssl(&["x509", "-in", path.to_str().unwrap(), "-noout", "-pubkey"]);
    let dir = tempfile::tempdir().unwrap();
    let pub_pem = dir.path().join("pub.pem");
    std::fs::write(&pub_pem, spki).unwrap();
    let der = dir.path().join("pub.der");
    openssl(&[
        "pkey",
        "-pubin",
        "-in",
        pub_pem.to_str().unwrap(),
        "-outform",
        "DER",
        "-out",
        der.to_str().unwrap(),
    ]);
    let digest = openssl(&[
        "dgst",
        "-sha256",
        "-binary",
        "-out",
        dir.path().join("d").to_str().unwrap(),
        der.to_str().unwrap(),
    ]);
    assert!(digest.is_empty());
    let b64 = openssl(&[
        "base64",
        "-A",
        "-in",
        dir.path().join("d").to_str().unwrap(),
    ]);
    let cert = inspect_one(&path);
    assert_eq!(cert["public_key"]["spki_sha256"], b64.trim());
}
