//! Issuance throughput, and what it costs beside the signature: a whole issuance (P-256 key
//! pair, plan, sign, construction check, synced store record) against one raw ECDSA P-256
//! signature, with the steps in between timed alone.
//!
//! `issue/store_record_concurrent_32` records 32 certificates at once, which the store
//! commits together (group commit); its time per element is the amortised store cost.
//!
//! Run: `cargo bench -p mutual-ca --bench issue`. The README sets `mutual bench issue`
//! (the same steps, in one process) beside `openssl req | openssl x509 -req`
//! (scripts/bench-issue).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mutual_ca::home::{Home, IssuingRole};
use mutual_ca::init::{InitOptions, init};
use mutual_ca::issuance::{IssuingCa, Request, SubjectAltName, issue, plan};
use mutual_ca::key::{self, KeyType};
use mutual_ca::passphrase::Passphrase;
use mutual_ca::profile::{Profile, ProfileKind};
use mutual_ca::store::{NewCertificate, Store};
use rcgen::{CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, SanType, SerialNumber};
use time::OffsetDateTime;
use tokio::runtime::Runtime;

/// A CA made by `init` in a temporary directory (on the same disk as a real home would be,
/// when TMPDIR is), with its server CA loaded.
struct Fixture {
    _dir: tempfile::TempDir,
    home: Home,
    ca: IssuingCa,
    ca_key: KeyPair,
    ca_der: Vec<u8>,
    profile: Profile,
}

fn fixture(runtime: &Runtime) -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let home = Home::resolve(Some(&dir.path().join("home")));
    let options = InitOptions {
        unencrypted_intermediates: true,
        ..InitOptions::default()
    };
    let passphrase = Passphrase::new("bench: a throwaway root".to_owned());
    runtime
        .block_on(init(
            &home,
            &options,
            &passphrase,
            OffsetDateTime::now_utc(),
        ))
        .expect("init");
    let ca = home
        .issuing_ca(IssuingRole::Server, None)
        .expect("server CA");
    let key_pem =
        std::fs::read_to_string(home.issuing_key(IssuingRole::Server)).expect("server CA key");
    let ca_key = key::read_key(&key_pem, None).expect("server CA key");
    let cert_pem = std::fs::read_to_string(home.issuing_certificate(IssuingRole::Server))
        .expect("server CA certificate");
    let ca_der = mutual_x509::pem::parse(cert_pem.as_bytes()).expect("PEM")[0]
        .der
        .clone();
    Fixture {
        _dir: dir,
        home,
        ca,
        ca_key,
        ca_der,
        profile: Profile::builtin(ProfileKind::Server),
    }
}

fn request(i: u64) -> Request {
    let host = format!("bench-{i}.bench.invalid");
    Request {
        profile: ProfileKind::Server,
        common_name: host.clone(),
        sans: vec![SubjectAltName::Dns(host)],
        days: None,
        key_type: KeyType::EcP256,
        requester: Some("bench".to_owned()),
    }
}

/// The parameters `issuance::plan` builds (a `Plan` keeps its own private).
fn params(host: &str, profile: &Profile, now: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, host);
    params.distinguished_name = subject;
    params.subject_alt_names = vec![SanType::DnsName(host.try_into().expect("DNS name"))];
    params.not_before = now - time::Duration::minutes(1);
    params.not_after = now + time::Duration::days(i64::from(profile.default_days));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = profile.key_usages(KeyType::EcP256);
    params.extended_key_usages = profile.extended_key_usages();
    params.use_authority_key_identifier_extension = true;
    params
}

/// Records in flight at once in `issue/store_record_concurrent_*`.
const BATCH: usize = 32;

/// A fresh 16-byte serial per call, as the store demands.
fn serial_hex(counter: &AtomicU64) -> String {
    format!(
        "40{:030X}",
        u128::from(counter.fetch_add(1, Ordering::Relaxed))
    )
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let fx = fixture(&runtime);
    let store = runtime
        .block_on(Store::open_sqlite(&fx.home.store()))
        .expect("store");
    let counter = AtomicU64::new(1);
    let now = OffsetDateTime::now_utc();

    let mut group = c.benchmark_group("issue");
    group.throughput(Throughput::Elements(1));
    group.bench_function("full", |b| {
        b.iter(|| {
            let i = counter.fetch_add(1, Ordering::Relaxed);
            let now = OffsetDateTime::now_utc();
            let key = KeyType::EcP256.generate_subject().expect("key pair");
            let plan = plan(&request(i), &fx.profile, &fx.ca, now).expect("plan");
            black_box(
                runtime
                    .block_on(issue(plan, &key, &fx.ca, &store, now))
                    .expect("issue"),
            )
        })
    });

    // What `issue` does to sign: encode and sign with the issuer `IssuingCa` parsed once.
    let subject_key = KeyType::EcP256.generate().expect("key pair");
    let template = params("bench.bench.invalid", &fx.profile, now);
    let issuer =
        rcgen::Issuer::from_ca_cert_der(&fx.ca_der.as_slice().into(), &fx.ca_key).expect("issuer");
    group.bench_function("sign_only", |b| {
        b.iter(|| {
            let mut params = template.clone();
            params.serial_number = Some(SerialNumber::from_slice(&[0x40; 16]));
            black_box(params.signed_by(&subject_key, &issuer).expect("sign"))
        })
    });

    // What `IssuingCa` does once when it is loaded (and `issue` used to do per certificate).
    group.bench_function("issuer_from_ca_cert", |b| {
        b.iter(|| {
            black_box(
                rcgen::Issuer::from_ca_cert_der(&fx.ca_der.as_slice().into(), &fx.ca_key)
                    .expect("issuer"),
            )
        })
    });

    let issued = runtime
        .block_on(issue(
            plan(&request(0), &fx.profile, &fx.ca, now).expect("plan"),
            &subject_key,
            &fx.ca,
            &store,
            now,
        ))
        .expect("issue");
    let der = mutual_x509::pem::parse(issued.certificate_pem.as_bytes()).expect("PEM")[0]
        .der
        .clone();
    group.bench_function("decode_check", |b| {
        b.iter(|| {
            let decoded = mutual_x509::Certificate::from_der(black_box(&der), now).expect("decode");
            assert_eq!(decoded.purpose.kind, fx.profile.expected_purpose());
            black_box(decoded)
        })
    });
    // What issuance checks before signing: decoded and linted, the DER parsed once.
    let options = mutual_lint::Options {
        profile: None,
        trust: mutual_lint::TrustMode::Private,
        now,
    };
    group.bench_function("decode_check_lint", |b| {
        b.iter(|| {
            let (decoded, report) =
                mutual_lint::decode_and_lint(black_box(&der), now, &options).expect("decode");
            assert_eq!(decoded.purpose.kind, fx.profile.expected_purpose());
            black_box((decoded, report))
        })
    });

    // The issued certificate's row again, under a fresh serial and fingerprint each time.
    let record = &issued.record;
    let fresh_row = || {
        let serial = serial_hex(&counter);
        NewCertificate {
            fingerprint_sha256: format!("{serial:0>64}"),
            serial,
            issuer_key_id: record.issuer_key_id.clone(),
            issuer: record.issuer.clone(),
            subject: record.subject.clone(),
            sans: record.sans.clone(),
            not_before: record.not_before,
            not_after: record.not_after,
            profile: record.profile.clone(),
            requester: record.requester.clone(),
            pem: record.pem.clone(),
            audit: None,
        }
    };
    group.bench_function("store_record", |b| {
        b.iter(|| {
            let new = fresh_row();
            black_box(runtime.block_on(store.record(&new)).expect("record"))
        })
    });
    group.finish();

    // BATCH records started at once: the store commits them together (group commit), so
    // the time per element is the amortised cost of recording one certificate.
    let mut group = c.benchmark_group("issue");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(format!("store_record_concurrent_{BATCH}"), |b| {
        b.iter_batched(
            || (0..BATCH).map(|_| fresh_row()).collect::<Vec<_>>(),
            |rows| {
                runtime.block_on(async {
                    let mut tasks = tokio::task::JoinSet::new();
                    for new in rows {
                        let store = store.clone();
                        tasks.spawn(async move { store.record(&new).await });
                    }
                    for recorded in tasks.join_all().await {
                        black_box(recorded.expect("record"));
                    }
                })
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();

    // One raw signature over a certificate-sized message: the floor for the whole issuance.
    let mut group = c.benchmark_group("p256");
    group.throughput(Throughput::Elements(1));
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("key");
    let signer =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).expect("key");
    let message = vec![0x5a_u8; 500];
    group.bench_function("sign", |b| {
        b.iter(|| black_box(signer.sign(&rng, black_box(&message)).expect("sign")))
    });
    // A subject's key, as issuance generates it, and a signer's (rcgen's own path, which
    // loads the key back and so derives its public key twice).
    group.bench_function("keygen", |b| {
        b.iter(|| black_box(KeyType::EcP256.generate_subject().expect("key pair")))
    });
    group.bench_function("keygen_signer", |b| {
        b.iter(|| black_box(KeyType::EcP256.generate().expect("key pair")))
    });
    group.finish();

    runtime.block_on(store.close());
}

criterion_group!(benches, bench);
criterion_main!(benches);
