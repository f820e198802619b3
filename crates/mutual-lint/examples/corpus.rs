//! Writes a corpus of certificates for the lint benchmarks and the pkilint comparison:
//! `cargo run --release -p mutual-lint --example corpus -- DIR COUNT`. One test CA (P-256)
//! issues COUNT certificates of the shapes an inventory holds — server, client, server and
//! client, OCSP — a quarter of them with a defect (no SAN, CN not in SAN, long validity,
//! keyEncipherment on EC, internal names), each as its own PEM file; on a cycle of three,
//! a CRL distribution point, an OCSP responder or neither. Serials are the index,
//! dates fixed: the same corpus on every machine except for the keys.
#![allow(clippy::unwrap_used)]

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use time::macros::datetime;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: corpus DIR COUNT"));
    let count: u32 = args.next().map_or(10_000, |n| n.parse().expect("COUNT"));
    std::fs::create_dir_all(&dir).unwrap();

    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(DnType::CommonName, "Corpus CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = datetime!(2026-01-01 00:00 UTC);
    ca.not_after = datetime!(2031-01-01 00:00 UTC);
    std::fs::write(dir.join("ca.pem"), ca.self_signed(&ca_key).unwrap().pem()).unwrap();
    let issuer = Issuer::from_params(&ca, &ca_key);
    // Key generation is not what is measured: a few keys serve every certificate.
    let keys: Vec<KeyPair> = (0..16)
        .map(|_| KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap())
        .collect();

    for i in 0..count {
        let host = format!("host{i}.example.com");
        let mut p = CertificateParams::default();
        p.serial_number = Some(SerialNumber::from_slice(&(i + 1).to_be_bytes()));
        p.not_before = datetime!(2026-06-01 00:00 UTC);
        p.not_after = datetime!(2026-08-30 00:00 UTC);
        p.use_authority_key_identifier_extension = true;
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        match i % 4 {
            0 | 1 => {
                p.distinguished_name.push(DnType::CommonName, &host);
                p.subject_alt_names = vec![SanType::DnsName(host.as_str().try_into().unwrap())];
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            }
            2 => {
                let user = format!("user{i}");
                p.distinguished_name.push(DnType::CommonName, &user);
                p.subject_alt_names = vec![SanType::Rfc822Name(
                    format!("{user}@example.com").as_str().try_into().unwrap(),
                )];
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            }
            _ => {
                p.distinguished_name.push(DnType::CommonName, &host);
                p.subject_alt_names = vec![SanType::DnsName(host.as_str().try_into().unwrap())];
                p.extended_key_usages = vec![
                    ExtendedKeyUsagePurpose::ServerAuth,
                    ExtendedKeyUsagePurpose::ClientAuth,
                ];
            }
        }
        // A quarter with a defect.
        match i % 16 {
            5 => p.subject_alt_names.clear(),
            6 => {
                p.distinguished_name = rcgen::DistinguishedName::new();
                p.distinguished_name
                    .push(DnType::CommonName, "other.example.com");
            }
            9 => p.not_after = datetime!(2027-09-01 00:00 UTC),
            10 => p.key_usages.push(KeyUsagePurpose::KeyEncipherment),
            13 => p.subject_alt_names = vec![SanType::DnsName("db.internal".try_into().unwrap())],
            _ => {}
        }
        // Revocation pointers, on a cycle of its own: a CRL distribution point, an OCSP
        // responder (with the issuer's certificate), or neither — so the pkilint
        // differential sees both tools pass as well as fire.
        match i % 3 {
            0 => {
                p.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
                    uris: vec!["http://crl.example.com/corpus.crl".to_owned()],
                }]
            }
            1 => p
                .custom_extensions
                .push(rcgen::CustomExtension::from_oid_content(
                    &[1, 3, 6, 1, 5, 5, 7, 1, 1],
                    aia(
                        "http://ocsp.example.com",
                        "http://ca.example.com/corpus.crt",
                    ),
                )),
            _ => {}
        }
        let cert = p
            .signed_by(&keys[i as usize % keys.len()], &issuer)
            .unwrap();
        std::fs::write(dir.join(format!("{i:05}.pem")), cert.pem()).unwrap();
    }
}

/// authorityInformationAccess content: id-ad-ocsp and id-ad-caIssuers, http URIs.
fn aia(ocsp: &str, ca_issuers: &str) -> Vec<u8> {
    let description = |oid_der: &[u8], uri: &str| {
        let mut content = oid_der.to_vec();
        content.extend(tlv(0x86, uri.as_bytes()));
        tlv(0x30, &content)
    };
    let mut list = description(
        &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01],
        ocsp,
    );
    list.extend(description(
        &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02],
        ca_issuers,
    ));
    tlv(0x30, &list)
}

/// One DER element; the URIs here are short, so the length fits one octet.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag, u8::try_from(content.len()).unwrap()];
    assert!(content.len() < 128);
    out.extend_from_slice(content);
    out
}
