//! PKCS#12 bundles made by `openssl pkcs12 -export`, modern and `-legacy`.

use std::path::{Path, PathBuf};

use crate::{corpus, inspect_json, mutual};
use mutual_test::openssl;

const PASSWORD: &str = "correct horse battery staple";

fn export(dir: &Path, legacy: bool) -> PathBuf {
    let out = dir.join(if legacy { "legacy.p12" } else { "modern.p12" });
    let pass = dir.join("pass.txt");
    std::fs::write(&pass, format!("{PASSWORD}\n")).unwrap();
    let mut args = vec![
        "pkcs12",
        "-export",
        "-in",
        corpus().cert("client").to_str().unwrap().to_owned().leak(),
        "-inkey",
        corpus().key("client").to_str().unwrap().to_owned().leak(),
        "-certfile",
        corpus()
            .cert("intermediate")
            .to_str()
            .unwrap()
            .to_owned()
            .leak(),
        "-name",
        "alice laptop",
        "-out",
        out.to_str().unwrap().to_owned().leak(),
        "-passout",
        format!("file:{}", pass.display()).leak(),
    ];
    if legacy {
        args.push("-legacy");
    }
    openssl(&args);
    out
}

fn password_file(dir: &Path, password: &str) -> PathBuf {
    let path = dir.join(format!("pw-{}", password.len()));
    std::fs::write(&path, format!("{password}\n")).unwrap();
    path
}

fn check_bundle(p12: &Path, dir: &Path, legacy: bool) {
    let pw = password_file(dir, PASSWORD);
    let docs = inspect_json(&[
        p12.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    let bundle = &docs[0]["objects"][0];
    assert_eq!(bundle["type"], "pkcs12");
    assert_eq!(bundle["legacy"], legacy, "{bundle}");
    let certs = bundle["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2, "client and intermediate");
    let keys = bundle["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["friendly_name"], "alice laptop");
    assert_eq!(keys[0]["key"]["algorithm"], "EC");
    let matched = keys[0]["matches_certificate"].as_u64().unwrap() as usize;
    assert_eq!(certs[matched]["certificate"]["purpose"]["kind"], "client");
    assert_eq!(certs[matched]["friendly_name"], "alice laptop");
    assert_eq!(certs[matched]["local_key_id"], keys[0]["local_key_id"]);
    let protection = bundle["protection"].as_array().unwrap();
    let mac = bundle["mac"]["algorithm"].as_str().unwrap();
    if legacy {
        assert_eq!(mac, "SHA1");
        assert_eq!(protection.len(), 2, "certificates and key: {protection:?}");
        assert!(
            protection
                .iter()
                .any(|p| p.as_str().unwrap().contains("RC2")),
            "{protection:?}"
        );
        assert!(
            protection
                .iter()
                .any(|p| p.as_str().unwrap().contains("TripleDES")),
            "{protection:?}"
        );
    } else {
        assert_eq!(mac, "SHA256");
        assert_eq!(protection.len(), 2, "certificates and key: {protection:?}");
        assert!(
            protection
                .iter()
                .all(|p| p.as_str().unwrap().contains("AES-256-CBC")),
            "{protection:?}"
        );
    }
    // No key material in the output, ever.
    let body = crate::pem_body(&corpus().key("client"));
    let text = String::from_utf8(
        mutual()
            .arg("inspect")
            .arg(p12)
            .arg("--password-file")
            .arg(&pw)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(!text.contains(&body[..40]));
    assert!(text.contains("Friendly name: alice laptop"), "{text}");
}

#[test]
fn modern_bundle_with_the_right_password() {
    let dir = tempfile::tempdir().unwrap();
    let p12 = export(dir.path(), false);
    check_bundle(&p12, dir.path(), false);
}

#[test]
fn legacy_bundle_with_the_right_password() {
    let dir = tempfile::tempdir().unwrap();
    let p12 = export(dir.path(), true);
    check_bundle(&p12, dir.path(), true);
}

#[test]
fn password_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let p12 = export(dir.path(), false);
    let output = mutual()
        .env("P12_PASS", PASSWORD)
        .args([
            "inspect",
            "--format",
            "json",
            "--password-env",
            "P12_PASS",
            p12.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn wrong_password_is_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    for legacy in [false, true] {
        let p12 = export(dir.path(), legacy);
        let wrong = password_file(dir.path(), "not it");
        let output = mutual()
            .arg("inspect")
            .arg(&p12)
            .arg("--password-file")
            .arg(&wrong)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains("PKCS#12 password is wrong"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1);

        let output = mutual().arg("inspect").arg(&p12).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains(
                "password-protected PKCS#12 file; give its password with `--password-file FILE`"
            ),
            "{stderr}"
        );
    }
}

#[test]
fn passwordless_bundle_opens_without_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::passwordless_p12(dir.path());
    let docs = inspect_json(&[out.to_str().unwrap()]);
    assert_eq!(docs[0]["objects"][0]["keys"][0]["matches_certificate"], 0);
}

#[test]
fn pem_output_of_a_bundle_is_its_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let p12 = export(dir.path(), false);
    let pw = password_file(dir.path(), PASSWORD);
    let output = mutual()
        .arg("inspect")
        .arg(&p12)
        .args(["--format", "pem", "--password-file"])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(output.status.success());
    let pem = String::from_utf8(output.stdout).unwrap();
    assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    assert!(!pem.contains("PRIVATE KEY"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("1 private key(s) not written"));
}
