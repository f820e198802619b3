//! `Crl::from_der` on raw DER, then its renderings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mutual_x509::{Crl, Object, text};

fuzz_target!(|data: &[u8]| {
    let now = time::macros::datetime!(2026-12-01 0:00 UTC);
    if let Ok(value) = Crl::from_der(data, now) {
        let object = Object::Crl(Box::new(value));
        let _ = text::render(&object);
        let _ = serde_json::to_string(&object);
    }
});
