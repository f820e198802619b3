//! The OCSP responder, asked by `openssl ocsp` (requests made with `-reqout`, answers
//! checked with `-respin ... -CAfile root.pem`): good, revoked with its reason and time
//! after a revocation, unauthorized for another CA's certificate, malformedRequest for
//! garbage; answers without a nonce come from the cache until the status changes.

#![allow(clippy::unwrap_used)] // a test: a failed step should stop it with its error

use std::path::{Path, PathBuf};

use mutual_ca::home::{Home, IssuingRole};
use mutual_ca::init::{InitOptions, init};
use mutual_ca::issuance::{Request, SubjectAltName, issue, plan};
use mutual_ca::key::KeyType;
use mutual_ca::ocsp::Responder;
use mutual_ca::passphrase::Passphrase;
use mutual_ca::profile::{ProfileKind, Profiles};
use mutual_ca::store::{Lookup, Revocation, RevocationReason, Store};
use mutual_test::{openssl, openssl_output};
use time::{Duration, OffsetDateTime};

struct Fixture {
    dir: tempfile::TempDir,
    home: Home,
    store: Store,
}

impl Fixture {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A responder for the client CA, signing with a delegated signer `signer` issued for
    /// it, answers good for an hour.
    async fn client_responder(&self, signer: &str) -> Responder {
        let (signer_pem, signer_key) = self.issue(ProfileKind::OcspSigner, signer).await;
        let ca = self.home.issuing_ca(IssuingRole::Client, None).unwrap();
        let ca_pem =
            std::fs::read_to_string(self.home.issuing_certificate(IssuingRole::Client)).unwrap();
        Responder::new(
            &der_of(&ca_pem),
            &ca.key_id,
            &der_of(&signer_pem),
            signer_key,
            Duration::hours(1),
        )
        .unwrap()
    }

    /// Issues `kind` for `name` from the CA for `role`; writes NAME.pem, returns (PEM, key).
    async fn issue(&self, kind: ProfileKind, name: &str) -> (String, rcgen::KeyPair) {
        let role = IssuingRole::for_profile(kind);
        let ca = self.home.issuing_ca(role, None).unwrap();
        let key = KeyType::EcP256.generate().unwrap();
        let request = Request {
            profile: kind,
            common_name: name.to_owned(),
            sans: if kind == ProfileKind::Server {
                vec![SubjectAltName::Dns(name.to_owned())]
            } else {
                Vec::new()
            },
            days: None,
            key_type: KeyType::EcP256,
            requester: None,
        };
        let profiles = Profiles::default();
        let planned = plan(&request, profiles.get(kind), &ca, OffsetDateTime::now_utc()).unwrap();
        let issued = issue(planned, &key, &ca, &self.store, OffsetDateTime::now_utc())
            .await
            .unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), &issued.certificate_pem).unwrap();
        (issued.certificate_pem, key)
    }
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::resolve(Some(&dir.path().join("home")));
    let options = InitOptions {
        unencrypted_intermediates: true,
        ..InitOptions::default()
    };
    let passphrase = Passphrase::new("ocsp test: a throwaway root".to_owned());
    init(&home, &options, &passphrase, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let store = Store::open_sqlite(&home.store()).await.unwrap();
    Fixture { dir, home, store }
}

fn der_of(pem: &str) -> Vec<u8> {
    mutual_x509::pem::parse(pem.as_bytes()).unwrap()[0]
        .der
        .clone()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `openssl ocsp -reqout`: a request about `leaf` issued by `issuer`.
fn request(f: &Fixture, issuer: &Path, leaf: &Path, nonce: bool, name: &str) -> Vec<u8> {
    let out = f.path(name);
    let mut args = vec![
        "ocsp",
        "-issuer",
        s(issuer),
        "-cert",
        s(leaf),
        "-reqout",
        s(&out),
    ];
    if !nonce {
        args.push("-no_nonce");
    }
    openssl(&args);
    std::fs::read(&out).unwrap()
}

/// `openssl ocsp -respin` verifies `response` against the root; returns its text output.
fn read(f: &Fixture, issuer: &Path, leaf: &Path, response: &[u8]) -> String {
    let file = f.path("response.der");
    std::fs::write(&file, response).unwrap();
    let output = openssl_output(&[
        "ocsp",
        "-respin",
        s(&file),
        "-issuer",
        s(issuer),
        "-cert",
        s(leaf),
        "-CAfile",
        s(&f.home.root_certificate()),
        "-resp_text",
        "-no_nonce",
    ]);
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn openssl_reads_good_then_revoked_and_the_refusals() {
    let f = fixture().await;
    let client_ca = f.home.issuing_certificate(IssuingRole::Client);
    let server_ca = f.home.issuing_certificate(IssuingRole::Server);
    let (leaf_pem, _) = f.issue(ProfileKind::Client, "alice").await;
    let (signer_pem, signer_key) = f.issue(ProfileKind::OcspSigner, "ocsp-responder").await;
    f.issue(ProfileKind::Server, "www.example.internal").await;
    let ca_pem = std::fs::read_to_string(&client_ca).unwrap();
    let ca = f.home.issuing_ca(IssuingRole::Client, None).unwrap();
    let responder = Responder::new(
        &der_of(&ca_pem),
        &ca.key_id,
        &der_of(&signer_pem),
        signer_key,
        Duration::hours(1),
    )
    .unwrap();
    let leaf = f.path("alice.pem");
    let now = OffsetDateTime::now_utc();

    // Good, with the nonce echoed; the delegated signer carries ocsp-nocheck.
    let asked = request(&f, &client_ca, &leaf, true, "with-nonce.der");
    let text = read(
        &f,
        &client_ca,
        &leaf,
        &responder.respond(&asked, &f.store, now).await,
    );
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(
        text.contains(&format!("{}: good", leaf.display())),
        "{text}"
    );
    assert!(text.contains("OCSP Nonce"), "{text}");
    assert!(text.contains("OCSP No Check"), "{text}");

    // Without a nonce, the second answer is the cached one, byte for byte.
    let asked = request(&f, &client_ca, &leaf, false, "no-nonce.der");
    let first = responder.respond(&asked, &f.store, now).await;
    let second = responder
        .respond(&asked, &f.store, now + Duration::minutes(5))
        .await;
    assert_eq!(first, second, "the cached answer was re-signed");

    // Revoked (as by another process: nothing tells the responder): the cache notices the
    // new status once it next checks the store's revocation count, within EPOCH_CHECK.
    // (`mutual serve` also calls `Responder::revoked`, so its own revocations show at once;
    // its end-to-end test covers that.)
    let serial = mutual_x509::Certificate::from_der(&der_of(&leaf_pem), now)
        .unwrap()
        .serial;
    f.store
        .revoke(
            &Lookup::Serial(serial),
            &Revocation {
                at: now,
                reason: RevocationReason::KeyCompromise,
                invalid_since: None,
                by: Some("test".into()),
            },
        )
        .await
        .unwrap();
    std::thread::sleep(mutual_ca::ocsp::EPOCH_CHECK + std::time::Duration::from_millis(50));
    let third = responder.respond(&asked, &f.store, now).await;
    assert_ne!(third, first);
    let text = read(&f, &client_ca, &leaf, &third);
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(
        text.contains(&format!("{}: revoked", leaf.display())),
        "{text}"
    );
    assert!(text.contains("Reason: keyCompromise"), "{text}");

    // A certificate of the server CA: this responder does not speak for it.
    let other = f.path("www.example.internal.pem");
    let asked = request(&f, &server_ca, &other, false, "other-ca.der");
    let text = read(
        &f,
        &server_ca,
        &other,
        &responder.respond(&asked, &f.store, now).await,
    );
    assert!(text.contains("unauthorized"), "{text}");

    // Not a request at all.
    let text = read(
        &f,
        &client_ca,
        &leaf,
        &responder
            .respond(b"GET / HTTP/1.1\r\n", &f.store, now)
            .await,
    );
    assert!(
        text.contains("malformedrequest") || text.contains("malformedRequest"),
        "{text}"
    );
}

/// The `ocsp_request` fuzz seeds (and any past crash) on stable Rust: every input gets a
/// well-formed OCSP response; the seeds' requests about the fixture CA's leaf, which the
/// empty store does not know, get a signed "unknown", a truncated one `malformedRequest`.
#[tokio::test]
async fn fuzz_seeds_get_well_formed_answers() {
    use der_07::Decode;
    use x509_ocsp::{OcspResponse, OcspResponseStatus};

    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let ca = std::fs::read(fuzz.join("fixtures/ocsp/issuer.der")).unwrap();
    let key_pem = std::fs::read_to_string(fuzz.join("fixtures/ocsp/issuer.key.pem")).unwrap();
    let key = mutual_ca::key::read_key(&key_pem, None).unwrap();
    let responder = Responder::new(&ca, "00", &ca, key, Duration::hours(1)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("s.sqlite"))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let mut seen = 0;
    for folder in ["seeds/ocsp_request", "regressions/ocsp_request"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(folder)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let answer = responder.respond(&bytes, &store, now).await;
            let parsed = OcspResponse::from_der(&answer)
                .unwrap_or_else(|e| panic!("{}: not an OCSP response: {e}", path.display()));
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let expected = if name.starts_with("truncated") {
                OcspResponseStatus::MalformedRequest
            } else {
                OcspResponseStatus::Successful
            };
            if folder.starts_with("seeds") {
                assert_eq!(parsed.response_status, expected, "{name}");
            }
            seen += 1;
        }
    }
    assert!(seen >= 3, "the seeds are missing");
}

/// The store going away (a PostgreSQL outage; here the store closed under the responder):
/// answers signed before keep being served until their nextUpdate, byte for byte; a
/// question never answered, a nonce, or a time past nextUpdate gets `tryLater`.
#[tokio::test]
async fn through_a_store_outage_cached_answers_last_until_next_update() {
    use der_07::Decode;
    use x509_ocsp::{OcspResponse, OcspResponseStatus};

    let f = fixture().await;
    let client_ca = f.home.issuing_certificate(IssuingRole::Client);
    f.issue(ProfileKind::Client, "alice").await;
    f.issue(ProfileKind::Client, "bob").await;
    let responder = f.client_responder("ocsp-responder").await;
    let alice = request(&f, &client_ca, &f.path("alice.pem"), false, "alice.der");
    let bob = request(&f, &client_ca, &f.path("bob.pem"), false, "bob.der");
    let alice_nonce = request(
        &f,
        &client_ca,
        &f.path("alice.pem"),
        true,
        "alice-nonce.der",
    );
    let now = OffsetDateTime::now_utc();
    let before = responder.respond(&alice, &f.store, now).await;
    assert!(read(&f, &client_ca, &f.path("alice.pem"), &before).contains(": good"));

    f.store.close().await;
    let status = |answer: &[u8]| OcspResponse::from_der(answer).unwrap().response_status;
    // Late in its life, past the refresh margin, but before nextUpdate: still served.
    let during = responder
        .respond(&alice, &f.store, now + Duration::minutes(55))
        .await;
    assert_eq!(
        during, before,
        "the signed answer was not served from the cache"
    );
    for (what, asked, at) in [
        ("never asked", &bob, now),
        ("with a nonce", &alice_nonce, now),
        ("past nextUpdate", &alice, now + Duration::minutes(61)),
    ] {
        let answer = responder.respond(asked, &f.store, at).await;
        assert_eq!(status(&answer), OcspResponseStatus::TryLater, "{what}");
    }
}

/// `[ocsp] revocation_refresh_ms`: a revocation made behind the responder's back (another
/// node, `mutual revoke`) shows once the refresh interval has passed, not before: a
/// responder told to look every hour keeps its cached `good`, one told to look every time
/// answers `revoked` at once.
#[tokio::test]
async fn the_revocation_refresh_interval_bounds_how_late_a_revocation_shows() {
    let f = fixture().await;
    let client_ca = f.home.issuing_certificate(IssuingRole::Client);
    f.issue(ProfileKind::Client, "carol").await;
    let hourly = f
        .client_responder("signer-hourly")
        .await
        .with_revocation_refresh(std::time::Duration::from_secs(3600));
    let eager = f
        .client_responder("signer-eager")
        .await
        .with_revocation_refresh(std::time::Duration::ZERO);
    let leaf = f.path("carol.pem");
    let asked = request(&f, &client_ca, &leaf, false, "carol.der");
    let now = OffsetDateTime::now_utc();
    for responder in [&hourly, &eager] {
        let text = read(
            &f,
            &client_ca,
            &leaf,
            &responder.respond(&asked, &f.store, now).await,
        );
        assert!(text.contains(": good"), "{text}");
    }
    let serial = openssl(&["x509", "-in", s(&leaf), "-noout", "-serial"]);
    f.store
        .revoke(
            &Lookup::Serial(serial.trim().trim_start_matches("serial=").to_owned()),
            &Revocation {
                at: now,
                reason: RevocationReason::KeyCompromise,
                invalid_since: None,
                by: Some("another node".to_owned()),
            },
        )
        .await
        .unwrap();
    let text = read(
        &f,
        &client_ca,
        &leaf,
        &hourly.respond(&asked, &f.store, now).await,
    );
    assert!(
        text.contains(": good"),
        "the hourly responder looked early: {text}"
    );
    let text = read(
        &f,
        &client_ca,
        &leaf,
        &eager.respond(&asked, &f.store, now).await,
    );
    assert!(text.contains(": revoked"), "{text}");
}
