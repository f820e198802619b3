//! `Pkcs12::from_der` with the seeds' password and with none, then its renderings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mutual_x509::{Object, Pkcs12, text};

fuzz_target!(|data: &[u8]| {
    let now = time::macros::datetime!(2026-12-01 0:00 UTC);
    for password in [Some("x"), None] {
        if let Ok(bundle) = Pkcs12::from_der(data, password, now) {
            let object = Object::Pkcs12(bundle);
            let _ = text::render(&object);
            let _ = serde_json::to_string(&object);
        }
    }
});
