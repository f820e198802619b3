//! The cases: which files, which options, and what `mutual verify` and `openssl verify` say.

use std::path::PathBuf;

use super::tree::{self, Layout};
use super::{Case, LeafFormat, OcspCheck, OpensslExpectation, Purpose};

/// id-kp-emailProtection, the `--eku` the matrix uses (openssl can require it: `smimesign`).
pub(super) const EMAIL_PROTECTION: &str = "1.3.6.1.5.5.7.3.4";

const CN_ONLY: &str = "RFC 9525 §6.3 (and RFC 6125 §6.4.4 before it): a client must not \
     match the subject CN; mutual matches --host against the SAN only. openssl verify \
     -verify_hostname falls back to the CN when the certificate has no DNS SAN, and its CLI \
     has no option to turn that off.";
const NO_COMMON_PURPOSE: &str = "RFC 5280 §4.2.1.12: when key usage and extended key usage \
     have no purpose in common, \"the certificate MUST NOT be used for any purpose\" \
     (serverAuth needs digitalSignature, keyEncipherment or keyAgreement; the KU holds only \
     cRLSign). openssl's `-purpose any` checks neither extension.";

const CA_AS_LEAF: &str = "CA/Browser Forum Baseline Requirements §7.1.2.7.8: a subscriber \
     certificate's cA MUST be false (RFC 5280 §4.2.1.9 gives cA to keys that sign \
     certificates); webpki refuses a CA certificate as the end entity (CaUsedAsEndEntity). \
     openssl verify checks no basic constraints on the leaf, -x509_strict included.";

impl Case {
    /// A valid case: `leaf` (PEM, which openssl reads as is), nothing trusted yet.
    fn new(name: &'static str, about: &'static str, leaf: PathBuf) -> Case {
        Case {
            name,
            about,
            openssl_leaf: leaf.clone(),
            leaf,
            leaf_format: LeafFormat::Pem,
            password_file: None,
            trusted: Vec::new(),
            untrusted: Vec::new(),
            crls: Vec::new(),
            purpose: None,
            ekus: Vec::new(),
            host: None,
            max_depth: None,
            ocsp: false,
            expected_valid: true,
            expected_errors: Vec::new(),
            expected_warnings: Vec::new(),
            openssl: OpensslExpectation::Agrees,
            openssl_chain: None,
            ocsp_check: None,
        }
    }

    /// The leaf file is not a lone PEM certificate: `leaf` for mutual, the PEM certificate
    /// `openssl_leaf` and the PEM `chain` that came with it for openssl.
    fn packaged(
        mut self,
        format: LeafFormat,
        leaf: PathBuf,
        openssl_leaf: PathBuf,
        chain: Option<PathBuf>,
    ) -> Case {
        self.leaf_format = format;
        self.leaf = leaf;
        self.openssl_leaf = openssl_leaf;
        self.openssl_chain = chain;
        self
    }

    fn password_file(mut self, path: PathBuf) -> Case {
        self.password_file = Some(path);
        self
    }

    fn trust(mut self, paths: impl IntoIterator<Item = PathBuf>) -> Case {
        self.trusted = paths.into_iter().collect();
        self
    }

    fn untrusted(mut self, paths: impl IntoIterator<Item = PathBuf>) -> Case {
        self.untrusted = paths.into_iter().collect();
        self
    }

    fn crls(mut self, paths: impl IntoIterator<Item = PathBuf>) -> Case {
        self.crls = paths.into_iter().collect();
        self
    }

    fn purpose(mut self, purpose: Purpose) -> Case {
        self.purpose = Some(purpose);
        self
    }

    fn eku(mut self, oid: &str) -> Case {
        self.ekus.push(oid.to_owned());
        self
    }

    fn host(mut self, host: &str) -> Case {
        self.host = Some(host.to_owned());
        self
    }

    fn max_depth(mut self, depth: u32) -> Case {
        self.max_depth = Some(depth);
        self
    }

    /// `--ocsp`, for a leaf of the OCSP tree whose AIA names `url`.
    fn ocsp(mut self, layout: &Layout, url: String) -> Case {
        self.ocsp = true;
        self.ocsp_check = Some(OcspCheck {
            issuer: layout.cert("ocsp-int"),
            url,
            root: layout.cert("ocsp-root"),
        });
        self
    }

    fn error(mut self, code: &'static str) -> Case {
        self.expected_valid = false;
        self.expected_errors.push(code);
        self
    }

    fn warning(mut self, code: &'static str) -> Case {
        self.expected_warnings.push(code);
        self
    }

    fn differs(mut self, openssl_valid: bool, why: &'static str) -> Case {
        self.openssl = OpensslExpectation::Differs { openssl_valid, why };
        self
    }
}

/// Every case, valid ones first.
pub(super) fn all(layout: &Layout) -> Vec<Case> {
    let cert = |name: &str| layout.cert(name);
    let file = |relative: &str| layout.file(relative);
    // The usual chains: leaf, its intermediate untrusted, the root trusted.
    let ec = |name, about, leaf: &str| {
        Case::new(name, about, cert(leaf))
            .trust([cert("ec-root")])
            .untrusted([cert("ec-int")])
    };
    let under = |name, about, leaf: &str, intermediate: &str| {
        Case::new(name, about, cert(leaf))
            .trust([cert("ec-root")])
            .untrusted([cert(intermediate)])
    };
    let rsa = |name, about, leaf: &str| {
        Case::new(name, about, cert(leaf))
            .trust([cert("rsa-root")])
            .untrusted([cert("rsa-int")])
    };
    let ed = |name, about, leaf: &str| {
        Case::new(name, about, cert(leaf))
            .trust([cert("ed-root")])
            .untrusted([cert("ed-int")])
    };
    let two_intermediates = |name, about| {
        Case::new(name, about, cert("ec-server2"))
            .trust([cert("ec-root")])
            .untrusted([cert("ec-int2"), cert("ec-int")])
    };
    let ocsp = |name, about, leaf: &str, url: String| {
        Case::new(name, about, cert(leaf))
            .trust([cert("ocsp-root")])
            .untrusted([cert("ocsp-int")])
            .purpose(Purpose::Server)
            .ocsp(layout, url)
    };

    vec![
        // Valid.
        ec(
            "ec_server_valid",
            "ECDSA P-256 root, intermediate and serverAuth leaf, as a server",
            "ec-server",
        )
        .purpose(Purpose::Server),
        ec(
            "ec_client_valid",
            "ECDSA P-256 chain with a clientAuth leaf, as a client",
            "ec-client",
        )
        .purpose(Purpose::Client),
        ec(
            "ec_server_host_valid",
            "--host alone: purpose server, the name in the SAN",
            "ec-server",
        )
        .host("server.example.test"),
        rsa(
            "rsa_server_valid",
            "RSA-2048 chain with a serverAuth leaf, as a server",
            "rsa-server",
        )
        .purpose(Purpose::Server)
        .host("rsa.example.test"),
        rsa(
            "rsa_client_der_valid",
            "RSA-2048 chain, the clientAuth leaf given as DER",
            "rsa-client",
        )
        .packaged(
            LeafFormat::Der,
            file(tree::DER_LEAF),
            cert("rsa-client"),
            None,
        )
        .purpose(Purpose::Client),
        ed(
            "ed25519_server_valid",
            "Ed25519 chain with a serverAuth leaf, as a server",
            "ed-server",
        )
        .host("ed25519.example.test"),
        ed(
            "ed25519_client_valid",
            "Ed25519 chain with a clientAuth leaf, as a client",
            "ed-client",
        )
        .purpose(Purpose::Client),
        two_intermediates(
            "two_intermediates_valid",
            "root, two intermediates (two files), leaf",
        )
        .host("deep.example.test"),
        Case::new(
            "cross_signed_root_valid",
            "only the old root trusted; the intermediate's new root arrives cross-signed by it",
            cert("ec-under-new"),
        )
        .trust([cert("ec-root")])
        .untrusted([cert("ec-int-new"), cert("ec-root-cross")])
        .host("cross.example.test"),
        ec(
            "wildcard_valid",
            "*.example.test matches www.example.test",
            "ec-wildcard",
        )
        .host("www.example.test"),
        ec(
            "ipv4_san_valid",
            "--host 127.0.0.1 matches an IP SAN",
            "ec-ip",
        )
        .host("127.0.0.1"),
        ec("ipv6_san_valid", "--host ::1 matches an IP SAN", "ec-ip").host("::1"),
        ec(
            "no_eku_valid",
            "a leaf without EKU is acceptable as a server, with a warning",
            "ec-no-eku",
        )
        .purpose(Purpose::Server)
        .warning("no_eku"),
        ec(
            "any_eku_purpose_any_valid",
            "anyExtendedKeyUsage is enough for --purpose any",
            "ec-any-eku",
        )
        .purpose(Purpose::Any),
        Case::new(
            "leaf_with_chain_valid",
            "the leaf PEM carries its intermediate after it; nothing else untrusted",
            cert("ec-server"),
        )
        .packaged(
            LeafFormat::PemWithChain,
            file(tree::LEAF_WITH_CHAIN),
            cert("ec-server"),
            Some(cert("ec-int")),
        )
        .trust([cert("ec-root")])
        .host("server.example.test"),
        Case::new(
            "pkcs12_with_chain_valid",
            "a PKCS#12 holding the client leaf, its key and its intermediate",
            cert("ec-client"),
        )
        .packaged(
            LeafFormat::Pkcs12,
            file(tree::P12_WITH_CHAIN),
            cert("ec-client"),
            Some(cert("ec-int")),
        )
        .password_file(file(tree::P12_PASSWORD))
        .trust([cert("ec-root")])
        .purpose(Purpose::Client),
        rsa(
            "pkcs12_leaf_only_valid",
            "a PKCS#12 holding the RSA server leaf and its key only",
            "rsa-server",
        )
        .packaged(
            LeafFormat::Pkcs12,
            file(tree::P12_LEAF_ONLY),
            cert("rsa-server"),
            None,
        )
        .password_file(file(tree::P12_PASSWORD))
        .host("rsa.example.test"),
        Case::new(
            "chain_order_warning_valid",
            "one untrusted bundle: upper intermediate, an unrelated certificate, the issuer",
            cert("ec-server2"),
        )
        .trust([cert("ec-root")])
        .untrusted([file(tree::OUT_OF_ORDER_BUNDLE)])
        .host("deep.example.test")
        .warning("chain_order"),
        Case::new(
            "trust_directory_valid",
            "--trusted is a directory of three roots (named by subject hash for openssl)",
            cert("ed-server"),
        )
        .trust([file(tree::TRUST_DIR)])
        .untrusted([cert("ed-int")])
        .host("ed25519.example.test"),
        ec(
            "crl_not_listed_valid",
            "current CRLs (openssl ca -gencrl) that do not list the leaf",
            "ec-server",
        )
        .purpose(Purpose::Server)
        .crls([file(tree::CRL_EC_INT), file(tree::CRL_EC_ROOT)]),
        under(
            "name_constraints_permitted_valid",
            "the leaf's name is inside the intermediate's permitted subtree",
            "ec-nc-ok",
            "ec-int-nc",
        )
        .host("www.allowed.example.test"),
        under(
            "eku_chained_intermediate_valid",
            "a serverAuth leaf under a serverAuth-only intermediate, as a server",
            "ec-server-under-server-only",
            "ec-int-server-only",
        )
        .purpose(Purpose::Server),
        ec(
            "eku_email_protection_valid",
            "--eku emailProtection on an emailProtection leaf",
            "ec-email",
        )
        .eku(EMAIL_PROTECTION),
        two_intermediates(
            "max_depth_two_valid",
            "--max-depth 2 allows two intermediates",
        )
        .purpose(Purpose::Server)
        .max_depth(2),
        ocsp(
            "ocsp_good_valid",
            "the OCSP responder in the AIA answers good",
            "ocsp-good",
            layout.ocsp_url(),
        ),
        // Purpose.
        ec(
            "client_as_server",
            "a clientAuth-only leaf checked as a server",
            "ec-client",
        )
        .purpose(Purpose::Server)
        .error("eku_mismatch"),
        ec(
            "server_as_client",
            "a serverAuth-only leaf checked as a client",
            "ec-server",
        )
        .purpose(Purpose::Client)
        .error("eku_mismatch"),
        under(
            "client_under_server_only_intermediate",
            "a clientAuth leaf under a serverAuth-only intermediate, as a client",
            "ec-client-under-server-only",
            "ec-int-server-only",
        )
        .purpose(Purpose::Client)
        .error("eku_mismatch"),
        ec(
            "eku_email_protection_mismatch",
            "--eku emailProtection on a serverAuth leaf",
            "ec-server",
        )
        .eku(EMAIL_PROTECTION)
        .error("eku_mismatch"),
        ec(
            "ku_crl_sign_only_server",
            "serverAuth with a critical KU of cRLSign only",
            "ec-ku-crl-sign",
        )
        .purpose(Purpose::Server)
        .error("ku_eku_inconsistent"),
        ec(
            "ku_non_repudiation_only_server",
            "serverAuth with a critical KU of nonRepudiation only",
            "ec-ku-non-repudiation",
        )
        .purpose(Purpose::Server)
        .error("ku_eku_inconsistent"),
        rsa(
            "ku_key_encipherment_only_client",
            "serverAuth and clientAuth, KU keyEncipherment only, as a client",
            "rsa-ku-key-encipherment",
        )
        .purpose(Purpose::Client)
        .error("ku_eku_inconsistent"),
        ec(
            "ku_eku_no_common_purpose_any",
            "serverAuth with a KU of cRLSign only leaves no purpose at all, even for --purpose any",
            "ec-ku-crl-sign",
        )
        .purpose(Purpose::Any)
        .error("no_usable_purpose")
        .differs(true, NO_COMMON_PURPOSE),
        ec(
            "ca_certificate_as_leaf",
            "the leaf says CA:TRUE",
            "ec-ca-leaf",
        )
        .host("ca-leaf.example.test")
        .error("no_usable_purpose")
        .differs(true, CA_AS_LEAF),
        // Path building and trust.
        Case::new(
            "intermediate_missing",
            "the leaf's intermediate is not supplied",
            cert("ec-server"),
        )
        .trust([cert("ec-root")])
        .purpose(Purpose::Server)
        .error("unknown_issuer"),
        under(
            "issuer_key_mismatch",
            "a certificate with the issuer's subject but another key is supplied",
            "ec-server",
            "ec-impostor",
        )
        .purpose(Purpose::Server)
        .error("unknown_issuer"),
        Case::new(
            "root_only_untrusted",
            "the chain's root is given only as untrusted; another root is trusted",
            cert("ec-server"),
        )
        .trust([cert("rsa-root")])
        .untrusted([cert("ec-int"), cert("ec-root")])
        .purpose(Purpose::Server)
        .error("untrusted_root"),
        Case::new(
            "self_signed_leaf",
            "a self-signed leaf that is not in the trust store",
            cert("ec-self-signed"),
        )
        .trust([cert("ec-root")])
        .host("self-signed.example.test")
        .error("self_signed_leaf"),
        two_intermediates("max_depth_exceeded", "--max-depth 1 with two intermediates")
            .purpose(Purpose::Server)
            .max_depth(1)
            .error("max_depth_exceeded"),
        // Time.
        ec("leaf_expired", "the leaf expired 2026-01-01", "ec-expired")
            .purpose(Purpose::Server)
            .error("expired"),
        under(
            "intermediate_expired",
            "the intermediate expired 2026-01-01",
            "ec-under-expired-int",
            "ec-int-expired",
        )
        .purpose(Purpose::Server)
        .error("expired"),
        ec(
            "leaf_not_yet_valid",
            "the leaf is valid from 2027-01-01",
            "ec-not-yet-valid",
        )
        .purpose(Purpose::Server)
        .error("not_yet_valid"),
        // Names.
        ec(
            "hostname_mismatch",
            "--host names a host the SAN does not list",
            "ec-server",
        )
        .host("other.example.test")
        .error("hostname_mismatch"),
        ec(
            "cn_only_hostname",
            "the name is in the CN only, no SAN",
            "ec-cn-only",
        )
        .host("cn-only.example.test")
        .error("hostname_mismatch")
        .differs(true, CN_ONLY),
        ec(
            "wildcard_two_labels",
            "*.example.test does not match a.b.example.test",
            "ec-wildcard",
        )
        .host("a.b.example.test")
        .error("hostname_mismatch"),
        ec(
            "wildcard_bare_domain",
            "*.example.test does not match example.test",
            "ec-wildcard",
        )
        .host("example.test")
        .error("hostname_mismatch"),
        ec(
            "wildcard_public_suffix",
            "*.com matches nothing, example.com included",
            "ec-wildcard-com",
        )
        .host("example.com")
        .error("hostname_mismatch"),
        ec(
            "ip_mismatch",
            "--host 10.0.0.1 against IP SANs 127.0.0.1 and ::1",
            "ec-ip",
        )
        .host("10.0.0.1")
        .error("hostname_mismatch"),
        // CA constraints.
        under(
            "intermediate_not_ca",
            "the intermediate says CA:FALSE (its KU allows keyCertSign)",
            "ec-under-not-ca",
            "ec-int-not-ca",
        )
        .purpose(Purpose::Server)
        .error("ca_not_authorized"),
        under(
            "intermediate_without_key_cert_sign",
            "the intermediate says CA:TRUE but its KU lacks keyCertSign",
            "ec-under-no-cert-sign",
            "ec-int-no-cert-sign",
        )
        .purpose(Purpose::Server)
        .error("ca_not_authorized"),
        Case::new(
            "path_length_exceeded",
            "a pathlen:0 intermediate issued another intermediate, which issued the leaf",
            cert("ec-under-sub"),
        )
        .trust([cert("ec-root")])
        .untrusted([cert("ec-int-sub"), cert("ec-int-pathlen0")])
        .purpose(Purpose::Server)
        .error("path_length_exceeded"),
        under(
            "name_constraints_permitted_violated",
            "www.example.org under an intermediate permitting allowed.example.test only",
            "ec-nc-outside",
            "ec-int-nc",
        )
        .purpose(Purpose::Server)
        .error("name_constraints_violated"),
        under(
            "name_constraints_excluded_violated",
            "a.forbidden.allowed.example.test is in the excluded subtree",
            "ec-nc-excluded",
            "ec-int-nc",
        )
        .purpose(Purpose::Server)
        .error("name_constraints_violated"),
        // Signatures, keys, encoding.
        ec(
            "bad_signature",
            "the leaf's signature has one bit flipped",
            "ec-server",
        )
        .packaged(
            LeafFormat::Pem,
            file(tree::BAD_SIGNATURE),
            file(tree::BAD_SIGNATURE),
            None,
        )
        .purpose(Purpose::Server)
        .error("bad_signature"),
        rsa(
            "sha1_signature",
            "the leaf is signed with sha1WithRSAEncryption",
            "rsa-sha1",
        )
        .purpose(Purpose::Server)
        .error("unsupported_signature_algorithm"),
        rsa(
            "md5_signature",
            "the leaf is signed with md5WithRSAEncryption",
            "rsa-md5",
        )
        .purpose(Purpose::Server)
        .error("unsupported_signature_algorithm"),
        rsa("rsa_1024_leaf", "the leaf's key is RSA-1024", "rsa-1024")
            .purpose(Purpose::Server)
            .error("weak_key"),
        rsa(
            "duplicate_extension",
            "the leaf carries subjectAltName twice (RFC 5280 §4.2)",
            "rsa-dup-san",
        )
        .purpose(Purpose::Server)
        .error("malformed_certificate"),
        // Revocation.
        ec(
            "crl_revoked",
            "the intermediate's current CRL lists the leaf",
            "ec-revoked",
        )
        .purpose(Purpose::Server)
        .crls([file(tree::CRL_EC_INT), file(tree::CRL_EC_ROOT)])
        .error("revoked"),
        ec(
            "crl_expired",
            "the intermediate's only CRL expired 2026-02-01 (hard fail)",
            "ec-server",
        )
        .purpose(Purpose::Server)
        .crls([file(tree::CRL_EC_INT_EXPIRED), file(tree::CRL_EC_ROOT)])
        .error("revocation_unknown"),
        ocsp(
            "ocsp_revoked",
            "the OCSP responder in the AIA answers revoked",
            "ocsp-revoked",
            layout.ocsp_url(),
        )
        .error("revoked"),
        ocsp(
            "ocsp_unreachable",
            "the AIA names an OCSP responder where nothing listens (hard fail)",
            "ocsp-unreachable",
            tree::UNREACHABLE_OCSP_URL.to_owned(),
        )
        .error("revocation_unknown"),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::verify_matrix::{ERROR_CODES, WARNING_CODES};

    fn cases() -> Vec<Case> {
        all(&Layout::new(std::path::Path::new("/matrix"), 4321))
    }

    #[test]
    fn at_least_44_cases_with_unique_snake_case_names() {
        let cases = cases();
        assert!(cases.len() >= 44, "{} cases", cases.len());
        let mut seen = HashSet::new();
        for case in &cases {
            assert!(seen.insert(case.name), "`{}` twice", case.name);
            assert!(
                case.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "`{}` is not snake_case",
                case.name
            );
        }
    }

    #[test]
    fn every_code_is_expected_somewhere_and_only_known_codes_are() {
        let cases = cases();
        for code in ERROR_CODES {
            assert!(
                cases.iter().any(|case| case.expected_errors.contains(code)),
                "no case expects `{code}`"
            );
        }
        for code in WARNING_CODES {
            assert!(
                cases
                    .iter()
                    .any(|case| case.expected_warnings.contains(code)),
                "no case expects `{code}`"
            );
        }
        for case in &cases {
            for code in &case.expected_errors {
                assert!(ERROR_CODES.contains(code), "{}: `{code}`", case.name);
            }
            for code in &case.expected_warnings {
                assert!(WARNING_CODES.contains(code), "{}: `{code}`", case.name);
            }
        }
    }

    #[test]
    fn valid_exactly_when_no_errors_and_every_difference_is_explained() {
        for case in cases() {
            assert_eq!(
                case.expected_valid,
                case.expected_errors.is_empty(),
                "{}",
                case.name
            );
            if let OpensslExpectation::Differs { openssl_valid, why } = case.openssl {
                assert_ne!(openssl_valid, case.expected_valid, "{}", case.name);
                assert!(why.contains("RFC"), "{}: cite the RFC", case.name);
            }
        }
    }

    #[test]
    fn openssl_args_carry_the_options() {
        let cases = cases();
        let find = |name: &str| {
            cases
                .iter()
                .find(|case| case.name == name)
                .expect("the case exists")
                .openssl_verify_args()
                .into_iter()
                .map(|arg| arg.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            find("ec_server_host_valid"),
            "verify -x509_strict -auth_level 2 -attime 1780272000 -trusted /matrix/certs/ec-root.pem \
             -untrusted /matrix/certs/ec-int.pem -purpose sslserver -verify_hostname server.example.test \
             /matrix/certs/ec-server.pem"
        );
        assert!(find("ipv6_san_valid").contains("-verify_ip ::1"));
        assert!(find("pkcs12_with_chain_valid").contains("-untrusted /matrix/certs/ec-int.pem"));
        assert!(find("pkcs12_with_chain_valid").ends_with(" /matrix/certs/ec-client.pem"));
        assert!(find("crl_revoked").contains(
            "-crl_check -CRLfile /matrix/crl/ec-int.crl.pem -CRLfile /matrix/crl/ec-root.crl.pem"
        ));
        assert!(find("max_depth_exceeded").contains("-verify_depth 1"));
        assert!(find("eku_email_protection_mismatch").contains("-purpose smimesign"));
        assert!(find("ku_eku_no_common_purpose_any").contains("-purpose any"));
    }
}
