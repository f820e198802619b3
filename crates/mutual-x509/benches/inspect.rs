//! Parse + classify throughput: how many certificates per second `mutual-x509` turns into
//! a full report (fields, extensions, Purpose, findings, fingerprints), on real
//! certificates: Debian's roots and the chains in ../shared/corpus/real-world.
//!
//! Run: `cargo bench -p mutual-x509 --bench inspect`. The README compares the whole
//! command with `openssl x509 -noout -text` (scripts/bench-inspect).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mutual_x509::{Certificate, DecodeOptions, decode, pem};

fn corpus() -> Vec<Vec<u8>> {
    let mut ders = Vec::new();
    let mut add_pem = |path: &Path| {
        if let Ok(bytes) = std::fs::read(path)
            && let Ok(blocks) = pem::parse(&bytes)
        {
            ders.extend(
                blocks
                    .into_iter()
                    .filter(|b| b.label == "CERTIFICATE")
                    .map(|b| b.der),
            );
        }
    };
    add_pem(Path::new("/etc/ssl/certs/ca-certificates.crt"));
    let real_world =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/real-world");
    if let Ok(sites) = std::fs::read_dir(real_world) {
        for site in sites.flatten() {
            for file in ["leaf.pem", "intermediates.pem", "roots.pem"] {
                add_pem(&site.path().join(file));
            }
        }
    }
    assert!(
        !ders.is_empty(),
        "no certificates found: install ca-certificates"
    );
    ders
}

fn bench(c: &mut Criterion) {
    let ders = corpus();
    let now = time::OffsetDateTime::now_utc();
    let mut group = c.benchmark_group("inspect");
    group.throughput(Throughput::Elements(ders.len() as u64));
    group.bench_function(format!("certificate_from_der/{}_certs", ders.len()), |b| {
        b.iter(|| {
            for der in &ders {
                black_box(
                    Certificate::from_der(black_box(der), now).expect("real certificates decode"),
                );
            }
        })
    });
    // Leaves are not self-issued, so no signature is checked: this is the decoding alone.
    let leaves: Vec<&Vec<u8>> = ders
        .iter()
        .filter(|der| Certificate::from_der(der, now).is_ok_and(|c| c.purpose.ca.is_none()))
        .collect();
    group.throughput(Throughput::Elements(leaves.len() as u64));
    group.bench_function(format!("leaf_from_der/{}_leaves", leaves.len()), |b| {
        b.iter(|| {
            for der in &leaves {
                black_box(
                    Certificate::from_der(black_box(der), now).expect("real certificates decode"),
                );
            }
        })
    });
    let bundle = std::fs::read("/etc/ssl/certs/ca-certificates.crt").expect("ca-certificates");
    let options = DecodeOptions {
        now,
        password: None,
    };
    group.throughput(Throughput::Bytes(bundle.len() as u64));
    group.bench_function("decode_pem_bundle/ca-certificates.crt", |b| {
        b.iter(|| black_box(decode(black_box(&bundle), &options).expect("bundle decodes")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
