//! CSRs made by `openssl req` and CRLs made by `openssl ca -gencrl`.

use crate::{corpus, inspect_one};
use mutual_test::openssl;

#[test]
fn csr_with_requested_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let csr = dir.path().join("server.csr");
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        dir.path().join("k.pem").to_str().unwrap(),
        "-subj",
        "/CN=api.example.test/O=Example",
        "-addext",
        "subjectAltName=DNS:api.example.test,IP:10.0.0.7",
        "-addext",
        "extendedKeyUsage=serverAuth",
        "-addext",
        "keyUsage=critical,digitalSignature",
        "-out",
        csr.to_str().unwrap(),
    ]);
    let request = inspect_one(&csr);
    assert_eq!(request["type"], "certificate_request");
    assert_eq!(
        request["subject"]["rfc4514"],
        "O=Example,CN=api.example.test"
    );
    assert_eq!(request["signature"], "valid");
    assert_eq!(request["public_key"]["curve"], "P-256");
    assert_eq!(request["purpose"]["kind"], "server");
    let san = request["requested_extensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "subject_alt_name")
        .unwrap();
    assert_eq!(san["names"][1]["value"], "10.0.0.7");

    // DER form, detected by shape.
    let der = dir.path().join("server.csr.der");
    openssl(&[
        "req",
        "-in",
        csr.to_str().unwrap(),
        "-outform",
        "DER",
        "-out",
        der.to_str().unwrap(),
    ]);
    assert_eq!(inspect_one(&der)["purpose"]["kind"], "server");

    // A CSR whose subject was altered after signing fails its signature check.
    let mut bytes = std::fs::read(&der).unwrap();
    let at = bytes.windows(7).position(|w| w == b"Example").unwrap();
    bytes[at] = b'e';
    let tampered = dir.path().join("tampered.der");
    std::fs::write(&tampered, bytes).unwrap();
    assert_eq!(inspect_one(&tampered)["signature"], "invalid");
}

#[test]
fn csr_asking_for_nothing_is_unspecified() {
    let dir = tempfile::tempdir().unwrap();
    let csr = dir.path().join("plain.csr");
    openssl(&[
        "req",
        "-new",
        "-key",
        corpus().key("client").to_str().unwrap(),
        "-subj",
        "/CN=alice",
        "-out",
        csr.to_str().unwrap(),
    ]);
    let request = inspect_one(&csr);
    assert_eq!(request["purpose"]["kind"], "unspecified");
    assert_eq!(request["signature"], "valid");
}

#[test]
fn crl_with_a_revoked_entry() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(dir.path().join("index.txt"), "").unwrap();
    std::fs::write(dir.path().join("crlnumber"), "1000\n").unwrap();
    let config = format!(
        "[ca]\ndefault_ca = test\n[test]\ndatabase = {}\ncrlnumber = {}\ndefault_md = sha256\ndefault_crl_days = 7\n",
        d("index.txt"),
        d("crlnumber")
    );
    std::fs::write(dir.path().join("ca.cnf"), config).unwrap();
    let revoked = corpus().cert("client");
    openssl(&[
        "ca",
        "-config",
        &d("ca.cnf"),
        "-cert",
        corpus().cert("intermediate").to_str().unwrap(),
        "-keyfile",
        corpus().key("intermediate").to_str().unwrap(),
        "-revoke",
        revoked.to_str().unwrap(),
        "-crl_reason",
        "keyCompromise",
    ]);
    openssl(&[
        "ca",
        "-config",
        &d("ca.cnf"),
        "-cert",
        corpus().cert("intermediate").to_str().unwrap(),
        "-keyfile",
        corpus().key("intermediate").to_str().unwrap(),
        "-gencrl",
        "-out",
        &d("crl.pem"),
    ]);
    let crl = inspect_one(&dir.path().join("crl.pem"));
    assert_eq!(crl["type"], "crl");
    assert_eq!(crl["crl_number"], "4096"); // 0x1000
    assert_eq!(crl["stale"], false);
    let entries = crl["revoked"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    let serial = openssl(&[
        "x509",
        "-in",
        revoked.to_str().unwrap(),
        "-noout",
        "-serial",
    ]);
    assert_eq!(
        entries[0]["serial"],
        serial.trim().trim_start_matches("serial=")
    );
    assert_eq!(entries[0]["reason"], "keyCompromise");
    assert_eq!(
        crl["issuer"]["rfc4514"],
        inspect_one(&corpus().cert("intermediate"))["subject"]["rfc4514"]
    );

    // A week later the CRL is stale, and says so.
    let docs = crate::inspect_json(&["--at", "2099-01-01T00:00:00Z", &d("crl.pem")]);
    assert_eq!(docs[0]["objects"][0]["stale"], true);
}
