//! Where relying parties check revocation: the BR's rule for server certificates
//! (`e_server_revocation_information_missing`) and mutual's notice for other leaves
//! (`n_leaf_revocation_information_missing`), their exemptions and dates.

use mutual_lint::{Status, TrustMode};
use rcgen::{CertificateParams, ExtendedKeyUsagePurpose};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::fixtures::*;

const BR: &str = "e_server_revocation_information_missing";
const LEAF: &str = "n_leaf_revocation_information_missing";

fn is_aia(e: &rcgen::CustomExtension) -> bool {
    e.oid_components().eq([1u64, 3, 6, 1, 5, 5, 7, 1, 1])
}

/// Neither a CRL distribution point nor an OCSP URL (the issuer's certificate stays).
fn without_revocation(mut p: CertificateParams) -> CertificateParams {
    p.crl_distribution_points.clear();
    p.custom_extensions.retain(|e| !is_aia(e));
    p.custom_extensions.push(custom(
        "1.3.6.1.5.5.7.1.1",
        false,
        aia_ca_issuers_only("http://ca.example.com/ca.crt"),
    ));
    p
}

fn valid(mut p: CertificateParams, from: OffsetDateTime, days: i64) -> CertificateParams {
    p.not_before = from;
    p.not_after = from + Duration::days(days) - Duration::seconds(1);
    p
}

fn statuses(p: &CertificateParams, trust: TrustMode) -> (Status, Status) {
    let report = lint(&issue(p), None, trust);
    (
        report.result(BR).unwrap().status,
        report.result(LEAF).unwrap().status,
    )
}

#[test]
fn either_pointer_is_enough() {
    let mut ocsp_only = server_params();
    ocsp_only.crl_distribution_points.clear();
    let mut crl_only = server_params();
    crl_only.custom_extensions.retain(|e| !is_aia(e));
    for p in [ocsp_only, crl_only] {
        assert_eq!(
            statuses(&p, TrustMode::Public),
            (Status::Pass, Status::NotApplicable)
        );
    }
}

/// A server certificate: the BR's error under public trust, a notice under private;
/// mutual's own lint stays out of it, so private trust says it once.
#[test]
fn server_certificates_get_the_br_rule_once() {
    let p = without_revocation(server_params());
    assert_eq!(
        statuses(&p, TrustMode::Public),
        (Status::Error, Status::NotApplicable)
    );
    assert_eq!(
        statuses(&p, TrustMode::Private),
        (Status::Notice, Status::NotApplicable)
    );
    let mut both = without_revocation(server_params());
    both.extended_key_usages
        .push(ExtendedKeyUsagePurpose::ClientAuth);
    assert_eq!(
        statuses(&both, TrustMode::Private),
        (Status::Notice, Status::NotApplicable)
    );
}

/// BR §1.6.1: short-lived is at most 10 days from 2024-03-15, at most 7 from 2026-03-15;
/// before 2024-03-15 the rule is not in effect.
#[test]
fn short_lived_and_older_certificates_are_exempt() {
    let server = || without_revocation(server_params());
    for (from, days, want) in [
        (datetime!(2026-06-01 00:00 UTC), 7, Status::NotApplicable),
        (datetime!(2026-06-01 00:00 UTC), 8, Status::Error),
        (datetime!(2025-06-01 00:00 UTC), 10, Status::NotApplicable),
        (datetime!(2025-06-01 00:00 UTC), 11, Status::Error),
        (datetime!(2024-01-01 00:00 UTC), 90, Status::NotEffective),
    ] {
        let (br, _) = statuses(&valid(server(), from, days), TrustMode::Public);
        assert_eq!(br, want, "{days} days from {from}");
    }
}

/// Client certificates and leaves of no profile: a notice under either trust, unless
/// short-lived; OCSP responders and CAs are not asked.
#[test]
fn other_leaves_get_a_notice() {
    let client = without_revocation(client_params());
    for trust in [TrustMode::Public, TrustMode::Private] {
        assert_eq!(
            statuses(&client, trust),
            (Status::NotApplicable, Status::Notice)
        );
    }
    let mut no_eku = without_revocation(client_params());
    no_eku.extended_key_usages.clear();
    assert_eq!(statuses(&no_eku, TrustMode::Private).1, Status::Notice);
    let short = valid(client.clone(), datetime!(2026-06-01 00:00 UTC), 1);
    assert_eq!(
        statuses(&short, TrustMode::Private).1,
        Status::NotApplicable
    );
    let responder = without_revocation(ocsp_params());
    assert_eq!(
        statuses(&responder, TrustMode::Private).1,
        Status::NotApplicable
    );
    let ca = lint(&ca().der, None, TrustMode::Private);
    assert_eq!(ca.result(LEAF).unwrap().status, Status::NotApplicable);
}
