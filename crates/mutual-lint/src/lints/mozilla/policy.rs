//! Mozilla Root Store Policy §5.1 (exact encodings of keys and signature algorithms) and
//! §5.3 (what intermediate CA certificates' EKU may hold). Binding on CAs in Mozilla's
//! root store: notices under `--trust private`.

use crate::meta::prelude::*;
use crate::oids;
use crate::subject::{Claims, Key, SignatureAlgorithm};

/// The hex of every AlgorithmIdentifier §5.1 allows for subject public keys.
const SPKI_ENCODINGS: &[&str] = &[
    "300d06092a864886f70d0101010500",
    "301306072a8648ce3d020106082a8648ce3d030107",
    "301006072a8648ce3d020106052b81040022",
    "301006072a8648ce3d020106052b81040023",
];

/// The hex of every signature AlgorithmIdentifier §5.1.1 and §5.1.2 allow.
const SIGNATURE_ENCODINGS: &[&str] = &[
    "300d06092a864886f70d01010b0500",
    "300d06092a864886f70d01010c0500",
    "300d06092a864886f70d01010d0500",
    "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120",
    "304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130",
    "304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a864886f70d010108300d06096086480165030402030500a203020140",
    "300a06082a8648ce3d040302",
    "300a06082a8648ce3d040303",
    "300a06082a8648ce3d040304",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `bytes` is one of the `allowed` hex strings — compared without writing the hex
/// out, since every certificate passes through here and nearly all match.
fn one_of(allowed: &[&str], bytes: &[u8]) -> bool {
    allowed.iter().any(|h| {
        h.len() == bytes.len() * 2
            && h.as_bytes()
                .chunks_exact(2)
                .zip(bytes)
                .all(|(pair, b)| pair == [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
    })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// §5.1: "the encoded AlgorithmIdentifier MUST match one of the following hex-encoded
/// bytes" — RSA, or ECDSA on P-256, P-384 or P-521.
pub(crate) const SPKI_ENCODING: Lint<Key> = Lint {
    meta: Meta::new(
        "e_mozilla_spki_algorithm_encoding",
        Error,
        Source::Mozilla,
        "§5.1",
        "the public key's AlgorithmIdentifier is not one of the exact encodings allowed",
    )
    .public_only(),
    check: |k| {
        Outcome::fail_if(!one_of(SPKI_ENCODINGS, &k.algorithm.der), || {
            hex(&k.algorithm.der)
        })
    },
};

/// §5.1.1/§5.1.2: the signature AlgorithmIdentifier "MUST be byte-for-byte identical with
/// one of the following hex-encoded bytes".
pub(crate) const SIGNATURE_ENCODING: Lint<SignatureAlgorithm> = Lint {
    meta: Meta::new(
        "e_mozilla_signature_algorithm_encoding",
        Error,
        Source::Mozilla,
        "§5.1.1",
        "the signature AlgorithmIdentifier is not one of the exact encodings allowed",
    )
    .public_only(),
    check: |s| {
        Outcome::fail_if(!one_of(SIGNATURE_ENCODINGS, &s.algorithm.der), || {
            hex(&s.algorithm.der)
        })
    },
};

fn intermediate(c: &Claims) -> bool {
    !c.self_signed && !c.request
}

/// §5.3: "Intermediate certificates created after January 1, 2019 ... MUST contain an EKU
/// extension".
pub(crate) const INTERMEDIATE_EKU_MISSING: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_mozilla_intermediate_eku_missing",
        Error,
        Source::Mozilla,
        "§5.3",
        "an intermediate CA certificate without extendedKeyUsage",
    )
    .scope(CA)
    .effective(date(2019, Month::January, 1))
    .public_only(),
    check: |c| {
        if !intermediate(c) {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!c.has(oids::EKU), || "no extendedKeyUsage".to_owned())
    },
};

/// §5.3: intermediates "MUST NOT include the anyExtendedKeyUsage KeyPurposeId".
pub(crate) const INTERMEDIATE_ANY_EKU: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_mozilla_intermediate_eku_any",
        Error,
        Source::Mozilla,
        "§5.3",
        "an intermediate CA certificate with anyExtendedKeyUsage",
    )
    .scope(CA)
    .public_only(),
    check: |c| {
        if !intermediate(c) {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(c.has_eku(oids::EKU_ANY), || {
            "anyExtendedKeyUsage".to_owned()
        })
    },
};

/// §5.3: intermediates "MUST NOT include both the id-kp-serverAuth and
/// id-kp-emailProtection KeyPurposeIds in the same certificate".
pub(crate) const INTERMEDIATE_SERVER_AND_EMAIL: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_mozilla_intermediate_server_and_email_eku",
        Error,
        Source::Mozilla,
        "§5.3",
        "an intermediate CA certificate with both serverAuth and emailProtection",
    )
    .scope(CA)
    .public_only(),
    check: |c| {
        if !intermediate(c) {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(
            c.has_eku(oids::EKU_SERVER_AUTH) && c.has_eku(oids::EKU_EMAIL_PROTECTION),
            || "serverAuth and emailProtection".to_owned(),
        )
    },
};

pub(crate) const CLAIMS_LINTS: &[&Lint<Claims>] = &[
    &INTERMEDIATE_EKU_MISSING,
    &INTERMEDIATE_ANY_EKU,
    &INTERMEDIATE_SERVER_AND_EMAIL,
];
pub(crate) const KEY_LINTS: &[&Lint<Key>] = &[&SPKI_ENCODING];
pub(crate) const SIGNATURE_LINTS: &[&Lint<SignatureAlgorithm>] = &[&SIGNATURE_ENCODING];
