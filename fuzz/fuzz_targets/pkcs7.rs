//! `Pkcs7::from_der` on raw DER, then its renderings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mutual_x509::{Object, Pkcs7, text};

fuzz_target!(|data: &[u8]| {
    let now = time::macros::datetime!(2026-12-01 0:00 UTC);
    if let Ok(value) = Pkcs7::from_der(data, now) {
        let object = Object::Pkcs7(value);
        let _ = text::render(&object);
        let _ = serde_json::to_string(&object);
    }
});
