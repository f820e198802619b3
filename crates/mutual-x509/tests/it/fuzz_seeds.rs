//! Every committed fuzz seed and every past fuzz crash goes through `decode` and both
//! renderings on stable Rust, so they keep being exercised in CI without nightly or
//! libFuzzer. Only "returns without panicking" is asserted: most inputs are broken on purpose.

use std::path::{Path, PathBuf};

use mutual_x509::{DecodeOptions, decode, text};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Every file under `dir`, sorted so failures name the same input each run; none if the
/// folder does not exist (fuzz/regressions/ appears with the first crash).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("readable directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn exercise(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("`{}`: {e}", path.display()));
    for password in [None, Some("x".to_owned())] {
        let options = DecodeOptions {
            now: time::macros::datetime!(2026-12-01 0:00 UTC),
            password,
        };
        for object in decode(&bytes, &options).into_iter().flatten() {
            let _ = text::render(&object);
            let _ = serde_json::to_string(&object);
        }
    }
}

#[test]
fn fuzz_seeds_decode_without_panic() {
    let seeds = files_under(&fuzz_dir().join("seeds"));
    assert!(
        !seeds.is_empty(),
        "expected seeds under `{}`, found none",
        fuzz_dir().join("seeds").display()
    );
    for path in &seeds {
        exercise(path);
    }
}

#[test]
fn fuzz_regressions_decode_without_panic() {
    for path in files_under(&fuzz_dir().join("regressions")) {
        exercise(&path);
    }
}
