//! The auto-detecting entry point, then both renderings of whatever it returns.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mutual_x509::{DecodeOptions, decode, text};

fuzz_target!(|data: &[u8]| {
    for password in [None, Some("x".to_owned())] {
        let now = time::macros::datetime!(2026-12-01 0:00 UTC);
        let options = DecodeOptions { now, password };
        for object in decode(data, &options).into_iter().flatten() {
            let _ = text::render(&object);
            let _ = serde_json::to_string(&object);
        }
    }
});
