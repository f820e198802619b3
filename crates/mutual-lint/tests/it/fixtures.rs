//! Certificates generated for the lint tests: a test CA (rcgen, P-256, fixed serials and
//! dates), clean server/client/CA/OCSP certificates and requests that pass every lint, and
//! patches for the defects rcgen will not produce.

use std::sync::OnceLock;

use mutual_lint::{Options, Profile, Report, TrustMode};
use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
    SigningKey,
};
use time::macros::datetime;

use crate::der::{Node, hex, oid, seq, tlv};

pub(crate) struct TestCa {
    pub(crate) key: KeyPair,
    pub(crate) params: CertificateParams,
    pub(crate) der: Vec<u8>,
}

fn dotted(text: &str) -> Vec<u64> {
    text.split('.').map(|a| a.parse().unwrap()).collect()
}

pub(crate) fn custom(oid_text: &str, critical: bool, content: Vec<u8>) -> CustomExtension {
    let mut ext = CustomExtension::from_oid_content(&dotted(oid_text), content);
    ext.set_criticality(critical);
    ext
}

/// The issuing CA every fixture is signed by.
pub(crate) fn ca() -> &'static TestCa {
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = ca_params();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        TestCa { key, params, der }
    })
}

fn dn(cn: &str) -> rcgen::DistinguishedName {
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(DnType::CountryName, "NL");
    dn.push(DnType::OrganizationName, "Lint Test");
    dn.push(DnType::CommonName, cn);
    dn
}

fn base(cn: &str, serial: u8) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    p.serial_number = Some(SerialNumber::from_slice(&[0x10, serial, 0x5a, 0x3c]));
    p.not_before = datetime!(2026-06-01 00:00 UTC);
    p.not_after = datetime!(2026-08-30 00:00 UTC);
    p.use_authority_key_identifier_extension = true;
    p.is_ca = IsCa::ExplicitNoCa;
    p
}

/// AIA with an OCSP responder and the issuer's certificate, both over http.
pub(crate) fn aia(ocsp: &str, ca_issuers: &str) -> Vec<u8> {
    seq(&[
        &seq(&[&oid("1.3.6.1.5.5.7.48.1"), &tlv(0x86, ocsp.as_bytes())]),
        &seq(&[
            &oid("1.3.6.1.5.5.7.48.2"),
            &tlv(0x86, ca_issuers.as_bytes()),
        ]),
    ])
}

/// AIA with the issuer's certificate only: no OCSP responder.
pub(crate) fn aia_ca_issuers_only(ca_issuers: &str) -> Vec<u8> {
    seq(&[&seq(&[
        &oid("1.3.6.1.5.5.7.48.2"),
        &tlv(0x86, ca_issuers.as_bytes()),
    ])])
}

/// certificatePolicies: each policy with a user notice whose explicitText has `text_tag`.
pub(crate) fn policies(oids: &[&str], text_tag: u8) -> Vec<u8> {
    let notice = seq(&[
        &oid("1.3.6.1.5.5.7.2.2"),
        &seq(&[&tlv(text_tag, b"Lint test policy")]),
    ]);
    let items: Vec<Vec<u8>> = oids
        .iter()
        .map(|o| seq(&[&oid(o), &seq(&[&notice])]))
        .collect();
    let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
    seq(&refs)
}

/// A SignedCertificateTimestampList (RFC 6962 §3.3) with one SCT, in its OCTET STRING.
pub(crate) fn sct_list() -> Vec<u8> {
    let mut sct = vec![0u8];
    sct.extend([0x42; 32]);
    sct.extend(1_780_000_000_000u64.to_be_bytes());
    sct.extend([0, 0, 4, 3, 0, 4, 1, 2, 3, 4]);
    let mut list = (sct.len() as u16).to_be_bytes().to_vec();
    list.extend(&sct);
    let mut outer = (list.len() as u16).to_be_bytes().to_vec();
    outer.extend(list);
    tlv(0x04, &outer)
}

/// A server certificate that passes every lint, public trust included.
pub(crate) fn server_params() -> CertificateParams {
    let mut p = base("www.example.com", 1);
    p.subject_alt_names = vec![
        SanType::DnsName("www.example.com".try_into().unwrap()),
        SanType::DnsName("*.api.example.com".try_into().unwrap()),
        SanType::IpAddress("93.184.216.34".parse().unwrap()),
    ];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec!["http://crl.example.com/ca.crl".to_owned()],
    }];
    p.custom_extensions = vec![
        custom(
            "1.3.6.1.5.5.7.1.1",
            false,
            aia("http://ocsp.example.com", "http://ca.example.com/ca.crt"),
        ),
        custom("2.5.29.32", false, policies(&["2.23.140.1.2.1"], 0x0c)),
        custom("1.3.6.1.4.1.11129.2.4.2", false, sct_list()),
    ];
    p
}

/// A client certificate that passes every lint: it says where its CRL is, so relying
/// parties can check revocation.
pub(crate) fn client_params() -> CertificateParams {
    let mut p = base("alice", 2);
    p.subject_alt_names = vec![
        SanType::Rfc822Name("alice@example.com".try_into().unwrap()),
        SanType::URI("spiffe://example.com/user/alice".try_into().unwrap()),
    ];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec!["http://crl.example.com/client-ca.crl".to_owned()],
    }];
    p
}

/// An OCSP responder certificate that passes every lint.
pub(crate) fn ocsp_params() -> CertificateParams {
    let mut p = base("OCSP Responder", 3);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::OcspSigning];
    p.custom_extensions = vec![custom("1.3.6.1.5.5.7.48.1.5", false, vec![0x05, 0x00])];
    p
}

/// A CA certificate (the test CA's own parameters): passes every lint.
pub(crate) fn ca_params() -> CertificateParams {
    let mut p = base("Lint Test CA", 4);
    p.use_authority_key_identifier_extension = false;
    p.not_before = datetime!(2026-01-01 00:00 UTC);
    // Past 2049: notAfter is a GeneralizedTime, which the time-encoding lints must pass.
    p.not_after = datetime!(2051-01-01 00:00 UTC);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p
}

/// An intermediate CA issued by the test CA.
pub(crate) fn intermediate_params() -> CertificateParams {
    let mut p = ca_params();
    p.distinguished_name = dn("Lint Test Intermediate");
    p.serial_number = Some(SerialNumber::from_slice(&[0x10, 5, 0x5a, 0x3c]));
    p.use_authority_key_identifier_extension = true;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.name_constraints = Some(rcgen::NameConstraints {
        permitted_subtrees: vec![rcgen::GeneralSubtree::DnsName("example.com".to_owned())],
        excluded_subtrees: vec![],
    });
    p.custom_extensions = vec![
        custom("2.5.29.36", true, hex("3003800100")),
        custom("2.5.29.54", true, hex("020100")),
    ];
    p
}

pub(crate) fn p256() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap()
}

/// Issued by the test CA with a fresh P-256 key.
pub(crate) fn issue(params: &CertificateParams) -> Vec<u8> {
    issue_with(params, &p256())
}

pub(crate) fn issue_with(params: &CertificateParams, key: &KeyPair) -> Vec<u8> {
    let ca = ca();
    let issuer = Issuer::from_params(&ca.params, &ca.key);
    params.signed_by(key, &issuer).unwrap().der().to_vec()
}

/// A CSR for `params`, signed by a fresh P-256 key.
pub(crate) fn request(params: &CertificateParams) -> Vec<u8> {
    params.serialize_request(&p256()).unwrap().der().to_vec()
}

/// A request that passes every lint: a server name, its SAN, serverAuth.
pub(crate) fn request_params() -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn("www.example.com");
    p.subject_alt_names = vec![SanType::DnsName("www.example.com".try_into().unwrap())];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p
}

// --- DER patching: certificate = SEQ { tbs, signatureAlgorithm, signature } -----------

/// The TBSCertificate fields, by index, for a v3 certificate.
pub(crate) const VERSION: usize = 0;
pub(crate) const SERIAL: usize = 1;
pub(crate) const SIGNATURE: usize = 2;
pub(crate) const ISSUER: usize = 3;
pub(crate) const VALIDITY: usize = 4;
pub(crate) const SUBJECT: usize = 5;
pub(crate) const SPKI: usize = 6;

/// Edits the certificate's tree (`cert.child(0)` is the TBS), then signs the TBS again
/// with `key`.
pub(crate) fn patch_signed(der: &[u8], key: &KeyPair, edit: impl FnOnce(&mut Node)) -> Vec<u8> {
    let mut cert = Node::parse(der);
    edit(&mut cert);
    let tbs = cert.child(0).encode();
    let signature = key.sign(&tbs).unwrap();
    let mut bits = vec![0u8];
    bits.extend(signature);
    *cert.child(2) = Node::Prim(0x03, bits);
    cert.encode()
}

/// Edits a certificate issued by the test CA and signs it again with the CA's key.
pub(crate) fn patch(der: &[u8], edit: impl FnOnce(&mut Node)) -> Vec<u8> {
    patch_signed(der, &ca().key, edit)
}

/// Edits the TBSCertificate of a certificate issued by the test CA.
pub(crate) fn patch_tbs(der: &[u8], edit: impl FnOnce(&mut Node)) -> Vec<u8> {
    patch(der, |cert| edit(cert.child(0)))
}

/// The extensions of a TBSCertificate: `[3] { SEQUENCE { Extension... } }`.
pub(crate) fn extensions(tbs: &mut Node) -> &mut Vec<Node> {
    let list = tbs
        .children()
        .iter_mut()
        .find(|n| matches!(n, Node::Cons(0xa3, _)))
        .expect("extensions");
    list.child(0).children()
}

fn extension_oid(node: &Node) -> Vec<u8> {
    match node {
        Node::Cons(_, fields) => fields[0].encode(),
        Node::Prim(..) => Vec::new(),
    }
}

/// Removes every extension with this OID.
pub(crate) fn remove_extension(der: &[u8], oid_text: &str) -> Vec<u8> {
    let target = oid(oid_text);
    patch_tbs(der, |tbs| {
        extensions(tbs).retain(|e| extension_oid(e) != target)
    })
}

/// Replaces the subjectPublicKeyInfo with another (DER).
pub(crate) fn with_spki(der: &[u8], spki: &[u8]) -> Vec<u8> {
    patch_tbs(der, |tbs| *tbs.child(SPKI) = Node::parse(spki))
}

/// Replaces both signature AlgorithmIdentifiers (outer and inner).
pub(crate) fn with_signature_algorithm(der: &[u8], algorithm_hex: &str) -> Vec<u8> {
    let algorithm = Node::parse(&hex(algorithm_hex));
    patch(der, |cert| {
        *cert.child(0).child(SIGNATURE) = algorithm.clone();
        *cert.child(1) = algorithm;
    })
}

/// Replaces a validity time with `tag` and `text`.
pub(crate) fn with_time(der: &[u8], index: usize, tag: u8, text: &str) -> Vec<u8> {
    patch_tbs(der, |tbs| {
        *tbs.child(VALIDITY).child(index) = Node::Prim(tag, text.as_bytes().to_vec())
    })
}

// --- keys from the openssl CLI ----------------------------------------------------------

/// The SubjectPublicKeyInfo (DER) of a key `openssl genpkey ARGS` makes.
pub(crate) fn openssl_spki(args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let spki = dir.path().join("k.der");
    let mut full = vec!["genpkey"];
    full.extend_from_slice(args);
    full.extend(["-out", key.to_str().unwrap()]);
    mutual_test::openssl(&full);
    mutual_test::openssl(&[
        "pkey",
        "-in",
        key.to_str().unwrap(),
        "-pubout",
        "-outform",
        "DER",
        "-out",
        spki.to_str().unwrap(),
    ]);
    std::fs::read(spki).unwrap()
}

/// An RSA SubjectPublicKeyInfo from modulus and exponent octets.
pub(crate) fn rsa_spki(modulus: &[u8], exponent: &[u8], params_null: bool) -> Vec<u8> {
    let int = |v: &[u8]| {
        let mut content = Vec::new();
        if v.first().is_some_and(|b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend_from_slice(v);
        tlv(0x02, &content)
    };
    let key = seq(&[&int(modulus), &int(exponent)]);
    let mut bits = vec![0u8];
    bits.extend(key);
    let algorithm = if params_null {
        seq(&[&oid("1.2.840.113549.1.1.1"), &[0x05, 0x00]])
    } else {
        seq(&[&oid("1.2.840.113549.1.1.1")])
    };
    seq(&[&algorithm, &tlv(0x03, &bits)])
}

/// A real 2048-bit RSA modulus (openssl), for SPKIs with a chosen exponent.
pub(crate) fn rsa_modulus() -> &'static [u8] {
    static MODULUS: OnceLock<Vec<u8>> = OnceLock::new();
    MODULUS.get_or_init(|| {
        let spki = openssl_spki(&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]);
        let mut node = Node::parse(&spki);
        let Node::Prim(_, bits) = node.child(1).clone() else {
            panic!("bit string")
        };
        let mut key = Node::parse(&bits[1..]);
        let Node::Prim(_, modulus) = key.child(0).clone() else {
            panic!("modulus")
        };
        modulus.into_iter().skip_while(|&b| b == 0).collect()
    })
}

// --- linting --------------------------------------------------------------------------

pub(crate) fn options(profile: Option<Profile>, trust: TrustMode) -> Options {
    Options {
        profile,
        trust,
        now: datetime!(2026-07-01 00:00 UTC),
    }
}

/// Lints the single certificate or request in `der`.
pub(crate) fn lint(der: &[u8], profile: Option<Profile>, trust: TrustMode) -> Report {
    let mut reports = mutual_lint::lint_bytes(der, &options(profile, trust))
        .unwrap_or_else(|e| panic!("lint failed: {e}"));
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}
