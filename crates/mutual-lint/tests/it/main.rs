//! mutual-lint against generated certificates: every lint fires on a certificate made to
//! break it and passes on clean ones; the registry's metadata is consistent.
#![allow(clippy::unwrap_used)]

mod cases;
mod catalogue;
mod der;
mod direct;
mod fixtures;
mod fuzz_seeds;
mod registry;
mod revocation;

use std::collections::{BTreeMap, BTreeSet};

use mutual_lint::{Status, TrustMode, registry};
use mutual_x509::Severity;

fn status_of(severity: Severity) -> Status {
    match severity {
        Severity::Error => Status::Error,
        Severity::Warning => Status::Warn,
        Severity::Info => Status::Notice,
    }
}

/// Each lint, on the certificate made to break it, reports its declared severity under
/// `--trust public`, and a notice under `--trust private` when it binds public trust only.
#[test]
fn every_lint_fires_on_its_fixture() {
    let mut failures = Vec::new();
    for (code, fixture) in cases::failing() {
        let entry = mutual_lint::lookup(code).unwrap_or_else(|| panic!("no lint {code}"));
        for trust in [TrustMode::Public, TrustMode::Private] {
            let report = fixtures::lint(&fixture.der, fixture.profile, trust);
            let result = report.result(code).unwrap();
            let want = if trust == TrustMode::Private && entry.public_only {
                Status::Notice
            } else {
                status_of(entry.meta.severity)
            };
            if result.status != want {
                failures.push(format!(
                    "{code} ({trust:?}): {:?}, wanted {want:?}; profiles {:?}",
                    result.status, report.profiles
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The clean certificates and requests have no finding at all, even under public trust.
#[test]
fn clean_fixtures_have_no_findings() {
    let mut failures = Vec::new();
    for fixture in cases::clean() {
        let report = fixtures::lint(&fixture.der, fixture.profile, TrustMode::Public);
        for finding in report.findings() {
            failures.push(format!(
                "{}: {} {} ({})",
                fixture.name,
                finding.code,
                finding.status.as_str(),
                finding.details.clone().unwrap_or_default()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Every lint has a fixture that breaks it and at least one certificate it passes.
#[test]
fn every_lint_has_a_failing_and_a_passing_fixture() {
    let failing: BTreeSet<&str> = cases::failing().iter().map(|(code, _)| *code).collect();
    let codes: BTreeSet<&str> = registry().iter().map(|e| e.code).collect();
    let untested: Vec<&&str> = codes.difference(&failing).collect();
    assert!(
        untested.is_empty(),
        "lints without a failing fixture: {untested:#?}"
    );
    let unknown: Vec<&&str> = failing.difference(&codes).collect();
    assert!(unknown.is_empty(), "fixtures for no lint: {unknown:#?}");

    let mut passed: BTreeMap<&str, usize> = BTreeMap::new();
    let fixtures = cases::clean()
        .into_iter()
        .chain(cases::failing().into_iter().map(|(_, f)| f));
    for fixture in fixtures {
        let report = fixtures::lint(&fixture.der, fixture.profile, TrustMode::Public);
        for result in &report.results {
            if result.status == Status::Pass {
                *passed.entry(result.code).or_default() += 1;
            }
        }
    }
    let never: Vec<&&str> = codes.iter().filter(|c| !passed.contains_key(**c)).collect();
    assert!(never.is_empty(), "lints no fixture passes: {never:#?}");
}
