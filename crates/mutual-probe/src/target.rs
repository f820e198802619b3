//! `HOST:PORT` as typed by a user, parsed once so the rest of the crate never re-checks it.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use crate::error::{ProbeError, TargetProblem};

/// A TLS endpoint: a host name or IP address and a TCP port.
///
/// Parsed from `HOST:PORT` (`example.com:443`, `127.0.0.1:8443`) or, for IPv6,
/// `[ADDRESS]:PORT` (`[::1]:443`). The host is kept without brackets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// A DNS name or an IP address literal (IPv6 without brackets).
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl Target {
    /// A target from parts that are already separate.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for Target {
    type Err = ProbeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse(input).map_err(|problem| ProbeError::BadTarget {
            input: input.to_owned(),
            problem,
        })
    }
}

fn parse(input: &str) -> Result<Target, TargetProblem> {
    if input.is_empty() {
        return Err(TargetProblem::Empty);
    }
    if input.contains("://") {
        return Err(TargetProblem::Url);
    }
    let (host, port) = match input.strip_prefix('[') {
        Some(bracketed) => {
            let (address, rest) = bracketed
                .split_once(']')
                .ok_or(TargetProblem::UnclosedBracket)?;
            if address.parse::<Ipv6Addr>().is_err() {
                return Err(TargetProblem::NotIpv6 {
                    found: address.to_owned(),
                });
            }
            let port = match rest.strip_prefix(':') {
                Some(port) => port,
                None if rest.is_empty() => return Err(TargetProblem::MissingPort),
                None => {
                    return Err(TargetProblem::AfterBracket {
                        found: rest.to_owned(),
                    });
                }
            };
            (address, port)
        }
        None => {
            let (host, port) = input.rsplit_once(':').ok_or(TargetProblem::MissingPort)?;
            if host.contains(':') {
                return Err(TargetProblem::UnbracketedIpv6);
            }
            (host, port)
        }
    };
    if host.is_empty() {
        return Err(TargetProblem::EmptyHost);
    }
    let port = match port.parse::<u16>() {
        Ok(0) | Err(_) => {
            return Err(TargetProblem::BadPort {
                found: port.to_owned(),
            });
        }
        Ok(port) => port,
    };
    Ok(Target::new(host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(input: &str) -> TargetProblem {
        match input.parse::<Target>() {
            Err(ProbeError::BadTarget { problem, .. }) => problem,
            other => panic!("`{input}` should be a bad target, got {other:?}"),
        }
    }

    #[test]
    fn host_and_port() {
        let target: Target = "example.com:443".parse().expect("valid target");
        assert_eq!(target, Target::new("example.com", 443));
        assert_eq!(target.to_string(), "example.com:443");
    }

    #[test]
    fn ipv4_and_port() {
        let target: Target = "127.0.0.1:8443".parse().expect("valid target");
        assert_eq!(target, Target::new("127.0.0.1", 8443));
    }

    #[test]
    fn bracketed_ipv6_and_port() {
        let target: Target = "[::1]:443".parse().expect("valid target");
        assert_eq!(target, Target::new("::1", 443));
        assert_eq!(target.to_string(), "[::1]:443");
    }

    #[test]
    fn missing_port() {
        assert_eq!(problem("example.com"), TargetProblem::MissingPort);
        assert_eq!(problem("[::1]"), TargetProblem::MissingPort);
    }

    #[test]
    fn bad_port() {
        for port in ["", "https", "65536", "0", "-1", "44 3"] {
            assert_eq!(
                problem(&format!("example.com:{port}")),
                TargetProblem::BadPort {
                    found: port.to_owned()
                },
                "port {port:?}"
            );
        }
    }

    #[test]
    fn empty_host() {
        assert_eq!(problem(":443"), TargetProblem::EmptyHost);
        assert_eq!(problem(""), TargetProblem::Empty);
    }

    #[test]
    fn ipv6_needs_brackets() {
        assert_eq!(problem("::1:443"), TargetProblem::UnbracketedIpv6);
        assert_eq!(problem("[::1:443"), TargetProblem::UnclosedBracket);
        assert_eq!(
            problem("[example.com]:443"),
            TargetProblem::NotIpv6 {
                found: "example.com".to_owned()
            }
        );
        assert_eq!(
            problem("[::1]443"),
            TargetProblem::AfterBracket {
                found: "443".to_owned()
            }
        );
    }

    #[test]
    fn url_is_not_a_target() {
        assert_eq!(problem("https://example.com:443"), TargetProblem::Url);
    }

    #[test]
    fn message_names_the_input_and_what_was_found() {
        let error = "example.com:https".parse::<Target>().expect_err("bad port");
        assert_eq!(error.code(), "bad_target");
        assert_eq!(
            error.to_string(),
            "target `example.com:https` is not HOST:PORT (e.g. `example.com:443` or `[::1]:443`): \
             the port `https` is not a number from 1 to 65535"
        );
    }
}
