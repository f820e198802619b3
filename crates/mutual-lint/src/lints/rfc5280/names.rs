//! RFC 5280 §4.1.2.6 and §4.2.1.6: names — subjectAltName entries well-formed, subject
//! attributes within their upper bounds (Appendix A) and validly encoded.

use crate::meta::prelude::*;
use crate::subject::{Claims, SanEntry, ip_text};

/// A DNS name's syntax problem (RFC 1034 §3.5 preferred syntax, as §4.2.1.6 requires),
/// allowing a `*` as the whole left-most label; `None` when well-formed.
pub(crate) fn dns_problem(name: &str) -> Option<String> {
    if name.is_empty() || name == " " {
        return Some("empty".to_owned());
    }
    if name.len() > 253 {
        return Some(format!("{} characters (253 at most)", name.len()));
    }
    let body = name.strip_prefix("*.").unwrap_or(name);
    for label in body.split('.') {
        if label.is_empty() {
            return Some("an empty label".to_owned());
        }
        if label.len() > 63 {
            return Some(format!(
                "label `{label}` has {} characters (63 at most)",
                label.len()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("label `{label}` starts or ends with `-`"));
        }
        if let Some(bad) = label
            .chars()
            .find(|ch| !(ch.is_ascii_alphanumeric() || *ch == '-' || *ch == '_' || *ch == '*'))
        {
            return Some(format!(
                "character `{}` in label `{label}`",
                bad.escape_default()
            ));
        }
    }
    None
}

/// §4.2.1.6: "subjectAltName extensions with a dNSName of " " MUST NOT be used" (and an
/// empty one names nothing).
pub(crate) const SAN_DNS_EMPTY: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_san_dns_name_empty",
        Error,
        Source::Rfc5280,
        "§4.2.1.6",
        "a dNSName is empty or a single space",
    ),
    check: |c| {
        let mut dns = c.dns_names().peekable();
        if dns.peek().is_none() {
            return Outcome::NotApplicable;
        }
        let empty = dns.filter(|d| d.trim().is_empty()).count();
        Outcome::fail_if(empty > 0, || format!("{empty} empty dNSName(s)"))
    },
};

/// §4.2.1.6: "When the subjectAltName extension contains a domain name system label, the
/// domain name MUST be stored in the dNSName (an IA5String). The name MUST be in the
/// 'preferred name syntax', as specified by Section 3.5 of [RFC1034]".
pub(crate) const SAN_DNS_SYNTAX: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_san_dns_name_bad_syntax",
        Error,
        Source::Rfc5280,
        "§4.2.1.6",
        "a dNSName is not in the preferred name syntax (labels, length, characters)",
    ),
    check: |c| {
        let mut any = false;
        let bad: Vec<String> = c
            .dns_names()
            .inspect(|_| any = true)
            .filter(|d| !d.trim().is_empty())
            .filter_map(|d| dns_problem(d).map(|why| format!("`{d}`: {why}")))
            .collect();
        if !any {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!bad.is_empty(), || bad.join("; "))
    },
};

/// §4.2.1.6: "For IP version 4 ... the octet string MUST contain exactly four octets. For
/// IP version 6 ... the octet string MUST contain exactly sixteen octets."
pub(crate) const SAN_IP_LENGTH: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_san_ip_address_bad_length",
        Error,
        Source::Rfc5280,
        "§4.2.1.6",
        "an iPAddress is neither 4 nor 16 octets",
    ),
    check: |c| {
        let ips: Vec<&Vec<u8>> = c
            .san
            .iter()
            .filter_map(|n| match n {
                SanEntry::Ip(b) => Some(b),
                _ => None,
            })
            .collect();
        if ips.is_empty() {
            return Outcome::NotApplicable;
        }
        let bad: Vec<String> = ips
            .iter()
            .filter(|b| b.len() != 4 && b.len() != 16)
            .map(|b| ip_text(b))
            .collect();
        Outcome::fail_if(!bad.is_empty(), || bad.join(", "))
    },
};

fn mailbox_problem(email: &str) -> Option<&'static str> {
    let (local, domain) = email.rsplit_once('@')?;
    if local.is_empty() {
        return Some("empty local part");
    }
    if local
        .chars()
        .any(|ch| ch.is_whitespace() || ch.is_control() || !ch.is_ascii())
    {
        return Some("spaces or non-ASCII in the local part");
    }
    if dns_problem(domain).is_some() || domain.starts_with('*') {
        return Some("the domain is not a host name");
    }
    None
}

/// §4.2.1.6: "When the subjectAltName extension contains an Internet mail address, the
/// address MUST be stored in the rfc822Name. The format of an rfc822Name is a "Mailbox" as
/// defined in Section 4.1.2 of [RFC2821]."
pub(crate) const SAN_EMAIL_SYNTAX: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_san_rfc822_name_bad_syntax",
        Error,
        Source::Rfc5280,
        "§4.2.1.6",
        "an rfc822Name is not a mailbox (local-part@domain)",
    ),
    check: |c| {
        let emails: Vec<&str> = c
            .san
            .iter()
            .filter_map(|n| match n {
                SanEntry::Email(e) => Some(e.as_str()),
                _ => None,
            })
            .collect();
        if emails.is_empty() {
            return Outcome::NotApplicable;
        }
        let bad: Vec<String> = emails
            .iter()
            .filter_map(|e| match (e.contains('@'), mailbox_problem(e)) {
                (false, _) => Some(format!("`{e}`: no `@`")),
                (true, Some(why)) => Some(format!("`{e}`: {why}")),
                (true, None) => None,
            })
            .collect();
        Outcome::fail_if(!bad.is_empty(), || bad.join("; "))
    },
};

fn has_scheme(uri: &str) -> bool {
    match uri.split_once(':') {
        Some((scheme, _)) => {
            scheme
                .chars()
                .next()
                .is_some_and(|ch| ch.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// §4.2.1.6: "The name MUST NOT be a relative URI, and it MUST follow the URI syntax and
/// encoding rules specified in [RFC3986]. The name MUST include both a scheme (e.g.,
/// "http" or "ftp") and a scheme-specific-part."
pub(crate) const SAN_URI_NOT_ABSOLUTE: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_san_uri_not_absolute",
        Error,
        Source::Rfc5280,
        "§4.2.1.6",
        "a uniformResourceIdentifier is relative or has no scheme-specific part",
    ),
    check: |c| {
        let uris: Vec<&str> = c
            .san
            .iter()
            .filter_map(|n| match n {
                SanEntry::Uri(u) => Some(u.as_str()),
                _ => None,
            })
            .collect();
        if uris.is_empty() {
            return Outcome::NotApplicable;
        }
        let bad: Vec<String> = uris
            .iter()
            .filter(|u| {
                !has_scheme(u) || u.split_once(':').is_some_and(|(_, rest)| rest.is_empty())
            })
            .map(|u| format!("`{u}`"))
            .collect();
        Outcome::fail_if(!bad.is_empty(), || bad.join(", "))
    },
};

/// §4.2.1.6: dNSName, rfc822Name and uniformResourceIdentifier are IA5String; an entry that
/// does not decode as its type cannot be matched by anyone.
pub(crate) const SAN_ENTRY_INVALID: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_san_entry_bad_encoding",
        Error,
        Source::Rfc5280,
        "§4.2.1.6",
        "a subjectAltName entry does not decode as its type (e.g. a non-IA5 dNSName)",
    ),
    check: |c| {
        if c.san.is_empty() {
            return Outcome::NotApplicable;
        }
        let bad: Vec<String> = c
            .san
            .iter()
            .filter(|n| matches!(n, SanEntry::Invalid { .. }))
            .map(SanEntry::display)
            .collect();
        Outcome::fail_if(!bad.is_empty(), || bad.join("; "))
    },
};

/// §4.1.2.4/§4.1.2.6: attribute values are DirectoryStrings (or PrintableString,
/// IA5String...) and must hold what their string type allows.
pub(crate) const SUBJECT_BAD_ENCODING: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_subject_attribute_bad_encoding",
        Error,
        Source::Rfc5280,
        "§4.1.2.6",
        "a subject attribute's bytes are not valid for its string type",
    ),
    check: |c| {
        let bad: Vec<String> = c
            .subject
            .attributes
            .iter()
            .filter(|a| !a.valid_encoding)
            .map(|a| format!("{} ({})", a.name, a.string_type))
            .collect();
        Outcome::fail_if(!bad.is_empty(), || bad.join(", "))
    },
};

fn upper_bound(c: &Claims, oid: &str, max: usize) -> Outcome {
    let mut values = c
        .subject
        .attributes
        .iter()
        .filter(|a| a.oid == oid)
        .peekable();
    if values.peek().is_none() {
        return Outcome::NotApplicable;
    }
    let long: Vec<String> = values
        .filter(|a| a.value.chars().count() > max)
        .map(|a| format!("{} characters (at most {max})", a.value.chars().count()))
        .collect();
    Outcome::fail_if(!long.is_empty(), || long.join("; "))
}

macro_rules! bound {
    ($name:ident, $code:literal, $oid:literal, $max:literal, $what:literal) => {
        #[doc = concat!("Appendix A.1: `ub-", $what, "` is ", stringify!($max), ".")]
        pub(crate) const $name: Lint<Claims> = Lint {
            meta: Meta::new(
                $code,
                Error,
                Source::Rfc5280,
                "Appendix A.1",
                concat!(
                    "the subject ",
                    $what,
                    " is longer than ",
                    stringify!($max),
                    " characters"
                ),
            ),
            check: |c| upper_bound(c, $oid, $max),
        };
    };
}

bound!(
    CN_TOO_LONG,
    "e_subject_common_name_too_long",
    "2.5.4.3",
    64,
    "common-name"
);
bound!(
    O_TOO_LONG,
    "e_subject_organization_name_too_long",
    "2.5.4.10",
    64,
    "organization-name"
);
bound!(
    OU_TOO_LONG,
    "e_subject_organizational_unit_name_too_long",
    "2.5.4.11",
    64,
    "organizational-unit-name"
);
bound!(
    L_TOO_LONG,
    "e_subject_locality_name_too_long",
    "2.5.4.7",
    128,
    "locality-name"
);
bound!(
    ST_TOO_LONG,
    "e_subject_state_name_too_long",
    "2.5.4.8",
    128,
    "state-name"
);
bound!(
    SERIAL_TOO_LONG,
    "e_subject_serial_number_too_long",
    "2.5.4.5",
    64,
    "serial-number"
);
bound!(
    EMAIL_TOO_LONG,
    "e_subject_email_address_too_long",
    "1.2.840.113549.1.9.1",
    255,
    "emailaddress-length"
);

/// Appendix A.1: "CountryName ::= ... PrintableString (SIZE (2))" — a two-letter code.
pub(crate) const COUNTRY_NOT_TWO_LETTERS: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_subject_country_not_two_letters",
        Error,
        Source::Rfc5280,
        "Appendix A.1",
        "the subject countryName is not two letters",
    ),
    check: |c| {
        let mut countries = c
            .subject
            .attributes
            .iter()
            .filter(|a| a.oid == "2.5.4.6")
            .peekable();
        if countries.peek().is_none() {
            return Outcome::NotApplicable;
        }
        let bad: Vec<String> = countries
            .filter(|a| a.value.len() != 2 || !a.value.chars().all(|ch| ch.is_ascii_alphabetic()))
            .map(|a| format!("`{}`", a.value))
            .collect();
        Outcome::fail_if(!bad.is_empty(), || bad.join(", "))
    },
};

pub(crate) const LINTS: &[&Lint<Claims>] = &[
    &SAN_DNS_EMPTY,
    &SAN_DNS_SYNTAX,
    &SAN_IP_LENGTH,
    &SAN_EMAIL_SYNTAX,
    &SAN_URI_NOT_ABSOLUTE,
    &SAN_ENTRY_INVALID,
    &SUBJECT_BAD_ENCODING,
    &CN_TOO_LONG,
    &O_TOO_LONG,
    &OU_TOO_LONG,
    &L_TOO_LONG,
    &ST_TOO_LONG,
    &SERIAL_TOO_LONG,
    &EMAIL_TOO_LONG,
    &COUNTRY_NOT_TWO_LETTERS,
];
