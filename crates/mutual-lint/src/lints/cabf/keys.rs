//! CA/B Forum TLS BR §6.1.5 and §6.1.6: key sizes and quality, and §7.1.3.1: how the key's
//! algorithm is encoded. Keys too weak to trust are errors under every trust setting.

use aws_lc_rs::signature as sig;

use crate::meta::prelude::*;
use crate::oids;
use crate::subject::{Key, KeyKind, Params, RsaKey};

fn rsa(k: &Key, check: impl FnOnce(&RsaKey) -> Outcome) -> Outcome {
    match &k.rsa {
        Some(rsa) => check(rsa),
        None => Outcome::NotApplicable,
    }
}

/// §6.1.5: "For RSA key pairs the CA SHALL: Ensure that the modulus size, when encoded, is
/// at least 2048 bits".
pub(crate) const RSA_TOO_SMALL: Lint<Key> = Lint {
    meta: Meta::new(
        "e_rsa_modulus_under_2048_bits",
        Error,
        Source::CabfBr,
        "§6.1.5",
        "an RSA modulus shorter than 2048 bits",
    ),
    check: |k| {
        rsa(k, |r| {
            Outcome::fail_if(r.bits() < 2048, || format!("{} bits", r.bits()))
        })
    },
};

/// §6.1.5: "Ensure that the modulus size, in bits, is evenly divisible by 8."
pub(crate) const RSA_NOT_MULTIPLE_OF_8: Lint<Key> = Lint {
    meta: Meta::new(
        "e_rsa_modulus_not_multiple_of_8",
        Error,
        Source::CabfBr,
        "§6.1.5",
        "an RSA modulus whose size in bits is not divisible by 8",
    ),
    check: |k| {
        rsa(k, |r| {
            Outcome::fail_if(r.bits() % 8 != 0, || format!("{} bits", r.bits()))
        })
    },
};

/// §6.1.6: "The value of the public exponent MUST be an odd number equal to 3 or more."
pub(crate) const RSA_EXPONENT_EVEN: Lint<Key> = Lint {
    meta: Meta::new(
        "e_rsa_public_exponent_not_odd",
        Error,
        Source::CabfBr,
        "§6.1.6",
        "an even RSA public exponent",
    ),
    check: |k| {
        rsa(k, |r| {
            Outcome::fail_if(r.exponent.last().is_none_or(|b| b & 1 == 0), || {
                format!("exponent {}", exponent_text(r))
            })
        })
    },
};

/// §6.1.6: "The value of the public exponent MUST be an odd number equal to 3 or more."
pub(crate) const RSA_EXPONENT_TOO_SMALL: Lint<Key> = Lint {
    meta: Meta::new(
        "e_rsa_public_exponent_under_3",
        Error,
        Source::CabfBr,
        "§6.1.6",
        "an RSA public exponent below 3",
    ),
    check: |k| {
        rsa(k, |r| {
            Outcome::fail_if(
                r.exponent.len() <= 1 && r.exponent.first().is_none_or(|&b| b < 3),
                || format!("exponent {}", exponent_text(r)),
            )
        })
    },
};

fn exponent_text(r: &RsaKey) -> String {
    if r.exponent.len() <= 8 {
        r.exponent
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
            .to_string()
    } else {
        format!("of {} octets", r.exponent.len())
    }
}

/// §6.1.6: "Additionally, the public exponent SHOULD be in the range between 2^16 + 1 and
/// 2^256 − 1."
pub(crate) const RSA_EXPONENT_RANGE: Lint<Key> = Lint {
    meta: Meta::new(
        "w_rsa_public_exponent_not_in_range",
        Warn,
        Source::CabfBr,
        "§6.1.6",
        "an RSA public exponent outside 2^16+1 .. 2^256-1 (65537 is the usual one)",
    ),
    check: |k| {
        rsa(k, |r| {
            let small = r.exponent.len() < 3
                || (r.exponent.len() == 3 && r.exponent[..] < [0x01, 0x00, 0x01][..]);
            Outcome::fail_if(small || r.exponent.len() > 32, || {
                format!("exponent {}", exponent_text(r))
            })
        })
    },
};

/// The primes below 752.
fn small_primes() -> impl Iterator<Item = u32> {
    (2u32..752).filter(|n| (2..*n).take_while(|d| d * d <= *n).all(|d| n % d != 0))
}

/// §6.1.6: "The modulus SHOULD also have the following characteristics: an odd number, not
/// the power of a prime, and have no factors smaller than 752."
pub(crate) const RSA_SMALL_FACTOR: Lint<Key> = Lint {
    meta: Meta::new(
        "w_rsa_modulus_small_factor",
        Warn,
        Source::CabfBr,
        "§6.1.6",
        "an RSA modulus that is even or has a factor smaller than 752",
    ),
    check: |k| {
        rsa(k, |r| {
            let factor = small_primes().find(|&p| {
                let rem = r
                    .modulus
                    .iter()
                    .fold(0u32, |acc, &b| ((acc << 8) | u32::from(b)) % p);
                rem == 0
            });
            Outcome::fail_if(factor.is_some(), || {
                format!("divisible by {}", factor.unwrap_or_default())
            })
        })
    },
};

/// §6.1.5: "For ECDSA key pairs the CA SHALL: Ensure that the key represents a valid point
/// on the NIST P-256, NIST P-384 or NIST P-521 elliptic curve."
pub(crate) const EC_CURVE_NOT_ALLOWED: Lint<Key> = Lint {
    meta: Meta::new(
        "e_ec_curve_not_allowed",
        Error,
        Source::CabfBr,
        "§6.1.5",
        "an EC key on a curve other than P-256, P-384 or P-521",
    ),
    check: |k| match (&k.kind, &k.algorithm.params) {
        (KeyKind::Ec, Params::Oid(curve)) => Outcome::fail_if(
            ![oids::P256, oids::P384, oids::P521].contains(&curve.as_str()),
            || format!("curve {}", mutual_x509::oids::name_or_oid(curve)),
        ),
        _ => Outcome::NotApplicable,
    },
};

/// §6.1.5: "Ensure that the key represents a valid point on the ... curve" (and §6.1.6:
/// the CA "SHOULD confirm the validity of all keys using either the ECC Full Public Key
/// Validation Routine or the ECC Partial Public Key Validation Routine").
pub(crate) const EC_POINT_NOT_ON_CURVE: Lint<Key> = Lint {
    meta: Meta::new(
        "e_ec_public_key_not_on_curve",
        Error,
        Source::CabfBr,
        "§6.1.5",
        "an EC public key that is not a valid point on its curve",
    ),
    check: |k| {
        let algorithm: &'static dyn sig::VerificationAlgorithm =
            match (&k.kind, &k.algorithm.params) {
                (KeyKind::Ec, Params::Oid(c)) if c == oids::P256 => &sig::ECDSA_P256_SHA256_ASN1,
                (KeyKind::Ec, Params::Oid(c)) if c == oids::P384 => &sig::ECDSA_P384_SHA384_ASN1,
                (KeyKind::Ec, Params::Oid(c)) if c == oids::P521 => &sig::ECDSA_P521_SHA512_ASN1,
                _ => return Outcome::NotApplicable,
            };
        Outcome::fail_if(
            sig::ParsedPublicKey::new(algorithm, &k.key_bytes).is_err(),
            || {
                format!(
                    "{} octets that are not a point on the curve",
                    k.key_bytes.len()
                )
            },
        )
    },
};

/// §7.1.3.1.1: for RSA "The parameters MUST be present, and MUST be an explicit NULL."
pub(crate) const RSA_PARAMS_NOT_NULL: Lint<Key> = Lint {
    meta: Meta::new(
        "e_rsa_key_parameters_not_null",
        Error,
        Source::CabfBr,
        "§7.1.3.1.1",
        "an rsaEncryption key whose AlgorithmIdentifier parameters are not NULL",
    ),
    check: |k| {
        if k.kind != KeyKind::Rsa {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(k.algorithm.params != Params::Null, || {
            format!("parameters are {:?}", k.algorithm.params)
        })
    },
};

/// An RSA key whose RSAPublicKey does not decode cannot verify anything.
pub(crate) const RSA_MALFORMED: Lint<Key> = Lint {
    meta: Meta::new(
        "e_rsa_public_key_malformed",
        Error,
        Source::CabfBr,
        "§6.1.5",
        "an rsaEncryption key whose RSAPublicKey does not decode",
    ),
    check: |k| {
        if k.kind != KeyKind::Rsa {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(k.rsa.is_none(), || {
            "RSAPublicKey does not decode".to_owned()
        })
    },
};

/// §6.1.5: the key types allowed are RSA and ECDSA; Ed25519, Ed448 and DSA keys are not.
pub(crate) const KEY_ALGORITHM_NOT_ALLOWED: Lint<Key> = Lint {
    meta: Meta::new(
        "e_key_algorithm_not_allowed",
        Error,
        Source::CabfBr,
        "§6.1.5",
        "a public key that is neither RSA nor ECDSA",
    )
    .public_only(),
    check: |k| {
        Outcome::fail_if(!matches!(k.kind, KeyKind::Rsa | KeyKind::Ec), || {
            format!(
                "algorithm {}",
                mutual_x509::oids::name_or_oid(&k.algorithm.oid)
            )
        })
    },
};

pub(crate) const LINTS: &[&Lint<Key>] = &[
    &RSA_TOO_SMALL,
    &RSA_NOT_MULTIPLE_OF_8,
    &RSA_EXPONENT_EVEN,
    &RSA_EXPONENT_TOO_SMALL,
    &RSA_EXPONENT_RANGE,
    &RSA_SMALL_FACTOR,
    &EC_CURVE_NOT_ALLOWED,
    &EC_POINT_NOT_ON_CURVE,
    &RSA_PARAMS_NOT_NULL,
    &RSA_MALFORMED,
    &KEY_ALGORITHM_NOT_ALLOWED,
];
