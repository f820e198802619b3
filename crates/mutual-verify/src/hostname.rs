//! Does the leaf name the host? RFC 6125 as browsers apply it: only subjectAltName entries
//! count (never the subject CN), a wildcard is the whole left-most label and stands for
//! exactly one label, and never for a whole registrable domain (`*.com`, `*.co.uk`).

use mutual_x509::{Certificate, GeneralName};

use crate::policy::Host;

/// The outcome of matching a host against a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostMatch {
    /// The SAN entry (as `DNS:…` / `IP:…`) that names the host.
    Matched(String),
    Mismatch(Mismatch),
}

/// Why no SAN matched: the evidence a diagnosis needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    /// Every DNS and IP SAN, as `DNS:…` / `IP:…`.
    pub(crate) sans: Vec<String>,
    /// The subject CN names the host, which no modern client accepts.
    pub(crate) only_in_common_name: bool,
    /// Wildcards that would have matched but are not allowed, with the reason.
    pub(crate) refused_wildcards: Vec<(String, &'static str)>,
}

pub(crate) fn match_host(host: &Host, certificate: &Certificate) -> HostMatch {
    let mut sans = Vec::new();
    let mut refused_wildcards = Vec::new();
    for name in certificate.subject_alt_names() {
        match (name, host) {
            (GeneralName::Dns(pattern), _) => {
                sans.push(name.display());
                if let Host::Dns(host) = host {
                    match dns_matches(pattern, host) {
                        DnsMatch::Yes => return HostMatch::Matched(name.display()),
                        DnsMatch::RefusedWildcard(why) => {
                            refused_wildcards.push((name.display(), why));
                        }
                        DnsMatch::No => {}
                    }
                }
            }
            (GeneralName::Ip(address), _) => {
                sans.push(name.display());
                if let Host::Ip(host) = host
                    && address.parse::<std::net::IpAddr>().ok() == Some(*host)
                {
                    return HostMatch::Matched(name.display());
                }
            }
            _ => {}
        }
    }
    let only_in_common_name = match host {
        Host::Dns(host) => certificate
            .subject
            .values("CN")
            .any(|cn| dns_matches(cn, host) == DnsMatch::Yes),
        Host::Ip(ip) => certificate
            .subject
            .values("CN")
            .any(|cn| cn.parse::<std::net::IpAddr>().ok() == Some(*ip)),
    };
    HostMatch::Mismatch(Mismatch {
        sans,
        only_in_common_name,
        refused_wildcards,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DnsMatch {
    Yes,
    No,
    RefusedWildcard(&'static str),
}

/// `host` is already lower-case without a trailing dot.
fn dns_matches(pattern: &str, host: &str) -> DnsMatch {
    let pattern = pattern
        .strip_suffix('.')
        .unwrap_or(pattern)
        .to_ascii_lowercase();
    if pattern == host {
        return DnsMatch::Yes;
    }
    let Some((first, rest)) = pattern.split_once('.') else {
        return DnsMatch::No;
    };
    if !first.contains('*') {
        return DnsMatch::No;
    }
    let Some((host_first, host_rest)) = host.split_once('.') else {
        return DnsMatch::No;
    };
    // The wildcard stands for exactly one label: `*.example.com` never covers
    // `a.b.example.com`, nor `example.com` itself.
    if host_rest != rest || host_first.is_empty() {
        return DnsMatch::No;
    }
    if first != "*" {
        return DnsMatch::RefusedWildcard(
            "a wildcard must be the whole left-most label (`*.example.com`), not part of one",
        );
    }
    if is_public_suffix(rest) {
        return DnsMatch::RefusedWildcard(
            "a wildcard may not cover a whole public suffix (RFC 6125 §7.2, CA/B Forum BR 3.2.2.6)",
        );
    }
    DnsMatch::Yes
}

/// `com`, `co.uk`, `github.io` — and any single label, which the list's default rule
/// treats as a top-level domain.
fn is_public_suffix(domain: &str) -> bool {
    !domain.contains('.') || psl::suffix_str(domain) == Some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_whole_label_and_never_a_public_suffix() {
        let yes = [
            ("www.example.com", "www.example.com"),
            ("WWW.Example.com.", "www.example.com"),
            ("*.example.com", "a.example.com"),
            ("*.example.internal", "api.example.internal"),
        ];
        for (pattern, host) in yes {
            assert_eq!(
                dns_matches(pattern, host),
                DnsMatch::Yes,
                "{pattern} {host}"
            );
        }
        let no = [
            ("*.example.com", "a.b.example.com"),
            ("*.example.com", "example.com"),
            ("www.example.com", "example.com"),
            ("*", "localhost"),
            ("a.*.example.com", "a.b.example.com"),
        ];
        for (pattern, host) in no {
            assert_eq!(dns_matches(pattern, host), DnsMatch::No, "{pattern} {host}");
        }
        for (pattern, host) in [
            ("*.com", "example.com"),
            ("*.co.uk", "example.co.uk"),
            ("*.internal", "a.internal"),
            ("w*.example.com", "www.example.com"),
        ] {
            assert!(
                matches!(dns_matches(pattern, host), DnsMatch::RefusedWildcard(_)),
                "{pattern} {host}"
            );
        }
    }
}
