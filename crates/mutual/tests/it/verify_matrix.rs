//! The verify matrix (mutual_test::VerifyMatrix: 60-odd cases made by the openssl CLI, each
//! with its expected verdict and exact codes) run through `mutual verify`, and the
//! differential against `openssl verify` on the same files: both must reach the same
//! verdict, except in the cases the matrix documents where mutual is deliberately stricter
//! (each with its RFC clause).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use mutual_test::{Case, OpensslExpectation, VerifyMatrix};

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

/// OCSP is not built yet (issue 4 stays open until it is): these cases wait for it.
fn pending(case: &Case) -> bool {
    case.ocsp
}

fn set(codes: &[&str]) -> BTreeSet<String> {
    codes.iter().map(|c| (*c).to_owned()).collect()
}

#[test]
fn every_case_gets_its_verdict_and_exact_codes() {
    let matrix = matrix();
    assert!(matrix.cases().len() >= 40);
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in matrix.cases().iter().filter(|c| !pending(c)) {
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
        .filter(|c| !pending(c))
        .flat_map(|c| {
            c.expected_errors
                .iter()
                .chain(&c.expected_warnings)
                .copied()
        })
        .collect();
    for code in mutual_verify::Code::ALL {
        assert!(
            exercised.contains(code.as_str()),
            "no case exercises {code}"
        );
    }
}

#[test]
fn openssl_verify_reaches_the_same_verdict_except_where_documented() {
    let matrix = matrix();
    let mut differences = Vec::new();
    for case in matrix.cases().iter().filter(|c| !pending(c)) {
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
        let openssl_valid = openssl.status.success();
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
