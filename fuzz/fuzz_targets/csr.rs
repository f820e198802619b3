//! `Csr::from_der` on raw DER, then its renderings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mutual_x509::{Csr, Object, text};

fuzz_target!(|data: &[u8]| {
    if let Ok(csr) = Csr::from_der(data) {
        let object = Object::CertificateRequest(Box::new(csr));
        let _ = text::render(&object);
        let _ = serde_json::to_string(&object);
    }
});
