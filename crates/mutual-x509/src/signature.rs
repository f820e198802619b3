//! Checking a signature made by a given public key, for self-signed certificates and CSRs.
//! aws-lc-rs does the mathematics; this maps X.509 algorithm identifiers onto it.

use aws_lc_rs::signature::{self, VerificationAlgorithm};
use serde::Serialize;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::public_key::ec_curve_oid;

/// The outcome of checking one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureCheck {
    Valid,
    Invalid,
    /// The algorithm (or key/algorithm pairing) is not one we check, e.g. RSA-PSS or DSA.
    Unsupported,
}

/// Checks `signature` over `message` with the key in `spki`, for the X.509 signature
/// algorithm `algorithm_oid`.
pub(crate) fn check(
    algorithm_oid: &str,
    spki: &SubjectPublicKeyInfo<'_>,
    message: &[u8],
    signature: &[u8],
) -> SignatureCheck {
    let Some(algorithm) = algorithm_for(algorithm_oid, spki) else {
        return SignatureCheck::Unsupported;
    };
    let key = signature::UnparsedPublicKey::new(algorithm, &spki.subject_public_key.data);
    match key.verify(message, signature) {
        Ok(()) => SignatureCheck::Valid,
        Err(_) => SignatureCheck::Invalid,
    }
}

/// Checks `signature` over `message` with the DER SubjectPublicKeyInfo `spki_der`, for the
/// X.509 signature algorithm `algorithm_oid` (dotted): for signed objects this crate does
/// not model, such as OCSP responses.
pub fn verify_with_spki(
    spki_der: &[u8],
    algorithm_oid: &str,
    message: &[u8],
    signature: &[u8],
) -> SignatureCheck {
    use x509_parser::prelude::FromDer;
    match SubjectPublicKeyInfo::from_der(spki_der) {
        Ok((_, spki)) => check(algorithm_oid, &spki, message, signature),
        Err(_) => SignatureCheck::Invalid,
    }
}

fn algorithm_for(
    algorithm_oid: &str,
    spki: &SubjectPublicKeyInfo<'_>,
) -> Option<&'static dyn VerificationAlgorithm> {
    let curve = ec_curve_oid(spki);
    let algorithm: &'static dyn VerificationAlgorithm = match (algorithm_oid, curve.as_deref()) {
        // Down to 1024-bit keys: whether a signature verifies is a fact; whether the key
        // is strong enough is for the policy that reads it (sign refuses weak keys).
        ("1.2.840.113549.1.1.5", None) => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        ("1.2.840.113549.1.1.11", None) => {
            &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
        }
        ("1.2.840.113549.1.1.12", None) => &signature::RSA_PKCS1_2048_8192_SHA384,
        ("1.2.840.113549.1.1.13", None) => {
            &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
        }
        ("1.2.840.10045.4.3.2", Some("1.2.840.10045.3.1.7")) => &signature::ECDSA_P256_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", Some("1.2.840.10045.3.1.7")) => &signature::ECDSA_P256_SHA384_ASN1,
        ("1.2.840.10045.4.3.2", Some("1.3.132.0.34")) => &signature::ECDSA_P384_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", Some("1.3.132.0.34")) => &signature::ECDSA_P384_SHA384_ASN1,
        ("1.2.840.10045.4.3.4", Some("1.2.840.10045.3.1.7")) => &signature::ECDSA_P256_SHA512_ASN1,
        ("1.2.840.10045.4.3.4", Some("1.3.132.0.34")) => &signature::ECDSA_P384_SHA512_ASN1,
        ("1.2.840.10045.4.3.2", Some("1.3.132.0.35")) => &signature::ECDSA_P521_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", Some("1.3.132.0.35")) => &signature::ECDSA_P521_SHA384_ASN1,
        ("1.2.840.10045.4.3.4", Some("1.3.132.0.35")) => &signature::ECDSA_P521_SHA512_ASN1,
        ("1.3.101.112", None) => &signature::ED25519,
        _ => return None,
    };
    Some(algorithm)
}
