//! The `probe` fuzz target's seeds and regressions, replayed on stable in plain `cargo test`
//! with the target's own checks, so a fixed crash stays fixed without libFuzzer.

use mutual_probe::{Target, decode_ca_issuers, describe_greeting, parse_http_response};

#[test]
fn probe_fuzz_seeds_without_panic() {
    let inputs = mutual_test::fuzz_inputs("probe");
    let now = time::macros::datetime!(2026-12-01 0:00 UTC);
    let (mut targets, mut responses, mut certificates) = (0, 0, 0);
    for path in inputs {
        let data = std::fs::read(&path).unwrap();
        if let Ok(Ok(target)) = std::str::from_utf8(&data).map(str::parse::<Target>) {
            assert_eq!(
                target.to_string().parse::<Target>().ok(),
                Some(target),
                "{}",
                path.display()
            );
            targets += 1;
        }
        if let mutual_probe::HttpOutcome::Response(_) = parse_http_response(&data) {
            responses += 1;
        }
        if let Ok(found) = decode_ca_issuers(&data, now) {
            assert!(!found.is_empty(), "{}", path.display());
            certificates += 1;
        }
        assert!(describe_greeting(&data).text.chars().count() <= 61);
    }
    // The seeds reach every parser's success path, not only its refusals.
    assert_eq!((targets, responses, certificates), (2, 2, 3));
}
