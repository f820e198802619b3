//! RFC 8813 §3 (updating RFC 5480 §3): which key usages an EC public key may carry.

use mutual_x509::KeyUsageBit;

use crate::meta::prelude::*;
use crate::subject::{Claims, KeyKind};

/// §3: "If the keyUsage extension is present in a certificate that indicates
/// id-ecPublicKey in SubjectPublicKeyInfo, then the following values MUST NOT be present:
/// keyEncipherment; and dataEncipherment."
pub(crate) const EC_KEY_ENCIPHERMENT: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ec_key_usage_encipherment",
        Error,
        Source::Rfc8813,
        "§3",
        "an EC key with keyEncipherment or dataEncipherment",
    ),
    check: |c| match c.key_usage() {
        Some(ku) if c.key_kind == KeyKind::Ec => {
            let bad: Vec<&str> = ku
                .iter()
                .filter(|b| {
                    matches!(
                        b,
                        KeyUsageBit::KeyEncipherment | KeyUsageBit::DataEncipherment
                    )
                })
                .map(|b| b.as_str())
                .collect();
            Outcome::fail_if(!bad.is_empty(), || bad.join(", "))
        }
        _ => Outcome::NotApplicable,
    },
};

pub(crate) const LINTS: &[&Lint<Claims>] = &[&EC_KEY_ENCIPHERMENT];
