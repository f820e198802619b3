//! The inputs of a cargo-fuzz target, for replaying on stable in plain `cargo test`.

use std::path::{Path, PathBuf};

/// Every file under `fuzz/seeds/TARGET` (there must be some) and `fuzz/regressions/TARGET`
/// (past crashes, when any), recursively.
pub fn fuzz_inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut inputs = files_under(&fuzz.join("seeds").join(target));
    assert!(
        !inputs.is_empty(),
        "expected seeds under fuzz/seeds/{target}"
    );
    inputs.extend(files_under(&fuzz.join("regressions").join(target)));
    inputs
}

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
