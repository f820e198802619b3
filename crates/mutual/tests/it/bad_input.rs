//! Bad input gets one clear line naming the input, what was expected and what was found,
//! and exit code 2; objects that are valid but odd are decoded and the oddity flagged.

use std::path::{Path, PathBuf};

use crate::{corpus, finding_codes, inspect_one, mutual};
use mutual_test::openssl;

/// Runs inspect on `path`, expects exit 2 and one line on stderr naming the input and
/// containing `expected`.
fn refused(path: &Path, expected: &str) -> String {
    let output = mutual().arg("inspect").arg(path).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}: {stderr}",
        path.display()
    );
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout for a refused input"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(&format!("`{}`", path.display())),
        "names the input: {stderr}"
    );
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn leaf_der() -> Vec<u8> {
    mutual_test::pem_to_der(corpus().cert("server-p256")).remove(0)
}

#[test]
fn empty_and_blank_files() {
    let dir = tempfile::tempdir().unwrap();
    refused(&write(dir.path(), "empty.pem", b""), "is empty");
    refused(&write(dir.path(), "blank.pem", b"\n  \n"), "is empty");
}

#[test]
fn truncated_pem() {
    let dir = tempfile::tempdir().unwrap();
    let pem = std::fs::read_to_string(corpus().cert("server-p256")).unwrap();
    let cut = &pem[..pem.len() / 2];
    let stderr = refused(
        &write(dir.path(), "cut.pem", cut.as_bytes()),
        "has no matching `-----END CERTIFICATE-----`",
    );
    assert!(stderr.contains("line 1"), "{stderr}");
}

#[test]
fn bad_base64() {
    let dir = tempfile::tempdir().unwrap();
    let pem = std::fs::read_to_string(corpus().cert("server-p256")).unwrap();
    let broken = pem.replacen("MII", "M*I", 1);
    refused(
        &write(dir.path(), "b64.pem", broken.as_bytes()),
        "expected base64",
    );
}

#[test]
fn garbage_bytes_and_text() {
    let dir = tempfile::tempdir().unwrap();
    refused(
        &write(
            dir.path(),
            "garbage.bin",
            &[0xde, 0xad, 0xbe, 0xef, 0x00, 0x01],
        ),
        "binary data starting 0xdeadbeef",
    );
    refused(
        &write(
            dir.path(),
            "notes.txt",
            b"hello, this is not a certificate\n",
        ),
        "text starting `hello, this is not a",
    );
}

#[test]
fn der_with_trailing_junk() {
    let dir = tempfile::tempdir().unwrap();
    let mut der = leaf_der();
    der.extend_from_slice(b"junk");
    refused(
        &write(dir.path(), "trailing.der", &der),
        "has 4 bytes of trailing data after the DER certificate",
    );
}

#[test]
fn truncated_der() {
    let dir = tempfile::tempdir().unwrap();
    let der = leaf_der();
    refused(
        &write(dir.path(), "short.der", &der[..der.len() - 10]),
        "DER",
    );
}

#[test]
fn corrupt_certificate_inside_pem() {
    let dir = tempfile::tempdir().unwrap();
    let mut der = leaf_der();
    // Break the tag of the validity SEQUENCE's first time.
    let at = der.windows(2).position(|w| w == [0x17, 0x0d]).unwrap();
    der[at] = 0x04;
    let text = mutual_x509::pem::encode("CERTIFICATE", &der);
    let stderr = refused(
        &write(dir.path(), "corrupt.pem", text.as_bytes()),
        "PEM block 1 (`CERTIFICATE`, line 1)",
    );
    assert!(
        stderr.contains("is not a valid DER certificate"),
        "{stderr}"
    );
}

#[test]
fn unknown_pem_label() {
    let dir = tempfile::tempdir().unwrap();
    refused(
        &write(
            dir.path(),
            "x.pem",
            b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        ),
        "PEM label `OPENSSH PRIVATE KEY` is not one mutual reads",
    );
}

#[test]
fn huge_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.pem");
    // Sparse: 2 GiB of nothing, costing no disk.
    std::fs::File::create(&path)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    refused(&path, "is 2147483648 bytes; the limit is 16777216 bytes");
}

#[test]
fn missing_file_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    refused(&dir.path().join("nope.pem"), "could not be opened");
    refused(dir.path(), "is a directory");
}

#[test]
fn one_bad_input_does_not_hide_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "empty.pem", b"");
    let output = mutual()
        .arg("inspect")
        .arg(corpus().cert("client"))
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stdout).contains("client certificate"));
}

/// A certificate made by openssl with its CN bytes replaced by invalid UTF-8: decoded,
/// flagged, not refused.
#[test]
fn non_utf8_name_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let cert = self_signed_with(
        dir.path(),
        "utf8",
        &["-subj", "/CN=name-XX-here", "-utf8", "-outform", "DER"],
    );
    let mut der = std::fs::read(&cert).unwrap();
    // Issuer and subject are the same name here; break both so it stays self-issued.
    while let Some(at) = der.windows(2).position(|w| w == b"XX") {
        der[at] = 0xc3;
        der[at + 1] = 0x28; // not a valid UTF-8 continuation
    }
    let path = write(dir.path(), "bad-utf8.der", &der);
    let decoded = inspect_one(&path);
    let codes = finding_codes(&decoded);
    assert!(codes.contains(&"name_bad_encoding".to_owned()), "{codes:?}");
    // The signature no longer verifies with its own key: that is pointed out too.
    assert!(
        codes.contains(&"self_signature_invalid".to_owned()),
        "{codes:?}"
    );
    assert!(decoded["subject"]["attributes"][0]["valid_encoding"] == false);
}

fn self_signed_with(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.pem"));
    let mut args = vec![
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
        "-subj",
        "/CN=odd",
        "-days",
        "1",
    ];
    args.extend_from_slice(extra);
    openssl(&args);
    cert
}

#[test]
fn negative_and_oversized_serials_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let negative = self_signed_with(dir.path(), "neg", &["-set_serial", "-5"]);
    let cert = inspect_one(&negative);
    assert!(
        finding_codes(&cert).contains(&"serial_negative".to_owned()),
        "{}",
        cert["findings"]
    );

    let long = format!("0x{}", "7f".repeat(25));
    let oversized = self_signed_with(dir.path(), "long", &["-set_serial", &long]);
    let cert = inspect_one(&oversized);
    assert_eq!(cert["serial"], "7F".repeat(25));
    assert!(
        finding_codes(&cert).contains(&"serial_too_long".to_owned()),
        "{}",
        cert["findings"]
    );
}

#[test]
fn unknown_critical_extension_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let cert = self_signed_with(
        dir.path(),
        "crit",
        &["-addext", "1.3.6.1.4.1.55555.1=critical,DER:05:00"],
    );
    let decoded = inspect_one(&cert);
    assert!(finding_codes(&decoded).contains(&"unknown_critical_extension".to_owned()));
    let unknown = decoded["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["oid"] == "1.3.6.1.4.1.55555.1")
        .unwrap();
    assert_eq!(unknown["critical"], true);
    assert_eq!(unknown["kind"], "unknown");
    assert_eq!(unknown["value_hex"], "0500");
}

#[test]
fn bad_at_time_is_usage_error() {
    let output = mutual()
        .args([
            "inspect",
            "--at",
            "yesterday",
            corpus().cert("client").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("expected an RFC 3339 time"));
}
