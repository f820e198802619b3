//! What `mutual probe` reads from users and peers: the `HOST:PORT` target (printed back, it
//! parses to the same target), the answer to its HTTP `GET`, what an AIA caIssuers URL
//! serves, and a non-TLS peer's greeting (at most 60 characters and a `…` shown).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mutual_probe::{Target, decode_ca_issuers, describe_greeting, parse_http_response};

fuzz_target!(|data: &[u8]| {
    let now = time::macros::datetime!(2026-12-01 0:00 UTC);
    if let Ok(Ok(target)) = std::str::from_utf8(data).map(str::parse::<Target>) {
        assert_eq!(target.to_string().parse::<Target>().ok(), Some(target));
    }
    let _ = parse_http_response(data);
    if let Ok(certificates) = decode_ca_issuers(data, now) {
        assert!(!certificates.is_empty());
    }
    assert!(describe_greeting(data).text.chars().count() <= 61);
});
