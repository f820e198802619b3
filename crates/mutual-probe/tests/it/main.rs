//! mutual-probe against real peers: `openssl s_server` serving the mutual-test corpus, and
//! plain TCP sockets that misbehave.

#![allow(clippy::unwrap_used, reason = "tests")]

mod fuzz_seeds;
mod peers;
mod s_server;

use std::path::Path;
use std::sync::OnceLock;

use mutual_test::Corpus;

/// One corpus for the whole test binary: generating it runs `openssl` about sixty times.
/// It lives under Cargo's per-target scratch directory and is regenerated on each run.
fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutual-probe-corpus");
        let _ = std::fs::remove_dir_all(&dir);
        Corpus::generate(&dir)
    })
}
