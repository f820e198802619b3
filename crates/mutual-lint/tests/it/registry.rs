//! The registry's metadata: unique codes, severities that match their prefixes, citations.

use std::collections::BTreeSet;

use mutual_lint::{Profile, Status, TrustMode, registry};
use mutual_x509::Severity;
use time::macros::datetime;

use crate::fixtures;

#[test]
fn codes_are_unique_and_prefixed_by_severity() {
    let entries = registry();
    assert!(entries.len() >= 80, "{} lints", entries.len());
    let mut seen = BTreeSet::new();
    for e in &entries {
        assert!(seen.insert(e.code), "duplicate code {}", e.code);
        let prefix = match e.meta.severity {
            Severity::Error => "e_",
            Severity::Warning => "w_",
            Severity::Info => "n_",
        };
        assert!(
            e.code.starts_with(prefix),
            "{} is declared {:?}",
            e.code,
            e.meta.severity
        );
        assert!(
            e.code[2..]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{} is not snake_case",
            e.code
        );
        assert!(!e.citation.is_empty(), "{} has no citation", e.code);
        assert!(!e.summary.is_empty(), "{} has no summary", e.code);
    }
}

/// A certificate issued before a rule took effect is NE for it: a 398-day certificate
/// from 2025 is fine, the same from April 2026 is not.
#[test]
fn rules_do_not_apply_before_their_effective_date() {
    let mut params = fixtures::server_params();
    params.not_before = datetime!(2025-06-01 00:00 UTC);
    params.not_after = datetime!(2026-07-03 00:00 UTC);
    let report = fixtures::lint(&fixtures::issue(&params), None, TrustMode::Public);
    assert_eq!(
        report
            .result("e_server_validity_over_398_days")
            .unwrap()
            .status,
        Status::Pass
    );
    assert_eq!(
        report
            .result("e_server_validity_over_200_days")
            .unwrap()
            .status,
        Status::NotEffective
    );
    params.not_before = datetime!(2026-04-01 00:00 UTC);
    params.not_after = datetime!(2027-05-03 00:00 UTC);
    let report = fixtures::lint(&fixtures::issue(&params), None, TrustMode::Public);
    assert_eq!(
        report
            .result("e_server_validity_over_200_days")
            .unwrap()
            .status,
        Status::Error
    );
    // Private trust: browsers do not enforce this on private roots.
    let report = fixtures::lint(&fixtures::issue(&params), None, TrustMode::Private);
    assert_eq!(
        report
            .result("e_server_validity_over_200_days")
            .unwrap()
            .status,
        Status::Notice
    );
}

/// The profile comes from the purpose; `--profile` overrides it.
#[test]
fn profiles_are_detected_and_can_be_forced() {
    let server = fixtures::issue(&fixtures::server_params());
    assert_eq!(
        fixtures::lint(&server, None, TrustMode::Public).profiles,
        [Profile::Server]
    );
    let client = fixtures::issue(&fixtures::client_params());
    let report = fixtures::lint(&client, None, TrustMode::Public);
    assert_eq!(report.profiles, [Profile::Client]);
    assert_eq!(
        report
            .result("e_server_without_dns_or_ip_san")
            .unwrap()
            .status,
        Status::NotApplicable
    );
    let forced = fixtures::lint(&client, Some(Profile::Server), TrustMode::Public);
    assert_eq!(forced.profiles, [Profile::Server]);
    assert_eq!(
        forced
            .result("e_server_without_dns_or_ip_san")
            .unwrap()
            .status,
        Status::Error
    );
    assert_eq!(
        fixtures::lint(&fixtures::ca().der, None, TrustMode::Public).profiles,
        [Profile::Ca]
    );
}

/// Broken input is an error naming what was found, never a panic or an empty report.
#[test]
fn unlintable_input_is_an_error() {
    let options = fixtures::options(None, TrustMode::Private);
    for bytes in [&b""[..], b"hello", b"\x30\x03\x02\x01\x05"] {
        assert!(mutual_lint::lint_bytes(bytes, &options).is_err());
    }
}
