//! RFC 6818 §3 (updating RFC 5280 §4.2.1.4): the encoding of a user notice's explicitText.

use crate::meta::prelude::*;
use crate::subject::Claims;

const IA5_STRING: u8 = 0x16;
const UTF8_STRING: u8 = 0x0c;

/// §3: "Conforming CAs MUST NOT encode explicitText as IA5String."
pub(crate) const EXPLICIT_TEXT_IA5: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_ext_cert_policy_explicit_text_ia5_string",
        Error,
        Source::Rfc6818,
        "§3",
        "a user notice's explicitText is an IA5String",
    ),
    check: |c| {
        if c.explicit_text_tags.is_empty() {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(c.explicit_text_tags.contains(&IA5_STRING), || {
            "explicitText encoded as IA5String".to_owned()
        })
    },
};

/// §3: "Conforming CAs SHOULD use the UTF8String encoding for explicitText."
pub(crate) const EXPLICIT_TEXT_NOT_UTF8: Lint<Claims> = Lint {
    meta: Meta::new(
        "w_ext_cert_policy_explicit_text_not_utf8",
        Warn,
        Source::Rfc6818,
        "§3",
        "a user notice's explicitText is not a UTF8String",
    ),
    check: |c| {
        if c.explicit_text_tags.is_empty() {
            return Outcome::NotApplicable;
        }
        let other: Vec<String> = c
            .explicit_text_tags
            .iter()
            .filter(|&&t| t != UTF8_STRING)
            .map(|t| format!("tag 0x{t:02x}"))
            .collect();
        Outcome::fail_if(!other.is_empty(), || other.join(", "))
    },
};

pub(crate) const LINTS: &[&Lint<Claims>] = &[&EXPLICIT_TEXT_IA5, &EXPLICIT_TEXT_NOT_UTF8];
