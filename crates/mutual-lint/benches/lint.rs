//! Lint throughput on one certificate: the registry alone (decoded once), and decode plus
//! lint as `mutual lint` does per file. `cargo bench -p mutual-lint`.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mutual_lint::{Options, TrustMode};
use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use time::macros::datetime;

fn server_certificate() -> Vec<u8> {
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(DnType::CommonName, "Bench CA");
    ca.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let issuer = Issuer::from_params(&ca, &ca_key);
    let mut p = CertificateParams::default();
    p.distinguished_name
        .push(DnType::CommonName, "www.example.com");
    p.subject_alt_names = vec![SanType::DnsName("www.example.com".try_into().unwrap())];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.use_authority_key_identifier_extension = true;
    p.is_ca = IsCa::ExplicitNoCa;
    p.not_before = datetime!(2026-06-01 00:00 UTC);
    p.not_after = datetime!(2026-08-30 00:00 UTC);
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    p.signed_by(&key, &issuer).unwrap().der().to_vec()
}

fn bench(c: &mut Criterion) {
    let der = server_certificate();
    let options = Options {
        profile: None,
        trust: TrustMode::Private,
        now: datetime!(2026-07-01 00:00 UTC),
    };
    let decoded = mutual_x509::Certificate::from_der(&der, options.now).unwrap();
    let mut group = c.benchmark_group("lint");
    group.throughput(Throughput::Elements(1));
    group.bench_function("registry on a decoded certificate", |b| {
        b.iter(|| mutual_lint::lint_certificate(&decoded, &options).unwrap())
    });
    group.bench_function("decode and lint DER", |b| {
        b.iter(|| mutual_lint::lint_bytes(&der, &options).unwrap())
    });
    group.bench_function("decode only (mutual-x509)", |b| {
        b.iter(|| mutual_x509::Certificate::from_der(&der, options.now).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
