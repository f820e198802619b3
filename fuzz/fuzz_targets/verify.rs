//! `Verifier::verify` on whatever certificates the input decodes to: the first is the leaf,
//! the last is trusted, the rest are untrusted — so broken, odd and hostile certificates go
//! through webpki, the diagnostic path builder and every check, for each purpose.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mutual_verify::{Policy, Purpose, Verifier};
use mutual_x509::{DecodeOptions, Object, decode};

fuzz_target!(|data: &[u8]| {
    let now = time::macros::datetime!(2026-12-01 0:00 UTC);
    let options = DecodeOptions {
        now,
        password: None,
    };
    let Ok(objects) = decode(data, &options) else {
        return;
    };
    let certificates: Vec<_> = objects
        .into_iter()
        .filter_map(|object| match object {
            Object::Certificate(certificate) => Some(*certificate),
            _ => None,
        })
        .collect();
    let (Some(leaf), Some(anchor)) = (certificates.first(), certificates.last()) else {
        return;
    };
    for purpose in [Purpose::Server, Purpose::Client, Purpose::Any] {
        let mut policy = Policy::new(purpose, now);
        policy.host = "www.example.com".parse().ok();
        policy.max_depth = Some(4);
        if let Ok(verifier) = Verifier::new(vec![anchor.clone()], policy) {
            let verifier = verifier.with_pool(certificates[1..].to_vec());
            let verdict = verifier.verify(leaf, &certificates[1..]);
            let _ = serde_json::to_string(&verdict);
        }
    }
});
