//! One certificate (or request) per lint that breaks it, and clean ones that pass.

use mutual_lint::Profile;
use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, DnType, ExtendedKeyUsagePurpose,
    IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::der::{Node, hex, oid, seq, tlv};
use crate::fixtures::*;

pub(crate) struct Fixture {
    pub(crate) name: &'static str,
    pub(crate) der: Vec<u8>,
    pub(crate) profile: Option<Profile>,
}

fn fx(name: &'static str, der: Vec<u8>) -> Fixture {
    Fixture {
        name,
        der,
        profile: None,
    }
}

fn at(p: &mut CertificateParams, from: OffsetDateTime, days: i64) {
    p.not_before = from;
    p.not_after = from + Duration::days(days);
}

fn with(mut p: CertificateParams, edit: impl FnOnce(&mut CertificateParams)) -> CertificateParams {
    edit(&mut p);
    p
}

fn server(edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    issue(&with(server_params(), edit))
}

fn client(edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    issue(&with(client_params(), edit))
}

fn intermediate(edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    issue(&with(intermediate_params(), edit))
}

fn ocsp(edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    issue(&with(ocsp_params(), edit))
}

/// A server certificate whose SAN is exactly these DNS names (CN the first).
fn server_dns(names: &[&str]) -> Vec<u8> {
    server(|p| {
        p.distinguished_name.push(DnType::CommonName, names[0]);
        p.subject_alt_names = names
            .iter()
            .map(|n| SanType::DnsName((*n).try_into().unwrap()))
            .collect();
    })
}

/// A certificate with a custom SAN (GeneralNames content), rcgen's own SAN removed.
fn with_raw_san(
    params: CertificateParams,
    critical: bool,
    names: &[Vec<u8>],
    empty_subject: bool,
) -> Vec<u8> {
    let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
    issue(&with(params, |p| {
        p.subject_alt_names.clear();
        if empty_subject {
            p.distinguished_name = rcgen::DistinguishedName::new();
        }
        p.custom_extensions
            .push(custom("2.5.29.17", critical, seq(&refs)));
    }))
}

fn set_critical(der: &[u8], oid_text: &str, critical: bool) -> Vec<u8> {
    let target = oid(oid_text);
    patch_tbs(der, |tbs| {
        for e in extensions(tbs).iter_mut() {
            let fields = e.children();
            if fields[0].encode() != target {
                continue;
            }
            let value = fields.last().unwrap().clone();
            let mut new = vec![fields[0].clone()];
            if critical {
                new.push(Node::Prim(0x01, vec![0xff]));
            }
            new.push(value);
            *fields = new;
        }
    })
}

fn rsa_server(exponent: &[u8], edit_modulus: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut modulus = rsa_modulus().to_vec();
    edit_modulus(&mut modulus);
    with_spki(
        &issue(&server_params()),
        &rsa_spki(&modulus, exponent, true),
    )
}

fn csr_patched(edit: impl FnOnce(&mut Node)) -> Vec<u8> {
    let key = p256();
    let der = request_params()
        .serialize_request(&key)
        .unwrap()
        .der()
        .to_vec();
    patch_signed(&der, &key, edit)
}

fn ed25519_cert() -> Vec<u8> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    issue_with(&server_params(), &key)
}

/// Certificates and requests that pass every lint that applies to them, public trust
/// included.
pub(crate) fn clean() -> Vec<Fixture> {
    let mut no_subject = client_params();
    no_subject.distinguished_name = rcgen::DistinguishedName::new();
    vec![
        fx("server", issue(&server_params())),
        fx(
            "server issued in 2029 for 40 days",
            server(|p| at(p, datetime!(2029-06-01 00:00 UTC), 40)),
        ),
        fx("server with an RSA key", rsa_server(&[1, 0, 1], |_| {})),
        fx(
            "server signed with RSA",
            with_signature_algorithm(&issue(&server_params()), "300d06092a864886f70d01010b0500"),
        ),
        fx("client", issue(&client_params())),
        fx(
            "client with keyAgreement and encipherOnly",
            client(|p| {
                p.key_usages = vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::KeyAgreement,
                    KeyUsagePurpose::EncipherOnly,
                ]
            }),
        ),
        fx(
            "client with an empty subject and a critical SAN",
            with_raw_san(
                client_params(),
                true,
                &[tlv(0x81, b"alice@example.com")],
                true,
            ),
        ),
        fx(
            "client with every subject attribute",
            client(|p| {
                for (ty, value) in [
                    (DnType::OrganizationalUnitName, "Engineering"),
                    (DnType::LocalityName, "Amsterdam"),
                    (DnType::StateOrProvinceName, "Noord-Holland"),
                    (DnType::CustomDnType(vec![2, 5, 4, 5]), "E-1234"),
                    (
                        DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
                        "alice@example.com",
                    ),
                ] {
                    p.distinguished_name.push(ty, value);
                }
            }),
        ),
        fx("OCSP responder", issue(&ocsp_params())),
        fx("root CA", ca().der.clone()),
        fx("intermediate CA", issue(&intermediate_params())),
        fx("request", request(&request_params())),
    ]
}

/// For each lint, a certificate or request that breaks it.
pub(crate) fn failing() -> Vec<(&'static str, Fixture)> {
    let mut cases: Vec<(&'static str, Fixture)> = Vec::new();
    let mut add = |code: &'static str, der: Vec<u8>| cases.push((code, fx(code, der)));
    let s = issue(&server_params());

    // RFC 5280 structure
    add(
        "e_cert_extensions_version_not_3",
        patch_tbs(&s, |t| {
            *t.child(VERSION) = Node::Cons(0xa0, vec![Node::Prim(2, vec![1])])
        }),
    );
    add(
        "e_serial_number_negative",
        patch_tbs(&s, |t| *t.child(SERIAL) = Node::Prim(2, vec![0x80, 1, 2])),
    );
    add(
        "e_serial_number_zero",
        patch_tbs(&s, |t| *t.child(SERIAL) = Node::Prim(2, vec![0])),
    );
    add(
        "e_serial_number_longer_than_20_octets",
        patch_tbs(&s, |t| *t.child(SERIAL) = Node::Prim(2, vec![1; 21])),
    );
    add(
        "e_signature_algorithm_mismatch",
        patch_tbs(&s, |t| {
            *t.child(SIGNATURE) = Node::parse(&hex("300a06082a8648ce3d040303"))
        }),
    );
    add(
        "e_issuer_dn_empty",
        patch_tbs(&s, |t| *t.child(ISSUER) = Node::Cons(0x30, vec![])),
    );
    add(
        "e_validity_time_wrong_type",
        with_time(&s, 0, 0x18, "20260601000000Z"),
    );
    add(
        "e_utc_time_not_yymmddhhmmssz",
        with_time(&s, 1, 0x17, "2608300000Z"),
    );
    add(
        "e_generalized_time_not_yyyymmddhhmmssz",
        with_time(&s, 1, 0x18, "20260830000000.5Z"),
    );
    add(
        "e_validity_not_after_before_not_before",
        server(|p| p.not_after = datetime!(2026-05-01 00:00 UTC)),
    );
    add(
        "e_cert_unique_identifier_present",
        patch_tbs(&s, |t| {
            t.children().insert(SPKI + 1, Node::Prim(0x82, vec![0, 1]))
        }),
    );
    add(
        "e_subject_empty_without_san",
        client(|p| {
            p.distinguished_name = rcgen::DistinguishedName::new();
            p.subject_alt_names.clear();
        }),
    );
    add(
        "e_authority_key_identifier_missing",
        server(|p| p.use_authority_key_identifier_extension = false),
    );
    add(
        "e_authority_key_identifier_no_key_identifier",
        server(|p| {
            p.use_authority_key_identifier_extension = false;
            p.custom_extensions
                .push(custom("2.5.29.35", false, hex("3003820101")));
        }),
    );
    add(
        "e_subject_key_identifier_missing_ca",
        remove_extension(&issue(&intermediate_params()), "2.5.29.14"),
    );
    add(
        "w_subject_key_identifier_missing_leaf",
        remove_extension(&s, "2.5.29.14"),
    );

    // CA/B BR validity
    for (code, from, days) in [
        (
            "e_server_validity_over_1185_days",
            datetime!(2016-01-01 00:00 UTC),
            1247,
        ),
        (
            "e_server_validity_over_825_days",
            datetime!(2019-01-01 00:00 UTC),
            900,
        ),
        (
            "e_server_validity_over_398_days",
            datetime!(2021-01-01 00:00 UTC),
            400,
        ),
        (
            "e_server_validity_over_200_days",
            datetime!(2026-06-01 00:00 UTC),
            201,
        ),
        (
            "e_server_validity_over_100_days",
            datetime!(2027-06-01 00:00 UTC),
            101,
        ),
        (
            "e_server_validity_over_47_days",
            datetime!(2029-06-01 00:00 UTC),
            48,
        ),
    ] {
        add(code, server(|p| at(p, from, days)));
    }

    // RFC 5280 extensions
    add(
        "e_ext_duplicate",
        server(|p| {
            p.custom_extensions.push(custom(
                "2.5.29.37",
                false,
                seq(&[&oid("1.3.6.1.5.5.7.3.1")]),
            ))
        }),
    );
    add(
        "e_ext_malformed",
        client(|p| {
            p.key_usages.clear();
            p.custom_extensions
                .push(custom("2.5.29.15", true, vec![0x04, 0x00]));
        }),
    );
    add(
        "w_ext_unknown_critical",
        client(|p| {
            p.custom_extensions
                .push(custom("1.3.6.1.4.1.99999.1", true, vec![5, 0]))
        }),
    );
    add(
        "e_ext_san_not_critical_without_subject",
        with_raw_san(
            client_params(),
            false,
            &[tlv(0x81, b"alice@example.com")],
            true,
        ),
    );
    add(
        "w_ext_san_critical_with_subject",
        with_raw_san(
            client_params(),
            true,
            &[tlv(0x81, b"alice@example.com")],
            false,
        ),
    );
    add(
        "e_ext_san_empty",
        with_raw_san(client_params(), false, &[], false),
    );
    add(
        "e_ext_subject_key_identifier_critical",
        set_critical(&s, "2.5.29.14", true),
    );
    add(
        "e_ext_authority_key_identifier_critical",
        set_critical(&s, "2.5.29.35", true),
    );
    add(
        "e_ext_authority_info_access_critical",
        set_critical(&s, "1.3.6.1.5.5.7.1.1", true),
    );
    add(
        "w_ext_crl_distribution_points_critical",
        set_critical(&s, "2.5.29.31", true),
    );
    add(
        "e_ext_basic_constraints_not_critical_ca",
        set_critical(&issue(&intermediate_params()), "2.5.29.19", false),
    );
    add(
        "e_ca_true_without_key_cert_sign",
        intermediate(|p| p.key_usages = vec![KeyUsagePurpose::DigitalSignature]),
    );
    add(
        "e_key_cert_sign_without_ca",
        client(|p| p.key_usages.push(KeyUsagePurpose::KeyCertSign)),
    );
    add(
        "e_path_len_constraint_improperly_included",
        client(|p| {
            p.is_ca = IsCa::NoCa;
            p.custom_extensions
                .push(custom("2.5.29.19", true, hex("3003020100")));
        }),
    );
    add(
        "e_ext_key_usage_empty",
        client(|p| {
            p.key_usages.clear();
            p.custom_extensions
                .push(custom("2.5.29.15", true, vec![0x03, 0x01, 0x00]));
        }),
    );
    add(
        "w_ext_key_usage_not_critical",
        set_critical(&s, "2.5.29.15", false),
    );
    add(
        "e_ca_key_usage_missing",
        intermediate(|p| p.key_usages.clear()),
    );
    add(
        "w_key_usage_encipher_decipher_only_without_key_agreement",
        client(|p| p.key_usages.push(KeyUsagePurpose::EncipherOnly)),
    );
    add(
        "e_ext_extended_key_usage_empty",
        client(|p| {
            p.extended_key_usages.clear();
            p.custom_extensions
                .push(custom("2.5.29.37", false, vec![0x30, 0x00]));
        }),
    );
    let nc = seq(&[&tlv(0xa0, &seq(&[&tlv(0x82, b"example.com")]))]);
    add(
        "e_ext_name_constraints_not_critical",
        intermediate(|p| {
            p.name_constraints = None;
            p.custom_extensions
                .push(custom("2.5.29.30", false, nc.clone()));
        }),
    );
    add(
        "e_ext_name_constraints_not_in_ca",
        server(|p| {
            p.custom_extensions
                .push(custom("2.5.29.30", true, nc.clone()))
        }),
    );
    add(
        "e_ext_name_constraints_empty",
        intermediate(|p| {
            p.name_constraints = None;
            p.custom_extensions
                .push(custom("2.5.29.30", true, vec![0x30, 0x00]));
        }),
    );
    add(
        "e_ext_policy_constraints_not_critical",
        intermediate(|p| {
            p.custom_extensions
                .retain(|e| e.oid_components().collect::<Vec<_>>() != [2, 5, 29, 36]);
            p.custom_extensions
                .push(custom("2.5.29.36", false, hex("3003800100")));
        }),
    );
    add(
        "e_ext_inhibit_any_policy_not_critical",
        intermediate(|p| {
            p.custom_extensions
                .retain(|e| e.oid_components().collect::<Vec<_>>() != [2, 5, 29, 54]);
            p.custom_extensions
                .push(custom("2.5.29.54", false, hex("020100")));
        }),
    );
    add(
        "e_ext_cert_policy_duplicate",
        server(|p| {
            p.custom_extensions[1] = custom(
                "2.5.29.32",
                false,
                policies(&["2.23.140.1.2.1", "2.23.140.1.2.1"], 0x0c),
            )
        }),
    );

    // RFC 5280 names
    let dns = |names: &[&[u8]]| -> Vec<u8> {
        let entries: Vec<Vec<u8>> = names.iter().map(|n| tlv(0x82, n)).collect();
        with_raw_san(server_params(), false, &entries, false)
    };
    add("e_san_dns_name_empty", dns(&[b" ", b"www.example.com"]));
    add(
        "e_san_dns_name_bad_syntax",
        dns(&[b"www..example.com", b"www.example.com"]),
    );
    add(
        "e_san_ip_address_bad_length",
        with_raw_san(
            server_params(),
            false,
            &[tlv(0x82, b"www.example.com"), tlv(0x87, &[1, 2, 3])],
            false,
        ),
    );
    add(
        "e_san_rfc822_name_bad_syntax",
        with_raw_san(
            client_params(),
            false,
            &[tlv(0x81, b"alice at example.com")],
            false,
        ),
    );
    add(
        "e_san_uri_not_absolute",
        with_raw_san(client_params(), false, &[tlv(0x86, b"/users/alice")], false),
    );
    add(
        "e_san_entry_bad_encoding",
        dns(&[&[0xff, 0x61], b"www.example.com"]),
    );
    add(
        "e_subject_attribute_bad_encoding",
        patch_tbs(&issue(&client_params()), |t| {
            let attribute = seq(&[&oid("2.5.4.3"), &tlv(0x0c, &[0xff, 0xfe])]);
            *t.child(SUBJECT) = Node::parse(&seq(&[&tlv(0x31, &attribute)]));
        }),
    );
    let long = |n: usize| "a".repeat(n);
    for (code, ty, n) in [
        ("e_subject_common_name_too_long", DnType::CommonName, 65),
        (
            "e_subject_organization_name_too_long",
            DnType::OrganizationName,
            65,
        ),
        (
            "e_subject_organizational_unit_name_too_long",
            DnType::OrganizationalUnitName,
            65,
        ),
        (
            "e_subject_locality_name_too_long",
            DnType::LocalityName,
            129,
        ),
        (
            "e_subject_state_name_too_long",
            DnType::StateOrProvinceName,
            129,
        ),
        (
            "e_subject_serial_number_too_long",
            DnType::CustomDnType(vec![2, 5, 4, 5]),
            65,
        ),
        (
            "e_subject_email_address_too_long",
            DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
            256,
        ),
        ("e_subject_country_not_two_letters", DnType::CountryName, 3),
    ] {
        add(code, client(|p| p.distinguished_name.push(ty, long(n))));
    }

    // RFC 6818, RFC 8813, RFC 5480
    add(
        "e_ext_cert_policy_explicit_text_ia5_string",
        server(|p| {
            p.custom_extensions[1] = custom("2.5.29.32", false, policies(&["2.23.140.1.2.1"], 0x16))
        }),
    );
    add(
        "w_ext_cert_policy_explicit_text_not_utf8",
        server(|p| {
            p.custom_extensions[1] = custom("2.5.29.32", false, policies(&["2.23.140.1.2.1"], 0x1a))
        }),
    );
    add(
        "e_ec_key_usage_encipherment",
        client(|p| p.key_usages.push(KeyUsagePurpose::KeyEncipherment)),
    );
    add(
        "e_ec_key_parameters_not_named_curve",
        with_spki(
            &issue(&client_params()),
            &openssl_spki(&[
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-pkeyopt",
                "ec_param_enc:explicit",
            ]),
        ),
    );

    // Purpose consistency
    add(
        "e_server_auth_key_usage_inconsistent",
        server(|p| p.key_usages = vec![KeyUsagePurpose::ContentCommitment]),
    );
    add(
        "e_client_auth_key_usage_inconsistent",
        client(|p| p.key_usages = vec![KeyUsagePurpose::ContentCommitment]),
    );
    add(
        "e_ocsp_signing_key_usage_inconsistent",
        ocsp(|p| p.key_usages = vec![KeyUsagePurpose::KeyAgreement]),
    );
    add(
        "e_key_usage_and_eku_disjoint",
        client(|p| p.key_usages = vec![KeyUsagePurpose::CrlSign]),
    );
    add(
        "w_leaf_eku_any",
        client(|p| p.extended_key_usages.push(ExtendedKeyUsagePurpose::Any)),
    );
    add(
        "w_leaf_eku_missing",
        client(|p| p.extended_key_usages.clear()),
    );
    add(
        "w_leaf_server_and_client_auth",
        server(|p| {
            p.extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth)
        }),
    );
    add(
        "e_server_without_dns_or_ip_san",
        server(|p| p.subject_alt_names.clear()),
    );
    add(
        "e_server_common_name_not_in_san",
        server(|p| {
            p.distinguished_name
                .push(DnType::CommonName, "other.example.com")
        }),
    );
    add(
        "n_client_dns_san",
        client(|p| {
            p.subject_alt_names
                .push(SanType::DnsName("laptop.example.com".try_into().unwrap()))
        }),
    );
    add(
        "e_leaf_ca_true",
        server(|p| {
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages.push(KeyUsagePurpose::KeyCertSign);
        }),
    );
    add(
        "w_ocsp_signer_without_nocheck",
        ocsp(|p| p.custom_extensions.clear()),
    );
    add(
        "w_ocsp_signer_with_other_eku",
        ocsp(|p| {
            p.extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth)
        }),
    );
    add(
        "w_server_rsa_key_usage_without_digital_signature",
        with_spki(
            &server(|p| p.key_usages = vec![KeyUsagePurpose::KeyEncipherment]),
            &rsa_spki(rsa_modulus(), &[1, 0, 1], true),
        ),
    );
    add(
        "n_leaf_self_signed",
        client_params().self_signed(&p256()).unwrap().der().to_vec(),
    );

    // CA/B BR names
    add("e_server_dns_name_internal", server_dns(&["db.internal"]));
    add(
        "e_server_ip_address_reserved",
        server(|p| {
            p.subject_alt_names
                .push(SanType::IpAddress("10.0.0.1".parse().unwrap()))
        }),
    );
    add(
        "e_server_wildcard_not_whole_leftmost_label",
        server_dns(&["www.example.com", "w*.example.com"]),
    );
    add(
        "e_server_wildcard_on_public_suffix",
        server_dns(&["www.example.com", "*.co.uk"]),
    );
    add(
        "e_server_dns_name_underscore",
        server_dns(&["www.example.com", "my_host.example.com"]),
    );
    add(
        "e_server_san_type_not_allowed",
        server(|p| {
            p.subject_alt_names
                .push(SanType::Rfc822Name("ops@example.com".try_into().unwrap()))
        }),
    );

    // CA/B BR extensions
    let without = |oid_text: &str| remove_extension(&issue(&server_params()), oid_text);
    add(
        "e_server_certificate_policies_missing",
        without("2.5.29.32"),
    );
    add(
        "e_server_reserved_policy_missing",
        server(|p| {
            p.custom_extensions[1] =
                custom("2.5.29.32", false, policies(&["1.3.6.1.4.1.99999.7"], 0x0c))
        }),
    );
    add(
        "e_server_aia_without_ocsp_or_ca_issuers",
        without("1.3.6.1.5.5.7.1.1"),
    );
    add(
        "e_aia_location_not_http",
        server(|p| {
            p.custom_extensions[0] = custom(
                "1.3.6.1.5.5.7.1.1",
                false,
                aia("https://ocsp.example.com", "http://ca.example.com/ca.crt"),
            )
        }),
    );
    add(
        "e_server_revocation_information_missing",
        server(|p| {
            p.crl_distribution_points.clear();
            p.custom_extensions[0] = custom(
                "1.3.6.1.5.5.7.1.1",
                false,
                aia_ca_issuers_only("http://ca.example.com/ca.crt"),
            )
        }),
    );
    add(
        "n_leaf_revocation_information_missing",
        client(|p| p.crl_distribution_points.clear()),
    );
    add(
        "e_crl_distribution_point_not_http",
        server(|p| {
            p.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec!["ldap://ldap.example.com/cn=CA?certificateRevocationList".to_owned()],
            }]
        }),
    );
    cases.push((
        "e_server_eku_without_server_auth",
        Fixture {
            name: "e_server_eku_without_server_auth",
            der: server(|p| p.extended_key_usages.clear()),
            profile: Some(Profile::Server),
        },
    ));
    let mut add = |code: &'static str, der: Vec<u8>| cases.push((code, fx(code, der)));
    add(
        "e_server_eku_any",
        server(|p| p.extended_key_usages.push(ExtendedKeyUsagePurpose::Any)),
    );
    add(
        "e_server_eku_prohibited_purpose",
        server(|p| {
            p.extended_key_usages
                .push(ExtendedKeyUsagePurpose::CodeSigning)
        }),
    );
    add(
        "e_ca_key_usage_crl_sign_missing",
        intermediate(|p| p.key_usages = vec![KeyUsagePurpose::KeyCertSign]),
    );
    add(
        "w_server_sct_list_missing",
        without("1.3.6.1.4.1.11129.2.4.2"),
    );

    // Keys
    let cert = issue(&server_params());
    add(
        "e_rsa_modulus_under_2048_bits",
        with_spki(
            &cert,
            &openssl_spki(&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]),
        ),
    );
    add(
        "e_rsa_modulus_not_multiple_of_8",
        with_spki(
            &cert,
            &openssl_spki(&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2044"]),
        ),
    );
    add(
        "e_rsa_public_exponent_not_odd",
        rsa_server(&[1, 0, 0], |_| {}),
    );
    add("e_rsa_public_exponent_under_3", rsa_server(&[1], |_| {}));
    add(
        "w_rsa_public_exponent_not_in_range",
        rsa_server(&[3], |_| {}),
    );
    add(
        "w_rsa_modulus_small_factor",
        rsa_server(&[1, 0, 1], |m| {
            if let Some(last) = m.last_mut() {
                *last &= 0xfe;
            }
        }),
    );
    add(
        "e_ec_curve_not_allowed",
        with_spki(
            &cert,
            &openssl_spki(&[
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:secp256k1",
            ]),
        ),
    );
    add("e_ec_public_key_not_on_curve", {
        let spki = openssl_spki(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
        let mut bad = spki.clone();
        if let Some(last) = bad.last_mut() {
            *last ^= 0x01;
        }
        with_spki(&cert, &bad)
    });
    add(
        "e_rsa_key_parameters_not_null",
        with_spki(&cert, &rsa_spki(rsa_modulus(), &[1, 0, 1], false)),
    );
    add(
        "e_rsa_public_key_malformed",
        with_spki(
            &cert,
            &seq(&[
                &seq(&[&oid("1.2.840.113549.1.1.1"), &[0x05, 0x00]]),
                &tlv(0x03, &[0x00, 0x30, 0x00]),
            ]),
        ),
    );
    add("e_key_algorithm_not_allowed", ed25519_cert());

    // Signature algorithms
    for (code, algorithm) in [
        ("e_signature_algorithm_sha1", "300906072a8648ce3d0401"),
        (
            "e_signature_algorithm_md5_or_md2",
            "300d06092a864886f70d0101040500",
        ),
        (
            "e_signature_algorithm_not_allowed",
            "300a06082a8648ce3d040301",
        ),
        (
            "e_ecdsa_signature_parameters_present",
            "300c06082a8648ce3d0403020500",
        ),
        (
            "e_rsa_signature_parameters_not_null",
            "300b06092a864886f70d01010b",
        ),
        (
            "e_mozilla_signature_algorithm_encoding",
            "300c06082a8648ce3d0403020500",
        ),
    ] {
        add(code, with_signature_algorithm(&cert, algorithm));
    }

    // Mozilla
    add("e_mozilla_spki_algorithm_encoding", ed25519_cert());
    add(
        "e_mozilla_intermediate_eku_missing",
        intermediate(|p| p.extended_key_usages.clear()),
    );
    add(
        "e_mozilla_intermediate_eku_any",
        intermediate(|p| p.extended_key_usages.push(ExtendedKeyUsagePurpose::Any)),
    );
    add(
        "e_mozilla_intermediate_server_and_email_eku",
        intermediate(|p| {
            p.extended_key_usages
                .push(ExtendedKeyUsagePurpose::EmailProtection)
        }),
    );

    // Requests
    add(
        "e_csr_version_not_1",
        csr_patched(|csr| *csr.child(0).child(0) = Node::Prim(2, vec![1])),
    );
    add("e_csr_signature_invalid", {
        let der = request(&request_params());
        let mut node = Node::parse(&der);
        if let Node::Prim(_, bits) = node.child(2)
            && let Some(last) = bits.last_mut()
        {
            *last ^= 0x01;
        }
        node.encode()
    });
    add(
        "w_csr_names_nothing",
        request(&with(request_params(), |p| {
            p.distinguished_name = rcgen::DistinguishedName::new();
            p.subject_alt_names.clear();
        })),
    );
    add(
        "n_csr_requests_ca",
        request(&with(request_params(), |p| {
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained)
        })),
    );
    cases
}
