//! CA/B Forum TLS BR §7.1.2.7.12 and §7.1.4.2: the names a server certificate may hold —
//! public DNS names and public IP addresses only, wildcards only as a whole left-most label
//! and never over a public suffix.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::meta::prelude::*;
use crate::subject::{Claims, SanEntry, ip_text};

/// The name without a leading `*.`, lower-cased, without a trailing dot.
fn base(name: &str) -> String {
    name.strip_prefix("*.")
        .unwrap_or(name)
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

fn dns_or_na(c: &Claims, check: impl Fn(&str) -> Option<String>) -> Outcome {
    let mut any = false;
    let bad: Vec<String> = c
        .dns_names()
        .inspect(|_| any = true)
        .filter_map(|d| check(d).map(|why| format!("`{d}`{why}")))
        .collect();
    if !any {
        return Outcome::NotApplicable;
    }
    Outcome::fail_if(!bad.is_empty(), || bad.join(", "))
}

/// §7.1.2.7.12 (and §4.2.2): a dNSName "MUST NOT be an Internal Name" — one whose
/// right-most label is not a registered public suffix.
pub(crate) const INTERNAL_NAME: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_dns_name_internal",
        Error,
        Source::CabfBr,
        "§7.1.2.7.12",
        "a dNSName under no public suffix (an internal name)",
    )
    .scope(SERVER)
    .public_only(),
    check: |c| {
        dns_or_na(c, |d| {
            let b = base(d);
            let known = psl::suffix(b.as_bytes()).is_some_and(|s| s.is_known());
            (!known || !b.contains('.')).then(|| " is an internal name".to_owned())
        })
    },
};

fn reserved_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || o[0] == 0
        || o[0] >= 240
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
}

fn reserved_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0)
        || ip.to_ipv4_mapped().is_some_and(reserved_v4)
}

/// §7.1.2.7.12: an iPAddress "MUST NOT be a Reserved IP Address" (IANA's special-purpose
/// registries: private, loopback, link-local, documentation...).
pub(crate) const RESERVED_IP: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_ip_address_reserved",
        Error,
        Source::CabfBr,
        "§7.1.2.7.12",
        "an iPAddress in a reserved range (private, loopback, link-local...)",
    )
    .scope(SERVER)
    .public_only(),
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
            .filter(|b| match b.len() {
                4 => reserved_v4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
                16 => {
                    let mut o = [0u8; 16];
                    o.copy_from_slice(b);
                    reserved_v6(Ipv6Addr::from(o))
                }
                _ => false,
            })
            .map(|b| ip_text(b))
            .collect();
        Outcome::fail_if(!bad.is_empty(), || bad.join(", "))
    },
};

/// §7.1.4.2 / Definitions ("Wildcard Domain Name: A string starting with "*."
/// immediately followed by a Fully-Qualified Domain Name"): `*` only as the whole
/// left-most label; clients match nothing else.
pub(crate) const WILDCARD_NOT_LEFTMOST: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_wildcard_not_whole_leftmost_label",
        Error,
        Source::CabfBr,
        "§1.6.1 Wildcard Domain Name",
        "a `*` that is not the whole left-most label (`f*o.example`, `a.*.example`)",
    )
    .scope(SERVER),
    check: |c| {
        dns_or_na(c, |d| {
            let rest = d.strip_prefix("*.").unwrap_or(d);
            rest.contains('*')
                .then(|| " has a misplaced `*`".to_owned())
        })
    },
};

/// §3.2.2.6: a wildcard over a registry-controlled label or public suffix (`*.co.uk`)
/// MUST be refused.
pub(crate) const WILDCARD_PUBLIC_SUFFIX: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_wildcard_on_public_suffix",
        Error,
        Source::CabfBr,
        "§3.2.2.6",
        "a wildcard that covers a whole public suffix (`*.com`, `*.co.uk`)",
    )
    .scope(SERVER),
    check: |c| {
        dns_or_na(c, |d| {
            let rest = d.strip_prefix("*.")?;
            let b = rest.trim_end_matches('.').to_ascii_lowercase();
            let suffix = psl::suffix(b.as_bytes())?;
            (suffix.is_known() && suffix.as_bytes() == b.as_bytes())
                .then(|| " covers a public suffix".to_owned())
        })
    },
};

/// §7.1.4.2.1 (ballot SC-12): no underscore in a dNSName of a certificate issued after
/// 2019-04-01.
pub(crate) const DNS_UNDERSCORE: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_dns_name_underscore",
        Error,
        Source::CabfBr,
        "§7.1.4.2.1",
        "a dNSName with an underscore",
    )
    .scope(SERVER)
    .effective(date(2019, Month::April, 1))
    .public_only(),
    check: |c| dns_or_na(c, |d| d.contains('_').then(|| " has `_`".to_owned())),
};

/// §7.1.2.7.12: a subscriber certificate's subjectAltName holds dNSName and iPAddress
/// entries only.
pub(crate) const SAN_TYPE_NOT_ALLOWED: Lint<Claims> = Lint {
    meta: Meta::new(
        "e_server_san_type_not_allowed",
        Error,
        Source::CabfBr,
        "§7.1.2.7.12",
        "a server certificate SAN entry that is neither dNSName nor iPAddress",
    )
    .scope(SERVER)
    .public_only(),
    check: |c| {
        if c.san.is_empty() {
            return Outcome::NotApplicable;
        }
        let other: Vec<String> = c
            .san
            .iter()
            .filter(|n| !matches!(n, SanEntry::Dns(_) | SanEntry::Ip(_)))
            .map(SanEntry::display)
            .collect();
        Outcome::fail_if(!other.is_empty(), || other.join(", "))
    },
};

pub(crate) const LINTS: &[&Lint<Claims>] = &[
    &INTERNAL_NAME,
    &RESERVED_IP,
    &WILDCARD_NOT_LEFTMOST,
    &WILDCARD_PUBLIC_SUFFIX,
    &DNS_UNDERSCORE,
    &SAN_TYPE_NOT_ALLOWED,
];
