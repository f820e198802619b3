//! CA/B Forum TLS BR §7.1.3.2: the signature algorithms a certificate may be signed with,
//! and how they are encoded. Certificates and requests alike.

use crate::meta::prelude::*;
use crate::oids;
use crate::subject::{Params, SignatureAlgorithm};

fn name(oid: &str) -> String {
    mutual_x509::oids::name_or_oid(oid)
}

/// §7.1.3.2: SHA-1 is not among the allowed digests; CAs stopped issuing SHA-1 subscriber
/// certificates from 2016-01-01.
pub(crate) const SHA1: Lint<SignatureAlgorithm> = Lint {
    meta: Meta::new(
        "e_signature_algorithm_sha1",
        Error,
        Source::CabfBr,
        "§7.1.3.2",
        "signed with SHA-1",
    )
    .effective(date(2016, Month::January, 1)),
    check: |s| {
        let oid = s.algorithm.oid.as_str();
        Outcome::fail_if(
            [oids::SHA1_RSA, oids::ECDSA_SHA1, oids::DSA_SHA1].contains(&oid),
            || name(oid),
        )
    },
};

/// §7.1.3.2: MD5 and MD2 are broken and never allowed.
pub(crate) const MD5: Lint<SignatureAlgorithm> = Lint {
    meta: Meta::new(
        "e_signature_algorithm_md5_or_md2",
        Error,
        Source::CabfBr,
        "§7.1.3.2",
        "signed with MD5 or MD2",
    ),
    check: |s| {
        let oid = s.algorithm.oid.as_str();
        Outcome::fail_if([oids::MD5_RSA, oids::MD2_RSA].contains(&oid), || name(oid))
    },
};

/// §7.1.3.2: RSASSA-PKCS1-v1_5 or RSASSA-PSS with SHA-256/384/512, ECDSA with
/// SHA-256/384/512; nothing else.
pub(crate) const NOT_ALLOWED: Lint<SignatureAlgorithm> = Lint {
    meta: Meta::new(
        "e_signature_algorithm_not_allowed",
        Error,
        Source::CabfBr,
        "§7.1.3.2",
        "a signature algorithm outside the BR list (RSA, RSA-PSS, ECDSA with SHA-2)",
    )
    .public_only(),
    check: |s| {
        let allowed = [
            oids::SHA256_RSA,
            oids::SHA384_RSA,
            oids::SHA512_RSA,
            oids::RSASSA_PSS,
            oids::ECDSA_SHA256,
            oids::ECDSA_SHA384,
            oids::ECDSA_SHA512,
        ];
        let oid = s.algorithm.oid.as_str();
        Outcome::fail_if(!allowed.contains(&oid), || name(oid))
    },
};

/// §7.1.3.2.2 (and RFC 5758 §3.2): for ECDSA "the encoding MUST omit the parameters
/// field".
pub(crate) const ECDSA_PARAMS_PRESENT: Lint<SignatureAlgorithm> = Lint {
    meta: Meta::new(
        "e_ecdsa_signature_parameters_present",
        Error,
        Source::CabfBr,
        "§7.1.3.2.2",
        "an ECDSA signature AlgorithmIdentifier with parameters",
    ),
    check: |s| {
        let ecdsa = [
            oids::ECDSA_SHA1,
            oids::ECDSA_SHA224,
            oids::ECDSA_SHA256,
            oids::ECDSA_SHA384,
            oids::ECDSA_SHA512,
        ];
        if !ecdsa.contains(&s.algorithm.oid.as_str()) {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(s.algorithm.params != Params::Absent, || {
            format!("parameters are {:?}", s.algorithm.params)
        })
    },
};

/// §7.1.3.2.1 (and RFC 4055 §5): for RSASSA-PKCS1-v1_5 the parameters MUST be an explicit
/// NULL.
pub(crate) const RSA_PARAMS_NOT_NULL: Lint<SignatureAlgorithm> = Lint {
    meta: Meta::new(
        "e_rsa_signature_parameters_not_null",
        Error,
        Source::CabfBr,
        "§7.1.3.2.1",
        "an RSA PKCS#1 v1.5 signature AlgorithmIdentifier whose parameters are not NULL",
    ),
    check: |s| {
        let rsa = [
            oids::MD5_RSA,
            oids::SHA1_RSA,
            oids::SHA224_RSA,
            oids::SHA256_RSA,
            oids::SHA384_RSA,
            oids::SHA512_RSA,
        ];
        if !rsa.contains(&s.algorithm.oid.as_str()) {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(s.algorithm.params != Params::Null, || {
            format!("parameters are {:?}", s.algorithm.params)
        })
    },
};

pub(crate) const LINTS: &[&Lint<SignatureAlgorithm>] = &[
    &SHA1,
    &MD5,
    &NOT_ALLOWED,
    &ECDSA_PARAMS_PRESENT,
    &RSA_PARAMS_NOT_NULL,
];
