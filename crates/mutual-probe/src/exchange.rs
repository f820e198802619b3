//! One exchange with a server as `mutual probe` makes it: a handshake, with or without a
//! client certificate, what each side said, how the server answered, and optionally one
//! HTTP request over the connection.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::AlertDescription;
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::sign::CertifiedKey;

use crate::connect;
use crate::error::ProbeError;
use crate::presented::{
    ClientCertificateRequest, Options, cipher_suite_name, group_name, protocol_name, server_name,
};
use crate::session::{Session, Setup};
use crate::sniff::describe_greeting;
use crate::target::Target;

/// A client certificate (with the chain to send after it) and its private key, checked to
/// belong together.
#[derive(Debug, Clone)]
pub struct ClientCredential {
    key: Arc<CertifiedKey>,
}

impl ClientCredential {
    /// `certificates` (DER, the client certificate first) and a private key in PEM (PKCS#8,
    /// SEC1 or PKCS#1) or DER.
    ///
    /// # Errors
    /// [`ProbeError::ClientKeyUnusable`] when the key cannot sign, and
    /// [`ProbeError::ClientKeyMismatch`] when it is not the certificate's key.
    pub fn new(certificates: Vec<Vec<u8>>, key: &[u8]) -> Result<Self, ProbeError> {
        let key = if key.starts_with(b"-----") || key.windows(5).any(|w| w == b"-----") {
            PrivateKeyDer::from_pem_slice(key).map_err(|error| ProbeError::ClientKeyUnusable {
                source: rustls::Error::General(format!("not a PEM private key: {error}")),
            })?
        } else {
            PrivateKeyDer::try_from(key.to_vec()).map_err(|error| {
                ProbeError::ClientKeyUnusable {
                    source: rustls::Error::General(format!("not a DER private key: {error}")),
                }
            })?
        };
        let subject = certificates
            .first()
            .and_then(|der| {
                mutual_x509::Certificate::from_der(der, time::OffsetDateTime::now_utc()).ok()
            })
            .map(|certificate| certificate.subject.rfc4514)
            .unwrap_or_default();
        let chain = certificates.into_iter().map(CertificateDer::from).collect();
        let provider = aws_lc_rs::default_provider();
        let key = CertifiedKey::from_der(chain, key, &provider).map_err(|error| match error {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                ProbeError::ClientKeyMismatch { subject }
            }
            source => ProbeError::ClientKeyUnusable { source },
        })?;
        Ok(Self { key: Arc::new(key) })
    }

    /// `certificates` with a key that need not be the certificate's: the handshake's
    /// CertificateVerify is then signed with the wrong key. Only for `probe audit`, which
    /// checks that a server refuses exactly that.
    ///
    /// # Errors
    /// [`ProbeError::ClientKeyUnusable`] when the key cannot sign.
    pub fn with_any_key(certificates: Vec<Vec<u8>>, key_der: &[u8]) -> Result<Self, ProbeError> {
        let key = PrivateKeyDer::try_from(key_der.to_vec()).map_err(|error| {
            ProbeError::ClientKeyUnusable {
                source: rustls::Error::General(format!("not a DER private key: {error}")),
            }
        })?;
        let provider = aws_lc_rs::default_provider();
        let signer = provider
            .key_provider
            .load_private_key(key)
            .map_err(|source| ProbeError::ClientKeyUnusable { source })?;
        let chain = certificates.into_iter().map(CertificateDer::from).collect();
        Ok(Self {
            key: Arc::new(CertifiedKey::new(chain, signer)),
        })
    }

    /// The certificates to send, the client certificate first (DER).
    pub fn certificates(&self) -> Vec<Vec<u8>> {
        self.key.cert.iter().map(|c| c.to_vec()).collect()
    }
}

/// What was negotiated, as far as the handshake got.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// `TLSv1.2`, `TLSv1.3`.
    pub protocol: Option<String>,
    /// By its IANA name.
    pub cipher_suite: Option<String>,
    /// e.g. `X25519`, `secp256r1`.
    pub key_exchange_group: Option<String>,
    /// The ALPN protocol the server chose, if any.
    pub alpn: Option<String>,
}

/// How the server ended a handshake it did not accept.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The alert it sent, when it sent one.
    pub alert: Option<AlertDescription>,
    /// rustls' or the transport's description of the failure.
    pub message: String,
}

impl Rejection {
    /// The alert's name as TLS spells it (`bad_certificate`), if there was one.
    pub fn alert_name(&self) -> Option<String> {
        self.alert.map(alert_name)
    }
}

/// The response to the probe's HTTP request.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The reason phrase as sent.
    pub reason: String,
    /// The headers as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The body, at most 64 KiB of it.
    pub body: Vec<u8>,
}

/// What happened to the probe's HTTP request.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpOutcome {
    /// A response arrived.
    Response(HttpResponse),
    /// None did, or it was not HTTP; the text says what happened.
    Failed(String),
}

/// One connection's worth of evidence.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The address connected to.
    pub peer: SocketAddr,
    /// The SNI sent, if any.
    pub server_name: Option<String>,
    /// What was negotiated.
    pub negotiated: Negotiated,
    /// The server's certificates as sent (DER, its order).
    pub presented: Vec<Vec<u8>>,
    /// The server's CertificateRequest, when it sent one.
    pub client_certificate_request: Option<ClientCertificateRequest>,
    /// Whether a client certificate was sent (only when asked and one was given).
    pub client_certificate_sent: bool,
    /// Set when the server refused the handshake, during it or just after.
    pub rejection: Option<Rejection>,
    /// Set when an HTTP request was asked for and the handshake was accepted.
    pub http: Option<HttpOutcome>,
}

/// Connects to `target`, shakes hands (answering a CertificateRequest with `credential`, if
/// given), and sends `GET http_path` when asked and the server accepted the handshake.
///
/// # Errors
/// Only what stops the probe from talking TLS at all: a bad server name, resolution,
/// connection, timeouts, a peer that does not speak TLS or closes before its certificate.
/// A refused handshake is evidence, returned in [`Exchange::rejection`].
pub fn exchange(
    target: &Target,
    options: &Options,
    credential: Option<&ClientCredential>,
    http_path: Option<&str>,
) -> Result<Exchange, ProbeError> {
    let name = server_name(target, options)?;
    let addresses = connect::resolve(target)?;
    let (tcp, peer) = connect::connect(target, &addresses, options.timeout)?;
    let setup = Setup {
        certificate: credential.map(|credential| credential.key.clone()),
        alpn: match http_path {
            Some(_) => vec![b"http/1.1".to_vec()],
            None => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        },
    };
    let mut session = Session::new(target, peer, options.timeout, tcp, name.clone(), setup)?;
    let mut rejection = match session.handshake() {
        Ok(()) => None,
        Err(error) => Some(rejection_or_failure(error, &session)?),
    };
    if rejection.is_none()
        && let Err(error) = session.await_client_auth_verdict()
    {
        rejection = Some(rejection_or_failure(error, &session)?);
    }
    let mut http = None;
    if let (None, Some(path)) = (&rejection, http_path) {
        let host = options.sni.as_deref().unwrap_or(&target.host);
        match session.http_get(host, path) {
            Ok(bytes) => http = Some(parse_http_response(&bytes)),
            Err(ProbeError::TlsHandshakeFailed { source, .. }) => {
                rejection = Some(from_rustls(source));
            }
            Err(error) => http = Some(HttpOutcome::Failed(crate::error::with_causes(&error))),
        }
    }
    let request = session.client_auth.request();
    let exchange = Exchange {
        peer,
        server_name: match name {
            ServerName::DnsName(name) => Some(name.as_ref().to_owned()),
            _ => None,
        },
        negotiated: negotiated(&session),
        presented: session.presented(),
        client_certificate_sent: credential.is_some() && request.is_some(),
        client_certificate_request: request,
        rejection,
        http,
    };
    session.close();
    Ok(exchange)
}

/// A handshake failure that is the server saying no becomes evidence; one that means
/// there is no TLS server to talk to stays an error.
fn rejection_or_failure(error: ProbeError, session: &Session<'_>) -> Result<Rejection, ProbeError> {
    let heard_from_server =
        !session.presented().is_empty() || session.client_auth.request().is_some();
    match error {
        ProbeError::TlsHandshakeFailed {
            target,
            peer,
            source,
            ..
        } => match source {
            rustls::Error::AlertReceived(_) => Ok(from_rustls(source)),
            rustls::Error::InvalidMessage(_)
            | rustls::Error::InappropriateMessage { .. }
            | rustls::Error::InappropriateHandshakeMessage { .. }
                if !heard_from_server =>
            {
                Err(ProbeError::NotTls {
                    target,
                    peer,
                    answered: describe_greeting(session.first_bytes()),
                    source,
                })
            }
            source => Ok(from_rustls(source)),
        },
        ProbeError::HandshakeIo { source, .. } if heard_from_server => Ok(Rejection {
            alert: None,
            message: format!("the server closed the connection without an alert: {source}"),
        }),
        error => Err(error),
    }
}

fn from_rustls(error: rustls::Error) -> Rejection {
    let alert = match &error {
        rustls::Error::AlertReceived(alert) => Some(*alert),
        _ => None,
    };
    Rejection {
        alert,
        message: error.to_string(),
    }
}

fn negotiated(session: &Session<'_>) -> Negotiated {
    let conn = &session.conn;
    Negotiated {
        protocol: conn.protocol_version().map(protocol_name),
        cipher_suite: conn
            .negotiated_cipher_suite()
            .map(|suite| cipher_suite_name(suite.suite())),
        key_exchange_group: conn
            .negotiated_key_exchange_group()
            .map(|group| group_name(group.name())),
        alpn: conn
            .alpn_protocol()
            .map(|protocol| String::from_utf8_lossy(protocol).into_owned()),
    }
}

/// Parses what a server answered to the probe's `GET` (`--http`, and each `probe audit`
/// case): an HTTP/1.x response head, with the body kept as it came (chunked bodies are not
/// reassembled: the probe only looks into them for an error code). Anything else is
/// [`HttpOutcome::Failed`] saying why. Takes untrusted bytes; never panics (the `probe`
/// fuzz target feeds it anything).
pub fn parse_http_response(bytes: &[u8]) -> HttpOutcome {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return HttpOutcome::Failed(format!(
            "the answer is not a complete HTTP response ({} bytes, no end of headers)",
            bytes.len()
        ));
    };
    let head = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return HttpOutcome::Failed(format!("the status line `{status_line}` is not HTTP"));
    };
    let Some(status) = code
        .parse::<u16>()
        .ok()
        .filter(|_| version.starts_with("HTTP/"))
    else {
        return HttpOutcome::Failed(format!("the status line `{status_line}` is not HTTP"));
    };
    let headers = lines
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect();
    HttpOutcome::Response(HttpResponse {
        status,
        reason: parts.next().unwrap_or_default().to_owned(),
        headers,
        body: bytes[end + 4..].to_vec(),
    })
}

/// TLS's own spelling of an alert (RFC 8446 section 6).
pub(crate) fn alert_name(alert: AlertDescription) -> String {
    let name = match alert {
        AlertDescription::CloseNotify => "close_notify",
        AlertDescription::UnexpectedMessage => "unexpected_message",
        AlertDescription::BadRecordMac => "bad_record_mac",
        AlertDescription::HandshakeFailure => "handshake_failure",
        AlertDescription::BadCertificate => "bad_certificate",
        AlertDescription::UnsupportedCertificate => "unsupported_certificate",
        AlertDescription::CertificateRevoked => "certificate_revoked",
        AlertDescription::CertificateExpired => "certificate_expired",
        AlertDescription::CertificateUnknown => "certificate_unknown",
        AlertDescription::IllegalParameter => "illegal_parameter",
        AlertDescription::UnknownCA => "unknown_ca",
        AlertDescription::AccessDenied => "access_denied",
        AlertDescription::DecodeError => "decode_error",
        AlertDescription::DecryptError => "decrypt_error",
        AlertDescription::ProtocolVersion => "protocol_version",
        AlertDescription::InsufficientSecurity => "insufficient_security",
        AlertDescription::InternalError => "internal_error",
        AlertDescription::UserCanceled => "user_canceled",
        AlertDescription::NoRenegotiation => "no_renegotiation",
        AlertDescription::MissingExtension => "missing_extension",
        AlertDescription::UnsupportedExtension => "unsupported_extension",
        AlertDescription::UnrecognisedName => "unrecognized_name",
        AlertDescription::UnknownPSKIdentity => "unknown_psk_identity",
        AlertDescription::CertificateRequired => "certificate_required",
        AlertDescription::NoApplicationProtocol => "no_application_protocol",
        other => return format!("{other:?}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_status_line_headers_and_body() {
        let raw = b"HTTP/1.1 496 A client certificate is required\r\nContent-Type: application/json\r\n\r\n{\"error\":\"no_certificate\"}";
        let HttpOutcome::Response(response) = parse_http_response(raw) else {
            panic!("a response");
        };
        assert_eq!(response.status, 496);
        assert_eq!(response.reason, "A client certificate is required");
        assert_eq!(response.headers[0].0, "Content-Type");
        assert_eq!(response.body, b"{\"error\":\"no_certificate\"}");
    }

    #[test]
    fn rejects_what_is_not_http() {
        assert!(matches!(
            parse_http_response(b"SSH-2.0-OpenSSH\r\n\r\n"),
            HttpOutcome::Failed(_)
        ));
        assert!(matches!(
            parse_http_response(b"HTTP/1.1 200"),
            HttpOutcome::Failed(_)
        ));
    }
}
