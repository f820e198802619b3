//! The chain a server presents, exactly as sent, and how the handshake that carried it went.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rustls::ProtocolVersion;
use rustls::pki_types::ServerName;

use crate::connect;
use crate::error::ProbeError;
use crate::session::{Session, Setup};
use crate::target::Target;

/// How to probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The server name to send (SNI). `None` sends the target's host when it is a DNS name,
    /// and no SNI when it is an IP address.
    pub sni: Option<String>,
    /// Bounds the TCP connect to each address, and the TLS handshake as a whole.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sni: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What a server presented during a completed handshake. Nothing here has been judged.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresentedChain {
    /// The certificates (DER) in the order the server sent them: end entity first.
    pub certificates: Vec<Vec<u8>>,
    /// The negotiated protocol version, e.g. `TLSv1.3`.
    pub protocol: String,
    /// The negotiated cipher suite, by its IANA name, e.g. `TLS_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
    /// The negotiated key exchange group, e.g. `X25519`, when known.
    pub key_exchange_group: Option<String>,
    /// The server name sent as SNI; `None` when none was sent.
    pub server_name: Option<String>,
    /// The address connected to.
    pub peer: SocketAddr,
    /// Set when the server asked for a client certificate (the probe never sends one).
    pub client_certificate_request: Option<ClientCertificateRequest>,
}

/// A server's CertificateRequest, as far as a client can see it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCertificateRequest {
    /// The DER-encoded distinguished names of the CAs the server says it accepts
    /// (`certificate_authorities`); often empty.
    pub acceptable_issuers: Vec<Vec<u8>>,
    /// The signature schemes the server accepts for the client's CertificateVerify.
    pub signature_schemes: Vec<String>,
}

/// Connects to `target`, completes a TLS handshake without judging the certificates, and
/// returns the chain exactly as the server sent it.
///
/// The handshake signature is still checked against the presented end-entity key (see
/// the `danger` module). No client certificate is sent; a server that requires one
/// fails the probe with [`ProbeError::TlsHandshakeFailed`] carrying the chain it presented
/// and its CertificateRequest, both for TLS 1.2 (rejected during the handshake) and
/// TLS 1.3 (rejected just after it, which the probe waits briefly to see).
pub fn presented_chain(target: &Target, options: &Options) -> Result<PresentedChain, ProbeError> {
    let server_name = server_name(target, options)?;
    let addresses = connect::resolve(target)?;
    let (tcp, peer) = connect::connect(target, &addresses, options.timeout)?;
    let mut session = Session::new(
        target,
        peer,
        options.timeout,
        tcp,
        server_name.clone(),
        Setup::default(),
    )?;
    session.handshake()?;
    session.await_client_auth_verdict()?;

    let conn = &session.conn;
    let certificates: Vec<Vec<u8>> = conn
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|certificate| certificate.to_vec())
        .collect();
    let chain = PresentedChain {
        certificates,
        protocol: conn
            .protocol_version()
            .map(protocol_name)
            .unwrap_or_default(),
        cipher_suite: conn
            .negotiated_cipher_suite()
            .map(|suite| cipher_suite_name(suite.suite()))
            .unwrap_or_default(),
        key_exchange_group: conn
            .negotiated_key_exchange_group()
            .map(|group| group_name(group.name())),
        server_name: match server_name {
            ServerName::DnsName(name) => Some(name.as_ref().to_owned()),
            _ => None,
        },
        peer,
        client_certificate_request: session.client_auth.request(),
    };
    session.close();

    if chain.certificates.is_empty() {
        return Err(ProbeError::NoCertificate {
            target: target.clone(),
            peer,
        });
    }
    Ok(chain)
}

pub(crate) fn server_name(
    target: &Target,
    options: &Options,
) -> Result<ServerName<'static>, ProbeError> {
    let name = options.sni.as_deref().unwrap_or(&target.host);
    if let Ok(address) = name.parse::<IpAddr>() {
        // rustls sends no SNI for an IP address, as RFC 6066 requires.
        return Ok(ServerName::from(address));
    }
    ServerName::try_from(name.to_owned()).map_err(|source| ProbeError::BadServerName {
        name: name.to_owned(),
        source,
    })
}

pub(crate) fn protocol_name(version: ProtocolVersion) -> String {
    match version {
        ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
        ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
        other => format!("{other:?}"),
    }
}

pub(crate) fn cipher_suite_name(suite: rustls::CipherSuite) -> String {
    match suite.as_str() {
        // rustls spells TLS 1.3 suites `TLS13_...`; the IANA registry (and openssl) say `TLS_...`.
        Some(name) => match name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => name.to_owned(),
        },
        None => format!("{suite:?}"),
    }
}

pub(crate) fn group_name(group: rustls::NamedGroup) -> String {
    match group.as_str() {
        Some(name) => name.to_owned(),
        None => format!("{group:?}"),
    }
}
