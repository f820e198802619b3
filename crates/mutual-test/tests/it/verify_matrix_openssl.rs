//! The verify matrix is what it claims, by `openssl` alone: `openssl verify` gives every case
//! the verdict the case expects of it (for the reason that matches the expected code), the
//! OCSP responder answers good and revoked, and the packaged leaves (PEM with chain, DER,
//! PKCS#12) hold the leaf openssl is given.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use mutual_test::{Case, LeafFormat, OpensslExpectation, VerifyMatrix, pem_to_der, require_tool};

/// The `openssl verify` messages an expected error code may show up as, for cases where
/// openssl agrees. The first error openssl meets is the one it prints.
fn openssl_reasons(code: &str) -> &'static [&'static str] {
    match code {
        "eku_mismatch" | "ku_eku_inconsistent" => &["unsuitable certificate purpose"],
        "unknown_issuer" => &["unable to get local issuer certificate"],
        "untrusted_root" => &["self-signed certificate in certificate chain"],
        "expired" => &["certificate has expired"],
        "not_yet_valid" => &["certificate is not yet valid"],
        "hostname_mismatch" => &["hostname mismatch", "IP address mismatch"],
        "revoked" => &["certificate revoked"],
        "revocation_unknown" => &["CRL has expired"],
        "ca_not_authorized" => &["invalid CA certificate", "keyCertSign invalid for non-CA"],
        "path_length_exceeded" => &["path length constraint exceeded"],
        "name_constraints_violated" => {
            &["permitted subtree violation", "excluded subtree violation"]
        }
        "bad_signature" => &["certificate signature failure"],
        "unsupported_signature_algorithm" => &["digest algorithm too weak"],
        "weak_key" => &["key too weak"],
        "self_signed_leaf" => &["self-signed certificate"],
        "max_depth_exceeded" => &["certificate chain too long"],
        // OpenSSL 3.0 marks the leaf invalid while decoding it, then cannot match it to any
        // issuer: "unable to get local issuer certificate", with the cause in the error queue.
        "malformed_certificate" => &["ossl_x509v3_cache_extensions:invalid certificate"],
        other => panic!("no openssl reason known for `{other}`"),
    }
}

fn run(args: &[OsString]) -> (String, Output) {
    let program = require_tool("openssl");
    let shown = std::iter::once("openssl".to_owned())
        .chain(args.iter().map(|arg| arg.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("starting `{shown}`: {error}"));
    (shown, output)
}

fn describe(shown: &str, output: &Output) -> String {
    format!(
        "`{shown}` exited with {}\nstdout:\n{}stderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// What `openssl ocsp` said about the leaf: `Some("good" | "revoked")` with a verified
/// response, `None` when it got no verified answer.
fn ocsp_status(case: &Case, output: &Output) -> Option<&'static str> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() || !stderr.contains("Response verify OK") {
        return None;
    }
    let leaf = case.openssl_leaf().to_string_lossy();
    ["good", "revoked"]
        .into_iter()
        .find(|status| stdout.contains(&format!("{leaf}: {status}")))
}

/// Judges one case; `Err` holds the evidence of a disagreement.
fn check(case: &Case) -> Result<(), String> {
    let (shown, output) = run(&case.openssl_verify_args());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let path_ok = output.status.success() && stdout.contains(": OK");
    let mut evidence = describe(&shown, &output);
    let mut valid = path_ok;
    if let Some(args) = case.openssl_ocsp_args() {
        let (shown, output) = run(&args);
        let status = ocsp_status(case, &output);
        evidence.push_str(&describe(&shown, &output));
        let wanted = if case.expected_errors.contains(&"revoked") {
            Some("revoked")
        } else if case.expected_errors.contains(&"revocation_unknown") {
            None
        } else {
            Some("good")
        };
        if status != wanted {
            return Err(format!(
                "case `{}` ({}): openssl ocsp said {status:?}, the case expects {wanted:?}\n{evidence}",
                case.name, case.about
            ));
        }
        valid = path_ok && status == Some("good");
    }
    let want = case.openssl.openssl_valid(case.expected_valid);
    if valid != want {
        return Err(format!(
            "case `{}` ({}): openssl says {}, the case expects openssl to say {} ({:?})\n{evidence}",
            case.name,
            case.about,
            verdict(valid),
            verdict(want),
            case.openssl,
        ));
    }
    if case.openssl == OpensslExpectation::Agrees && !case.expected_valid && !case.ocsp {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let code = case.expected_errors[0];
        let reasons = openssl_reasons(code);
        if !reasons.iter().any(|reason| stderr.contains(reason)) {
            return Err(format!(
                "case `{}` ({}): openssl rejects it, but not for `{code}` (one of {reasons:?})\n{evidence}",
                case.name, case.about
            ));
        }
    }
    Ok(())
}

fn verdict(valid: bool) -> &'static str {
    if valid { "valid" } else { "invalid" }
}

/// The leaf file mutual is given holds, first, the PEM leaf openssl is given.
fn check_packaging(case: &Case, scratch: &Path) -> Result<(), String> {
    let leaf = pem_to_der(case.openssl_leaf()).remove(0);
    let found = match case.leaf_format {
        LeafFormat::Pem => pem_to_der(&case.leaf),
        LeafFormat::PemWithChain => {
            let blocks = pem_to_der(&case.leaf);
            if blocks.len() < 2 {
                return Err(format!("case `{}`: no chain after the leaf", case.name));
            }
            blocks
        }
        LeafFormat::Der => vec![std::fs::read(&case.leaf).expect("reading the DER leaf")],
        LeafFormat::Pkcs12 => {
            let password = case
                .password_file
                .as_ref()
                .expect("a PKCS#12 has a password");
            let out = scratch.join(format!("{}.from-p12.pem", case.name));
            let mut args: Vec<OsString> = vec!["pkcs12".into(), "-in".into()];
            args.push(case.leaf.clone().into());
            args.extend([
                "-passin".into(),
                format!("file:{}", password.display()).into(),
            ]);
            args.extend(["-nokeys".into(), "-clcerts".into(), "-out".into()]);
            args.push(out.clone().into());
            let (shown, output) = run(&args);
            if !output.status.success() {
                return Err(format!(
                    "case `{}`: {}",
                    case.name,
                    describe(&shown, &output)
                ));
            }
            pem_to_der(&out)
        }
    };
    if found.first() != Some(&leaf) {
        return Err(format!(
            "case `{}`: `{}` does not start with the certificate of `{}`",
            case.name,
            case.leaf.display(),
            case.openssl_leaf().display()
        ));
    }
    Ok(())
}

/// `duplicate_extension` fails for its duplicated subjectAltName alone: the issuer's
/// signature over the patched certificate verifies (openssl verify cannot show it, since it
/// drops the certificate as invalid before checking any signature).
fn check_duplicate_extension_signature(
    matrix: &VerifyMatrix,
    scratch: &Path,
) -> Result<(), String> {
    let case = matrix.case("duplicate_extension");
    let (tbs, signature, public_key) = (
        scratch.join("dup.tbs.der"),
        scratch.join("dup.sig"),
        scratch.join("dup.issuer.pub.pem"),
    );
    let der = pem_to_der(&case.leaf).remove(0);
    // RSA-2048: the signature is the last 256 bytes.
    std::fs::write(&signature, &der[der.len() - 256..]).expect("writing the signature");
    let issuer = case.untrusted[0].clone();
    let steps: [Vec<OsString>; 3] = [
        vec![
            "asn1parse".into(),
            "-in".into(),
            case.leaf.clone().into(),
            "-strparse".into(),
            "4".into(),
            "-noout".into(),
            "-out".into(),
            tbs.clone().into(),
        ],
        vec![
            "x509".into(),
            "-in".into(),
            issuer.into(),
            "-pubkey".into(),
            "-noout".into(),
            "-out".into(),
            public_key.clone().into(),
        ],
        vec![
            "dgst".into(),
            "-sha256".into(),
            "-verify".into(),
            public_key.clone().into(),
            "-signature".into(),
            signature.into(),
            tbs.into(),
        ],
    ];
    for args in steps {
        let (shown, output) = run(&args);
        if !output.status.success() {
            return Err(format!(
                "case `{}`: {}",
                case.name,
                describe(&shown, &output)
            ));
        }
    }
    Ok(())
}

#[test]
fn openssl_confirms_every_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let matrix = VerifyMatrix::generate(dir.path());
    eprintln!(
        "generated {} cases in {:?} under {}",
        matrix.cases().len(),
        started.elapsed(),
        matrix.dir().display()
    );
    let scratch = tempfile::tempdir().expect("tempdir");
    let _responder = matrix.ocsp_responder();
    let failures: Vec<String> = matrix
        .cases()
        .iter()
        .flat_map(|case| [check_packaging(case, scratch.path()), check(case)])
        .chain([check_duplicate_extension_signature(&matrix, scratch.path())])
        .filter_map(Result::err)
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures over {} cases:\n\n{}",
        failures.len(),
        matrix.cases().len(),
        failures.join("\n\n")
    );

    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(matrix.manifest()).expect("reading matrix.json"),
    )
    .expect("matrix.json is JSON");
    let listed: Vec<&str> = manifest["cases"]
        .as_array()
        .expect("a list of cases")
        .iter()
        .map(|case| case["name"].as_str().expect("a name"))
        .collect();
    let names: Vec<&str> = matrix.cases().iter().map(|case| case.name).collect();
    assert_eq!(listed, names, "matrix.json lists every case");
}
