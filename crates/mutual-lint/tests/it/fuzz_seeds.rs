//! The `lint` fuzz target's seeds and regressions, replayed on stable in plain `cargo test`.

use std::path::{Path, PathBuf};

use mutual_lint::TrustMode;

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn lint_fuzz_seeds_without_panic() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut inputs = files_under(&fuzz.join("seeds/lint"));
    assert!(!inputs.is_empty(), "expected seeds under fuzz/seeds/lint");
    inputs.extend(files_under(&fuzz.join("regressions/lint")));
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
