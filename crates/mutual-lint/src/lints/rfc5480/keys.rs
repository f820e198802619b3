//! RFC 5480 §2.1.1: how an EC public key names its curve.

use crate::meta::prelude::*;
use crate::subject::{Key, KeyKind, Params};

/// §2.1.1: "implicitCurve and specifiedCurve MUST NOT be used in PKIX" — the parameters
/// are a namedCurve OID.
pub(crate) const EC_NOT_NAMED_CURVE: Lint<Key> = Lint {
    meta: Meta::new(
        "e_ec_key_parameters_not_named_curve",
        Error,
        Source::Rfc5480,
        "§2.1.1",
        "an EC key's parameters are not a named curve",
    ),
    check: |k| {
        if k.kind != KeyKind::Ec {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!matches!(k.algorithm.params, Params::Oid(_)), || {
            format!("parameters are {:?}", k.algorithm.params)
        })
    },
};

pub(crate) const LINTS: &[&Lint<Key>] = &[&EC_NOT_NAMED_CURVE];
