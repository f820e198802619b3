//! What a certificate is being validated *for*: the purpose, extra EKUs, the host name it
//! must carry, the time, the depth allowed.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use mutual_x509::Usage;
use serde::Serialize;
use time::OffsetDateTime;

/// The TLS role the leaf must be able to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A TLS server: EKU serverAuth (or no EKU at all).
    Server,
    /// A TLS client, as in mutual TLS: EKU clientAuth (or no EKU at all).
    Client,
    /// No particular purpose: only the chain itself is checked.
    Any,
}

impl Purpose {
    /// The EKU the purpose requires, if any.
    pub fn usage(self) -> Option<Usage> {
        match self {
            Purpose::Server => Some(Usage::ServerAuth),
            Purpose::Client => Some(Usage::ClientAuth),
            Purpose::Any => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Server => "server",
            Purpose::Client => "client",
            Purpose::Any => "any",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Purpose {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "server" => Ok(Purpose::Server),
            "client" => Ok(Purpose::Client),
            "any" => Ok(Purpose::Any),
            other => Err(PolicyError::Purpose(other.to_owned())),
        }
    }
}

/// The name the leaf must be valid for: a DNS name (lower-cased, without a trailing dot)
/// or an IP address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Host {
    Dns(String),
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Dns(name) => f.write_str(name),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

impl FromStr for Host {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bracketless = s.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bracketless.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        let name = s.strip_suffix('.').unwrap_or(s).to_ascii_lowercase();
        let valid_label = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if name.is_empty() || name.len() > 253 || !name.split('.').all(valid_label) {
            return Err(PolicyError::Host(s.to_owned()));
        }
        Ok(Host::Dns(name))
    }
}

/// Everything a chain is judged against besides the trust store.
#[derive(Debug, Clone)]
pub struct Policy {
    pub purpose: Purpose,
    /// Further EKUs (dotted OIDs) the leaf must allow, e.g. codeSigning.
    pub extra_ekus: Vec<String>,
    pub host: Option<Host>,
    pub at: OffsetDateTime,
    /// The most intermediate CA certificates a path may hold (the leaf and the trust
    /// anchor do not count), as `openssl verify -verify_depth` counts.
    pub max_depth: Option<usize>,
}

impl Policy {
    /// A policy for `purpose` at `at`, with no host, no extra EKU and no depth limit.
    pub fn new(purpose: Purpose, at: OffsetDateTime) -> Self {
        Self {
            purpose,
            extra_ekus: Vec::new(),
            host: None,
            at,
            max_depth: None,
        }
    }

    /// Every EKU OID the leaf (and any intermediate that carries an EKU) must allow.
    pub fn required_ekus(&self) -> Vec<String> {
        let mut ekus: Vec<String> = self
            .purpose
            .usage()
            .map(|usage| usage.oid().to_owned())
            .into_iter()
            .collect();
        for oid in &self.extra_ekus {
            if !ekus.contains(oid) {
                ekus.push(oid.clone());
            }
        }
        ekus
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("`{0}` is not a purpose: expected `server`, `client` or `any`")]
    Purpose(String),
    #[error("`{0}` is not a host name or IP address")]
    Host(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse_as_names_or_addresses() {
        assert_eq!(
            "WWW.Example.COM.".parse::<Host>(),
            Ok(Host::Dns("www.example.com".into()))
        );
        assert_eq!(
            "[::1]".parse::<Host>(),
            Ok(Host::Ip("::1".parse().unwrap()))
        );
        assert_eq!(
            "10.0.0.1".parse::<Host>(),
            Ok(Host::Ip("10.0.0.1".parse().unwrap()))
        );
        for bad in ["", "a..b", "-a.example", "exa mple.com", "*.example.com"] {
            assert!(bad.parse::<Host>().is_err(), "{bad}");
        }
    }

    #[test]
    fn purposes_require_their_eku_plus_the_extra_ones() {
        let mut policy = Policy::new(Purpose::Server, OffsetDateTime::UNIX_EPOCH);
        policy.extra_ekus = vec!["1.3.6.1.5.5.7.3.3".into(), "1.3.6.1.5.5.7.3.1".into()];
        assert_eq!(
            policy.required_ekus(),
            ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.3"]
        );
        assert!("sslserver".parse::<Purpose>().is_err());
    }
}
