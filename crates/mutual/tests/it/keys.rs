//! Private keys are described (format, algorithm, size, protection), never printed.

use std::path::Path;

use crate::{inspect_one, mutual};
use mutual_test::openssl;

fn assert_not_printed(path: &Path) {
    let body = crate::pem_body(path);
    for format in ["text", "json", "pem"] {
        let output = mutual()
            .args(["inspect", "--format", format])
            .arg(path)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !all.contains(&body[..32]),
            "{format} output shows key material"
        );
    }
}

#[test]
fn every_key_format_is_described() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &p("rsa8.pem"),
    ]);
    openssl(&[
        "rsa",
        "-in",
        &p("rsa8.pem"),
        "-traditional",
        "-out",
        &p("rsa1.pem"),
    ]);
    openssl(&[
        "ecparam",
        "-name",
        "secp384r1",
        "-genkey",
        "-noout",
        "-out",
        &p("ec.pem"),
    ]);
    openssl(&["genpkey", "-algorithm", "ED25519", "-out", &p("ed.pem")]);
    openssl(&[
        "pkcs8",
        "-topk8",
        "-in",
        &p("ec.pem"),
        "-v2",
        "aes-256-cbc",
        "-v2prf",
        "hmacWithSHA256",
        "-passout",
        "pass:secret",
        "-out",
        &p("enc.pem"),
    ]);
    openssl(&[
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-in",
        &p("ec.pem"),
        "-outform",
        "DER",
        "-out",
        &p("ec8.der"),
    ]);
    openssl(&[
        "rsa",
        "-in",
        &p("rsa8.pem"),
        "-aes256",
        "-traditional",
        "-passout",
        "pass:secret",
        "-out",
        &p("rsa-legacy.pem"),
    ]);

    let cases = [
        ("rsa8.pem", "pkcs8", Some("RSA"), Some(2048), None),
        ("rsa1.pem", "pkcs1", Some("RSA"), Some(2048), None),
        ("ec.pem", "sec1", Some("EC"), Some(384), Some("P-384")),
        ("ed.pem", "pkcs8", Some("Ed25519"), Some(256), None),
        ("enc.pem", "encrypted_pkcs8", None, None, None),
        ("ec8.der", "pkcs8", Some("EC"), Some(384), Some("P-384")),
        (
            "rsa-legacy.pem",
            "legacy_encrypted_pem",
            Some("RSA"),
            None,
            None,
        ),
    ];
    for (file, format, algorithm, bits, curve) in cases {
        let key = inspect_one(&dir.path().join(file));
        assert_eq!(key["type"], "private_key", "{file}");
        assert_eq!(key["format"], format, "{file}");
        assert_eq!(key["algorithm"].as_str(), algorithm, "{file}");
        assert_eq!(key["bits"].as_u64(), bits, "{file}");
        assert_eq!(key["curve"].as_str(), curve, "{file}");
    }
    let encrypted = inspect_one(&dir.path().join("enc.pem"));
    assert!(
        encrypted["encryption"]
            .as_str()
            .unwrap()
            .starts_with("PBES2 (PBKDF2"),
        "{}",
        encrypted["encryption"]
    );
    assert!(
        encrypted["encryption"]
            .as_str()
            .unwrap()
            .contains("hmacWithSHA256, AES-256-CBC")
    );
    let legacy = inspect_one(&dir.path().join("rsa-legacy.pem"));
    assert!(
        legacy["encryption"]
            .as_str()
            .unwrap()
            .contains("AES-256-CBC")
    );

    for file in ["rsa8.pem", "rsa1.pem", "ec.pem", "ed.pem"] {
        assert_not_printed(&dir.path().join(file));
    }
}
