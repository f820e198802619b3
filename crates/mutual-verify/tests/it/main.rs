//! The fuzz seeds of `verify` and `ocsp_response` on stable Rust, so CI keeps exercising
//! them without libFuzzer; and what the committed OCSP responses (made by `openssl ocsp`)
//! must be judged as.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use mutual_verify::{OcspAnswer, OcspProblem, Policy, Purpose, Verifier, judge_response};
use mutual_x509::{Certificate, DecodeOptions, Object, decode};
use time::OffsetDateTime;

const NOW: OffsetDateTime = time::macros::datetime!(2026-12-01 0:00 UTC);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn fixture(name: &str) -> Certificate {
    let der = std::fs::read(fuzz_dir().join("fixtures/ocsp").join(name)).unwrap();
    Certificate::from_der(&der, NOW).unwrap()
}

#[test]
fn openssl_made_ocsp_responses_are_judged_as_they_are() {
    let (leaf, issuer) = (fixture("leaf.der"), fixture("issuer.der"));
    let seeds = fuzz_dir().join("seeds/ocsp_response");
    let read = |name: &str| std::fs::read(seeds.join(name)).unwrap();

    // Signed by the issuer, fresh, good; it carries openssl's nonce, not ours.
    assert_eq!(
        judge_response(&read("good.der"), &leaf, &issuer, None, NOW).unwrap(),
        OcspAnswer::Good {
            nonce_echoed: false
        }
    );
    assert!(matches!(
        judge_response(&read("good.der"), &leaf, &issuer, Some(&[1; 16]), NOW),
        Err(OcspProblem::NonceMismatch)
    ));
    // No nonce at all: believed, and said to be possibly cached.
    assert_eq!(
        judge_response(&read("no-nonce.der"), &leaf, &issuer, Some(&[1; 16]), NOW).unwrap(),
        OcspAnswer::Good {
            nonce_echoed: false
        }
    );
    assert!(matches!(
        judge_response(&read("truncated.der"), &leaf, &issuer, None, NOW),
        Err(OcspProblem::Malformed(_))
    ));
    // About the issuer's own serial, as it were: the issuer is not the leaf.
    assert!(matches!(
        judge_response(&read("good.der"), &issuer, &issuer, None, NOW),
        Err(OcspProblem::NotAbout)
    ));
    // Long before it was produced: thisUpdate is in the future.
    let past = time::macros::datetime!(2020-01-01 0:00 UTC);
    assert!(matches!(
        judge_response(&read("good.der"), &leaf, &issuer, None, past),
        Err(OcspProblem::Stale(_))
    ));
    // Signed by someone the leaf's issuer never authorized.
    assert!(matches!(
        judge_response(&read("good.der"), &leaf, &leaf, None, NOW),
        Err(OcspProblem::Unauthorized(_))
    ));
}

#[test]
fn every_fuzz_seed_goes_through_without_panicking() {
    let (leaf, issuer) = (fixture("leaf.der"), fixture("issuer.der"));
    for path in files(&fuzz_dir().join("seeds/ocsp_response"))
        .into_iter()
        .chain(files(&fuzz_dir().join("regressions/ocsp_response")))
    {
        let bytes = std::fs::read(&path).unwrap();
        let _ = judge_response(&bytes, &leaf, &issuer, None, NOW);
        let _ = judge_response(&bytes, &leaf, &issuer, Some(&[7; 16]), NOW);
    }
    let mut chains = 0;
    for path in files(&fuzz_dir().join("seeds/verify"))
        .into_iter()
        .chain(files(&fuzz_dir().join("seeds/certificate")))
        .chain(files(&fuzz_dir().join("regressions/verify")))
    {
        let bytes = std::fs::read(&path).unwrap();
        let options = DecodeOptions {
            now: NOW,
            password: None,
        };
        let Ok(objects) = decode(&bytes, &options) else {
            continue;
        };
        let certificates: Vec<Certificate> = objects
            .into_iter()
            .filter_map(|object| match object {
                Object::Certificate(certificate) => Some(*certificate),
                _ => None,
            })
            .collect();
        let (Some(leaf), Some(anchor)) = (certificates.first(), certificates.last()) else {
            continue;
        };
        for purpose in [Purpose::Server, Purpose::Client, Purpose::Any] {
            let mut policy = Policy::new(purpose, NOW);
            policy.host = "www.example.com".parse().ok();
            policy.max_depth = Some(4);
            let verifier = Verifier::new(vec![anchor.clone()], policy)
                .unwrap()
                .with_pool(certificates[1..].to_vec());
            let verdict = verifier.verify(leaf, &certificates[1..]);
            // Whatever the input, a verdict is either valid or says why not.
            assert!(
                verdict.valid == verdict.errors.is_empty(),
                "{}",
                path.display()
            );
        }
        chains += 1;
    }
    assert!(chains >= 2, "the verify seeds should hold chains");
}
