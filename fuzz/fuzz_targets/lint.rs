//! `mutual_lint::lint_bytes` on arbitrary bytes, under both trust settings and a forced
//! profile: every certificate and request found is run through the whole registry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mutual_lint::{Options, Profile, TrustMode};

fuzz_target!(|data: &[u8]| {
    let now = time::macros::datetime!(2026-12-01 0:00 UTC);
    for (profile, trust) in [(None, TrustMode::Private), (Some(Profile::Server), TrustMode::Public)] {
        let options = Options { profile, trust, now };
        if let Ok(reports) = mutual_lint::lint_bytes(data, &options) {
            for report in reports {
                let _ = serde_json::to_string(&report);
            }
        }
    }
});
