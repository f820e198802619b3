//! The verify matrix (mutual_test::VerifyMatrix: 60-odd cases made by the openssl CLI, each
//! with its expected verdict and exact codes) run through `mutual verify`, and the
//! differential against `openssl verify` on the same files: both must reach the same
//! verdict, except in the cases the matrix documents where mutual is deliberately stricter
//! (each with its RFC clause).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use mutual_test::{OpensslExpectation, VerifyMatrix};

use crate::mutual;

fn matrix() -> &'static VerifyMatrix {
    static MATRIX: OnceLock<(tempfile::TempDir, VerifyMatrix)> = OnceLock::new();
    let (_, matrix) = MATRIX.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let matrix = VerifyMatrix::generate(dir.path());
        (dir, matrix)
    });
    matrix
}

fn set(codes: &[&str]) -> BTreeSet<String> {
    codes.iter().map(|c| (*c).to_owned()).collect()
}

/// One test for the whole matrix: the OCSP cases need the matrix's responder (one port),
/// started here and stopped when the test ends.
#[test]
fn every_case_through_mutual_and_openssl() {
    let _port = OCSP_PORT.lock().unwrap_or_else(|e| e.into_inner());
    let matrix = matrix();
    let _responder = matrix.ocsp_responder();
    every_case_gets_its_verdict_and_exact_codes(matrix);
    openssl_reaches_the_same_verdict_except_where_documented(matrix);
}

fn every_case_gets_its_verdict_and_exact_codes(matrix: &VerifyMatrix) {
    assert!(matrix.cases().len() >= 40);
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in matrix.cases().iter() {
        let args = case.mutual_verify_args();
        let output = mutual().args(&args).output().unwrap();
        let code = output.status.code();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let Ok(document) = serde_json::from_str::<serde_json::Value>(&stdout) else {
            failures.push(format!(
                "{}: exit {code:?}, no JSON: {}",
                case.name,
                String::from_utf8_lossy(&output.stderr)
            ));
            continue;
        };
        let errors = crate::verify::codes(&document, "errors");
        let warnings = crate::verify::codes(&document, "warnings");
        let expected_code = if case.expected_valid { 0 } else { 1 };
        if document["valid"] != case.expected_valid
            || code != Some(expected_code)
            || errors != set(&case.expected_errors)
            || warnings != set(&case.expected_warnings)
        {
            failures.push(format!(
                "{} ({}): expected valid={} errors={:?} warnings={:?}; got exit {code:?} errors={errors:?} warnings={warnings:?}\n  mutual {}\n{}",
                case.name,
                case.about,
                case.expected_valid,
                case.expected_errors,
                case.expected_warnings,
                args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" "),
                document["errors"]
            ));
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} cases were run");
    eprintln!("verify matrix: {checked} cases checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} cases wrong:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // Every code of the contract is exercised by some case.
    let exercised: BTreeSet<&str> = matrix
        .cases()
        .iter()
        .flat_map(|c| {
            c.expected_errors
                .iter()
                .chain(&c.expected_warnings)
                .copied()
        })
        .collect();
    // openssl's responder always echoes nonces: ocsp_no_nonce is exercised below, with a
    // canned response.
    for code in mutual_verify::Code::ALL
        .into_iter()
        .filter(|code| *code != mutual_verify::Code::OcspNoNonce)
    {
        assert!(
            exercised.contains(code.as_str()),
            "no case exercises {code}"
        );
    }
}

fn openssl_reaches_the_same_verdict_except_where_documented(matrix: &VerifyMatrix) {
    let mut differences = Vec::new();
    for case in matrix.cases().iter() {
        let mutual_valid = mutual()
            .args(case.mutual_verify_args())
            .output()
            .unwrap()
            .status
            .success();
        let openssl = std::process::Command::new(mutual_test::require_tool("openssl"))
            .args(case.openssl_verify_args())
            .output()
            .unwrap();
        let mut openssl_valid = openssl.status.success();
        // With OCSP, openssl verify says nothing about revocation: ask `openssl ocsp`.
        if let Some(ocsp_args) = case.openssl_ocsp_args() {
            let ocsp = std::process::Command::new(mutual_test::require_tool("openssl"))
                .args(ocsp_args)
                .output()
                .unwrap();
            let leaf = case.openssl_leaf().to_string_lossy().into_owned();
            let verified = ocsp.status.success()
                && String::from_utf8_lossy(&ocsp.stderr).contains("Response verify OK");
            openssl_valid &= verified
                && String::from_utf8_lossy(&ocsp.stdout).contains(&format!("{leaf}: good"));
        }
        match &case.openssl {
            OpensslExpectation::Agrees => {
                if mutual_valid != openssl_valid {
                    differences.push(format!(
                        "{}: mutual says valid={mutual_valid}, openssl valid={openssl_valid}: {}",
                        case.name,
                        String::from_utf8_lossy(&openssl.stdout)
                    ));
                }
            }
            OpensslExpectation::Differs {
                openssl_valid: expected,
                why,
            } => {
                // Documented: mutual is stricter. Both sides must still behave as stated.
                assert!(!mutual_valid, "{}: mutual should reject ({why})", case.name);
                assert_eq!(
                    openssl_valid, *expected,
                    "{}: openssl changed ({why})",
                    case.name
                );
            }
        }
    }
    assert!(
        differences.is_empty(),
        "undocumented disagreements:\n{}",
        differences.join("\n")
    );
}

/// The matrix's OCSP port is one: tests that listen on it take turns.
static OCSP_PORT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Answers exactly one HTTP request on the matrix's OCSP port with `body`.
fn serve_once(port: u16, body: Vec<u8>) -> std::thread::JoinHandle<()> {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut request = vec![0; length];
        reader.read_exact(&mut request).unwrap();
        let mut stream = reader.into_inner();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        stream.write_all(&body).unwrap();
    })
}

/// Answers that must not be believed, from a listener of the test's own: a cached response
/// without a nonce (believed, with a warning), one replayed with another requester's nonce,
/// one about another certificate, and bytes that are no OCSP response.
#[test]
fn ocsp_answers_are_believed_only_when_they_should_be() {
    let _port = OCSP_PORT.lock().unwrap_or_else(|e| e.into_inner());
    let matrix = matrix();
    let scratch = tempfile::tempdir().unwrap();
    let good = matrix.case("ocsp_good_valid");
    let revoked = matrix.case("ocsp_revoked");
    let scenarios: Vec<(&str, Vec<u8>, bool, &str, &str)> = vec![
        (
            "no nonce",
            matrix.canned_ocsp_response(good, false, scratch.path()),
            true,
            "ocsp_no_nonce",
            "did not echo",
        ),
        (
            "another requester's nonce",
            matrix.canned_ocsp_response(good, true, scratch.path()),
            false,
            "revocation_unknown",
            "nonce",
        ),
        (
            "about another certificate",
            matrix.canned_ocsp_response(revoked, false, scratch.path()),
            false,
            "revocation_unknown",
            "does not speak about this certificate",
        ),
        (
            "not OCSP",
            b"<html>proxy error</html>".to_vec(),
            false,
            "revocation_unknown",
            "not an OCSP response",
        ),
    ];
    for (what, body, valid, code, words) in scenarios {
        let server = serve_once(matrix.ocsp_port(), body);
        let output = mutual().args(good.mutual_verify_args()).output().unwrap();
        server.join().unwrap();
        let document: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{what}: {e}: {}", String::from_utf8_lossy(&output.stderr)));
        assert_eq!(document["valid"], valid, "{what}: {document:#}");
        let list = if valid { "warnings" } else { "errors" };
        let diagnoses = document[list].as_array().unwrap();
        assert!(
            diagnoses
                .iter()
                .any(|d| d["code"] == code && d["message"].as_str().unwrap().contains(words)),
            "{what}: expected {code} saying `{words}`: {document:#}"
        );
    }
}
