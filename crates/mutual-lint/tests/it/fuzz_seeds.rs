//! The `lint` fuzz target's seeds and regressions, replayed on stable in plain `cargo test`.

use mutual_lint::TrustMode;

#[test]
fn lint_fuzz_seeds_without_panic() {
    let inputs = mutual_test::fuzz_inputs("lint");
    for path in inputs {
        let bytes = std::fs::read(&path).unwrap();
        for trust in [TrustMode::Private, TrustMode::Public] {
            let options = crate::fixtures::options(None, trust);
            if let Ok(reports) = mutual_lint::lint_bytes(&bytes, &options) {
                for report in reports {
                    assert!(!report.results.is_empty(), "{}", path.display());
                }
            }
        }
    }
}
