//! Chains validated per second (leaf + intermediate + root, ECDSA P-256 and RSA-2048), in
//! process, against the crypto library's raw signature verification: a chain costs two
//! signature checks (the leaf's and the intermediate's; nobody checks a root's own), so the
//! target is at least half of `raw verify rate / 2`.
//!
//! Run: `cargo bench -p mutual-verify --bench verify`. `scripts/bench-verify` sets
//! `mutual verify --batch` beside `openssl verify` on the same files.

use std::hint::black_box;

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mutual_verify::{Policy, Purpose, Verifier};
use mutual_x509::Certificate;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SignatureAlgorithm,
};
use time::OffsetDateTime;

struct Chain {
    root: Vec<u8>,
    intermediate: Vec<u8>,
    leaf: Vec<u8>,
    /// The leaf's TBS, signature and the intermediate's SPKI, for the raw verification.
    intermediate_key: KeyPair,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn chain(algorithm: &'static SignatureAlgorithm) -> Chain {
    let generate = || KeyPair::generate_for(algorithm).expect("key pair");
    let (root_key, intermediate_key, leaf_key) = (generate(), generate(), generate());
    let root_params = ca_params("Bench Root");
    let root = root_params.self_signed(&root_key).expect("root");
    let root_issuer = Issuer::new(root_params, &root_key);
    let mut intermediate_params = ca_params("Bench Server CA");
    intermediate_params.use_authority_key_identifier_extension = true;
    let intermediate = intermediate_params
        .clone()
        .signed_by(&intermediate_key, &root_issuer)
        .expect("intermediate");
    let intermediate_issuer = Issuer::new(intermediate_params, &intermediate_key);
    let mut leaf_params =
        CertificateParams::new(vec!["bench.example.internal".to_owned()]).expect("leaf");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf = leaf_params
        .signed_by(&leaf_key, &intermediate_issuer)
        .expect("leaf");
    Chain {
        root: root.der().to_vec(),
        intermediate: intermediate.der().to_vec(),
        leaf: leaf.der().to_vec(),
        intermediate_key,
    }
}

fn bench(c: &mut Criterion) {
    let now = OffsetDateTime::now_utc();
    for (name, algorithm, raw) in [
        (
            "p256",
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &signature::ECDSA_P256_SHA256_ASN1 as &dyn signature::VerificationAlgorithm,
        ),
        (
            "rsa2048",
            &rcgen::PKCS_RSA_SHA256,
            &signature::RSA_PKCS1_2048_8192_SHA256,
        ),
    ] {
        let chain = chain(algorithm);
        let decode = |der: &[u8]| Certificate::from_der(der, now).expect("decodes");
        let mut policy = Policy::new(Purpose::Server, now);
        policy.host = Some("bench.example.internal".parse().expect("host"));
        let verifier = Verifier::new(vec![decode(&chain.root)], policy)
            .expect("anchor")
            .with_pool(vec![decode(&chain.intermediate)]);

        let mut group = c.benchmark_group(format!("verify/{name}"));
        group.throughput(Throughput::Elements(1));
        // What `mutual verify --batch` does per leaf: decode it, validate, diagnose.
        group.bench_function("chain_from_der", |b| {
            b.iter(|| {
                let leaf = decode(black_box(&chain.leaf));
                let verdict = verifier.verify(&leaf, &[]);
                assert!(verdict.valid, "{:?}", verdict.errors);
                verdict
            })
        });
        let leaf = decode(&chain.leaf);
        group.bench_function("chain_decoded", |b| {
            b.iter(|| verifier.verify(black_box(&leaf), &[]))
        });
        group.bench_function("decode_leaf", |b| b.iter(|| decode(black_box(&chain.leaf))));
        // One raw signature verification by the crypto library: the unit of the target.
        let (_, parsed) = x509_parser::parse_x509_certificate(&chain.leaf).expect("leaf parses");
        let tbs = parsed.tbs_certificate.as_ref().to_vec();
        let sig = parsed.signature_value.data.to_vec();
        // The SubjectPublicKey BIT STRING content: the EC point, or PKCS#1 RSAPublicKey.
        let public = chain.intermediate_key.public_key_raw().to_vec();
        group.bench_function("raw_signature_verify", |b| {
            b.iter(|| {
                UnparsedPublicKey::new(raw, &public)
                    .verify(black_box(&tbs), black_box(&sig))
                    .expect("verifies")
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
