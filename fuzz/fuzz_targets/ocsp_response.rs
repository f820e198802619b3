//! `judge_response` on raw bytes as an OCSP response about a fixed leaf and issuer
//! (fixtures/ocsp/), with and without a nonce to match.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mutual_verify::judge_response;
use mutual_x509::Certificate;

fuzz_target!(|data: &[u8]| {
    let now = time::macros::datetime!(2026-12-01 0:00 UTC);
    let (Ok(leaf), Ok(issuer)) = (
        Certificate::from_der(include_bytes!("../fixtures/ocsp/leaf.der"), now),
        Certificate::from_der(include_bytes!("../fixtures/ocsp/issuer.der"), now),
    ) else {
        return;
    };
    let _ = judge_response(data, &leaf, &issuer, None, now);
    let _ = judge_response(data, &leaf, &issuer, Some(&[7; 16]), now);
});
