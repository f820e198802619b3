//! The one error type of this crate, with the evidence each failure needs to be explained.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use rustls::pki_types::InvalidDnsNameError;

use crate::presented::ClientCertificateRequest;
use crate::sniff::PeerGreeting;
use crate::target::Target;

/// Why a probe did not return the chain a server presents.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The text given as a target is not `HOST:PORT`.
    #[error("target `{input}` is not HOST:PORT (e.g. `example.com:443` or `[::1]:443`): {problem}")]
    BadTarget {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        problem: TargetProblem,
    },

    /// The name to send as SNI (from `--sni`, or the target's host) is not a valid DNS name.
    #[error("`{name}` cannot be sent as the TLS server name (SNI): it is not a valid DNS name")]
    BadServerName {
        /// The name as given.
        name: String,
        /// rustls' reason.
        #[source]
        source: InvalidDnsNameError,
    },

    /// The host did not resolve to any address.
    #[error("could not resolve `{}` (target `{target}`)", target.host)]
    ResolveFailed {
        /// The target whose host did not resolve.
        target: Target,
        /// The resolver's error; `None` when it answered with no address at all.
        #[source]
        source: Option<io::Error>,
    },

    /// No address of the target accepted a TCP connection.
    #[error("could not connect to `{target}` at {address}{}", others(attempted, *address))]
    ConnectFailed {
        /// The target.
        target: Target,
        /// The address whose error is the source (the last one that failed other than by timeout).
        address: SocketAddr,
        /// Every address tried, in order.
        attempted: Vec<SocketAddr>,
        /// The connect error for `address`.
        #[source]
        source: io::Error,
    },

    /// Every address of the target timed out.
    #[error(
        "connecting to `{target}` timed out after {timeout:?} (tried {})",
        list(attempted)
    )]
    ConnectTimeout {
        /// The target.
        target: Target,
        /// Every address tried, in order.
        attempted: Vec<SocketAddr>,
        /// The timeout applied to each address.
        timeout: Duration,
    },

    /// rustls could not be set up for this connection (not something the server did).
    #[error("could not set up TLS for `{target}`")]
    TlsSetup {
        /// The target.
        target: Target,
        /// rustls' reason.
        #[source]
        source: rustls::Error,
    },

    /// The TLS handshake failed: the server sent an alert, or sent something rustls rejects.
    #[error(
        "TLS handshake with `{target}` ({peer}) failed{}",
        client_auth_hint(client_certificate_request.as_ref())
    )]
    TlsHandshakeFailed {
        /// The target.
        target: Target,
        /// The address connected to.
        peer: SocketAddr,
        /// The certificates the server sent before the failure (DER, in its order), if any.
        presented: Vec<Vec<u8>>,
        /// Whether the server asked for a client certificate (none is ever sent), and how.
        client_certificate_request: Option<ClientCertificateRequest>,
        /// The rustls error; a server alert shows as [`rustls::Error::AlertReceived`].
        #[source]
        source: rustls::Error,
    },

    /// The connection failed at the transport level during the handshake (reset, closed).
    #[error("connection to `{target}` ({peer}) failed during the TLS handshake")]
    HandshakeIo {
        /// The target.
        target: Target,
        /// The address connected to.
        peer: SocketAddr,
        /// The transport error.
        #[source]
        source: io::Error,
    },

    /// The server accepted the TCP connection but did not finish the handshake in time.
    #[error("TLS handshake with `{target}` ({peer}) timed out after {timeout:?}")]
    HandshakeTimeout {
        /// The target.
        target: Target,
        /// The address connected to.
        peer: SocketAddr,
        /// The read/write timeout that expired.
        timeout: Duration,
    },

    /// The peer answered with something that is not TLS (a plain-HTTP port, SSH, ...).
    #[error("`{target}` ({peer}) {}", not_tls(answered))]
    NotTls {
        /// The target.
        target: Target,
        /// The address connected to.
        peer: SocketAddr,
        /// What it sent instead, printable.
        answered: PeerGreeting,
        /// rustls' complaint.
        #[source]
        source: rustls::Error,
    },

    /// The handshake completed but no HTTP response arrived in time.
    #[error("`{target}` ({peer}) sent no HTTP response within {timeout:?}")]
    HttpTimeout {
        /// The target.
        target: Target,
        /// The address connected to.
        peer: SocketAddr,
        /// The timeout that expired.
        timeout: Duration,
    },

    /// The client key cannot be used for signing (unknown algorithm, not a private key).
    #[error("the client key cannot be used for TLS client authentication")]
    ClientKeyUnusable {
        /// rustls' reason.
        #[source]
        source: rustls::Error,
    },

    /// The client key is not the key of the client certificate.
    #[error(
        "the client key does not match the client certificate `{subject}`: their public keys differ"
    )]
    ClientKeyMismatch {
        /// The certificate's subject.
        subject: String,
    },

    /// The handshake completed without the server presenting any certificate.
    #[error("`{target}` ({peer}) completed the TLS handshake without presenting a certificate")]
    NoCertificate {
        /// The target.
        target: Target,
        /// The address connected to.
        peer: SocketAddr,
    },
}

impl ProbeError {
    /// A stable snake_case name for this failure, for `--format json` and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadTarget { .. } => "bad_target",
            Self::BadServerName { .. } => "bad_server_name",
            Self::ResolveFailed { .. } => "resolve_failed",
            Self::ConnectFailed { .. } => "connect_failed",
            Self::ConnectTimeout { .. } => "connect_timeout",
            Self::TlsSetup { .. } => "tls_setup_failed",
            Self::TlsHandshakeFailed { .. } => "tls_handshake_failed",
            Self::HandshakeIo { .. } => "tls_handshake_failed",
            Self::HandshakeTimeout { .. } => "handshake_timeout",
            Self::NoCertificate { .. } => "no_certificate",
            Self::NotTls { .. } => "not_tls",
            Self::HttpTimeout { .. } => "http_timeout",
            Self::ClientKeyUnusable { .. } => "client_key_unusable",
            Self::ClientKeyMismatch { .. } => "client_key_mismatch",
        }
    }
}

/// What is wrong with a target string; part of [`ProbeError::BadTarget`].
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetProblem {
    /// Nothing was given.
    Empty,
    /// A URL was given.
    Url,
    /// No `:PORT` at the end.
    MissingPort,
    /// Nothing before `:PORT`.
    EmptyHost,
    /// The port is not a number from 1 to 65535.
    BadPort {
        /// The port text as given.
        found: String,
    },
    /// An IPv6 address without brackets, so the port cannot be told apart.
    UnbracketedIpv6,
    /// `[` without `]`.
    UnclosedBracket,
    /// Something inside `[...]` that is not an IPv6 address.
    NotIpv6 {
        /// The text between the brackets.
        found: String,
    },
    /// Something other than `:PORT` after `]`.
    AfterBracket {
        /// The text after `]`.
        found: String,
    },
}

impl fmt::Display for TargetProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("it is empty"),
            Self::Url => f.write_str("it is a URL; give only the host and port"),
            Self::MissingPort => f.write_str("the port is missing"),
            Self::EmptyHost => f.write_str("the host is empty"),
            Self::BadPort { found } => {
                write!(f, "the port `{found}` is not a number from 1 to 65535")
            }
            Self::UnbracketedIpv6 => f.write_str("an IPv6 address must be in brackets"),
            Self::UnclosedBracket => f.write_str("`[` is not closed by `]`"),
            Self::NotIpv6 { found } => write!(f, "`{found}` in brackets is not an IPv6 address"),
            Self::AfterBracket { found } => {
                write!(f, "found `{found}` after `]` instead of `:PORT`")
            }
        }
    }
}

fn list(addresses: &[SocketAddr]) -> String {
    addresses
        .iter()
        .map(SocketAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn others(attempted: &[SocketAddr], reported: SocketAddr) -> String {
    let others: Vec<SocketAddr> = attempted
        .iter()
        .copied()
        .filter(|address| *address != reported)
        .collect();
    if others.is_empty() {
        String::new()
    } else {
        format!(" (also tried {})", list(&others))
    }
}

fn not_tls(answered: &PeerGreeting) -> String {
    let guess = answered
        .guess
        .map(|guess| format!(" ({guess}?)"))
        .unwrap_or_default();
    if answered.text.is_empty() {
        format!("does not speak TLS: its answer to our ClientHello is not TLS{guess}")
    } else {
        format!(
            "answered `{}` — it does not speak TLS{guess}",
            answered.text
        )
    }
}

fn client_auth_hint(request: Option<&ClientCertificateRequest>) -> &'static str {
    match request {
        Some(_) => " after the server asked for a client certificate and none was sent",
        None => "",
    }
}

/// An error and its causes on one line: `a: b: c`.
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
