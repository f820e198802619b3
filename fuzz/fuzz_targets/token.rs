//! Enrollment tokens as `POST /api/v1/enroll` and `mutual enroll` read them
//! (`mutual_ca::store::tokens::EnrollmentToken::from_str`): any text either fails with a
//! `Malformed` error or parses into a token that prints back as the same trimmed text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mutual_ca::store::tokens::EnrollmentToken;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(token) = text.parse::<EnrollmentToken>() {
        assert_eq!(token.expose().as_str(), text.trim());
        assert_eq!(token.secret_sha256().len(), 64);
    }
});
