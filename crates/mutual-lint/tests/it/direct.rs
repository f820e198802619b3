//! `lint_bytes` parses a file of certificates once and lints from that; `lint_certificate`
//! lints what `mutual_x509::decode` made. Both must give the same reports, field for
//! field, on every fixture — the bulk path may not drift from the CA's.

use mutual_lint::{Report, TrustMode};

use crate::{cases, fixtures};

fn same(direct: &Report, general: &Report) -> Result<(), String> {
    let head = |r: &Report| {
        format!(
            "{:?} {} {:?} {:?} {:?}",
            r.kind, r.subject, r.serial, r.sha256, r.profiles
        )
    };
    if head(direct) != head(general) {
        return Err(format!("{} != {}", head(direct), head(general)));
    }
    let results = |r: &Report| -> Vec<String> {
        r.results
            .iter()
            .map(|x| format!("{} {:?} {:?}", x.code, x.status, x.details))
            .collect()
    };
    if results(direct) != results(general) {
        let diff: Vec<(String, String)> = results(direct)
            .into_iter()
            .zip(results(general))
            .filter(|(a, b)| a != b)
            .collect();
        return Err(format!("{diff:?}"));
    }
    Ok(())
}

#[test]
fn the_direct_path_gives_the_reports_of_the_decoded_path() {
    let mut fixtures: Vec<(&str, Vec<u8>, Option<mutual_lint::Profile>)> = cases::clean()
        .into_iter()
        .chain(cases::failing().into_iter().map(|(_, f)| f))
        .map(|f| (f.name, f.der, f.profile))
        .collect();
    fixtures.push(("ca", fixtures::ca().der.clone(), None));
    let mut failures = Vec::new();
    let mut compared = 0;
    for (name, der, profile) in fixtures {
        for trust in [TrustMode::Public, TrustMode::Private] {
            let options = fixtures::options(profile, trust);
            // Requests and broken encodings take the general path inside `lint_bytes`.
            let Ok(decoded) = mutual_x509::Certificate::from_der(&der, options.now) else {
                continue;
            };
            let Ok(general) = mutual_lint::lint_certificate(&decoded, &options) else {
                continue;
            };
            let pem = mutual_x509::pem::encode("CERTIFICATE", &der);
            for input in [der.as_slice(), pem.as_bytes()] {
                match mutual_lint::lint_bytes(input, &options) {
                    Ok(reports) if reports.len() == 1 => {
                        if let Err(e) = same(&reports[0], &general) {
                            failures.push(format!("{name} ({trust:?}): {e}"));
                        }
                    }
                    other => failures.push(format!("{name}: {:?}", other.map(|r| r.len()))),
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "only {compared} comparisons");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A chain in one PEM file: every certificate, in order, as the decoded path lints them.
#[test]
fn a_pem_chain_is_linted_certificate_by_certificate() {
    let leaf = fixtures::issue(&fixtures::server_params());
    let ca = fixtures::ca().der.clone();
    let options = fixtures::options(None, TrustMode::Private);
    let pem = [
        mutual_x509::pem::encode("CERTIFICATE", &leaf),
        mutual_x509::pem::encode("CERTIFICATE", &ca),
    ]
    .concat();
    let reports = mutual_lint::lint_bytes(pem.as_bytes(), &options).unwrap();
    assert_eq!(reports.len(), 2);
    for (report, der) in reports.iter().zip([&leaf, &ca]) {
        let decoded = mutual_x509::Certificate::from_der(der, options.now).unwrap();
        let general = mutual_lint::lint_certificate(&decoded, &options).unwrap();
        same(report, &general).unwrap();
    }
}

/// `decode_and_lint`, issuance's gate, parses once: the certificate it returns is the one
/// `Certificate::from_der` decodes and its report the one `lint_certificate` gives, on
/// every fixture, and it refuses what `from_der` refuses.
#[test]
fn decode_and_lint_equals_decoding_then_linting() {
    let mut compared = 0;
    for fixture in cases::clean()
        .into_iter()
        .chain(cases::failing().into_iter().map(|(_, f)| f))
    {
        for trust in [TrustMode::Public, TrustMode::Private] {
            let options = fixtures::options(fixture.profile, trust);
            let decoded = mutual_x509::Certificate::from_der(&fixture.der, options.now);
            let once = mutual_lint::decode_and_lint(&fixture.der, options.now, &options);
            let Ok(decoded) = decoded else {
                assert!(once.is_err(), "{}: decoded in one go only", fixture.name);
                continue;
            };
            let general = mutual_lint::lint_certificate(&decoded, &options);
            match (once, general) {
                (Ok((certificate, report)), Ok(general)) => {
                    assert_eq!(certificate, decoded, "{}", fixture.name);
                    same(&report, &general).unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
                    compared += 1;
                }
                (Err(once), Err(general)) => assert_eq!(once.code(), general.code()),
                (once, general) => panic!(
                    "{}: in one go {:?}, in two steps {:?}",
                    fixture.name,
                    once.map(|_| ()),
                    general.map(|_| ())
                ),
            }
        }
    }
    assert!(compared > 50, "only {compared} comparisons");

    let der = fixtures::issue(&fixtures::server_params());
    let options = fixtures::options(None, TrustMode::Private);
    let mut trailing = der.clone();
    trailing.push(0);
    for (broken, code) in [
        (&der[..der.len() - 1], "bad_der"),
        (&trailing[..], "trailing_data"),
        (&b"not a certificate"[..], "bad_der"),
        (&[][..], "bad_der"),
    ] {
        let error = mutual_lint::decode_and_lint(broken, options.now, &options)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(error.code(), code, "{error}");
    }
}
