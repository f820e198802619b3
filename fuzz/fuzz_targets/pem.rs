//! The PEM block scanner alone.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mutual_x509::pem::parse(data);
});
