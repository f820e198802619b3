//! One TLS client connection driven by hand over a blocking socket, turning every way it can
//! fail into a [`ProbeError`] with the evidence gathered so far.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::crypto::aws_lc_rs;
use rustls::pki_types::ServerName;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, ClientConnection, ProtocolVersion};

use crate::client_auth::RecordClientCertificateRequest;
use crate::danger::AcceptAnyServerCertificate;
use crate::error::ProbeError;
use crate::sniff::Recorded;
use crate::target::Target;

/// Added to the handshake's duration to bound the wait for a TLS 1.3 post-handshake
/// rejection: the server's check of an empty client certificate is immediate, so the rest
/// is one round trip, which the handshake's own duration already over-estimates.
const REJECTION_SLACK: Duration = Duration::from_millis(200);

/// The most of an HTTP response kept: enough for the status, the headers and an error body.
const HTTP_RESPONSE_LIMIT: usize = 64 * 1024;

/// How a session is set up beyond the target: the client certificate to answer a
/// CertificateRequest with, and the ALPN protocols to offer.
#[derive(Default)]
pub(crate) struct Setup {
    pub(crate) certificate: Option<Arc<CertifiedKey>>,
    pub(crate) alpn: Vec<Vec<u8>>,
}

pub(crate) struct Session<'a> {
    target: &'a Target,
    peer: SocketAddr,
    timeout: Duration,
    started: Instant,
    tcp: Recorded,
    pub(crate) conn: ClientConnection,
    verifier: Arc<AcceptAnyServerCertificate>,
    pub(crate) client_auth: Arc<RecordClientCertificateRequest>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(
        target: &'a Target,
        peer: SocketAddr,
        timeout: Duration,
        tcp: TcpStream,
        server_name: ServerName<'static>,
        setup: Setup,
    ) -> Result<Self, ProbeError> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let verifier = AcceptAnyServerCertificate::new(provider.signature_verification_algorithms);
        let client_auth = RecordClientCertificateRequest::new(setup.certificate);
        let setup_failed = |source| ProbeError::TlsSetup {
            target: target.clone(),
            source,
        };
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(setup_failed)?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_client_cert_resolver(client_auth.clone());
        config.alpn_protocols = setup.alpn;
        let conn = ClientConnection::new(Arc::new(config), server_name).map_err(setup_failed)?;
        // Nagle would hold back our small handshake flights; latency only, so ignore failure.
        let _ = tcp.set_nodelay(true);
        Ok(Self {
            target,
            peer,
            timeout,
            started: Instant::now(),
            tcp: Recorded::new(tcp),
            conn,
            verifier,
            client_auth,
        })
    }

    /// Drives the handshake to completion, within `timeout` in total.
    pub(crate) fn handshake(&mut self) -> Result<(), ProbeError> {
        let deadline = self.started + self.timeout;
        self.tcp
            .set_write_timeout(Some(self.timeout))
            .map_err(|error| self.failed(error))?;
        while self.conn.is_handshaking() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.failed(io::ErrorKind::TimedOut.into()));
            }
            self.tcp
                .set_read_timeout(Some(left))
                .map_err(|error| self.failed(error))?;
            if let Err(error) = self.conn.complete_io(&mut self.tcp) {
                return Err(self.failed(error));
            }
        }
        Ok(())
    }

    /// In TLS 1.3 the client finishes its handshake before the server has seen the (empty)
    /// client certificate, so a server that requires one rejects us just afterwards. When the
    /// server asked for one, give it about as long as the handshake took, plus slack, to say so.
    pub(crate) fn await_client_auth_verdict(&mut self) -> Result<(), ProbeError> {
        if self.client_auth.request().is_none()
            || self.conn.protocol_version() != Some(ProtocolVersion::TLSv1_3)
        {
            return Ok(());
        }
        let wait = (self.started.elapsed() + REJECTION_SLACK).min(self.timeout);
        match self.rejection_within(wait) {
            Some(source) => Err(self.rejected(source)),
            None => Ok(()),
        }
    }

    /// The first bytes the peer sent, whatever they were (up to 256).
    pub(crate) fn first_bytes(&self) -> &[u8] {
        self.tcp.first_bytes()
    }

    /// The certificates the server sent, in its order (empty before its Certificate message).
    pub(crate) fn presented(&self) -> Vec<Vec<u8>> {
        self.verifier.presented()
    }

    /// Sends `GET path` over the established connection and reads the response until the
    /// server closes, the body announced by `Content-Length` is complete, the limit is
    /// reached, or `timeout` runs out (an error only when nothing arrived at all).
    pub(crate) fn http_get(&mut self, host: &str, path: &str) -> Result<Vec<u8>, ProbeError> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: mutual-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        );
        self.conn
            .writer()
            .write_all(request.as_bytes())
            .map_err(|error| self.failed(error))?;
        let deadline = Instant::now() + self.timeout;
        let mut response = Vec::new();
        let mut buffer = [0_u8; 8192];
        loop {
            while self.conn.wants_write() {
                self.conn
                    .write_tls(&mut self.tcp)
                    .map_err(|error| self.failed(error))?;
            }
            loop {
                match self.conn.reader().read(&mut buffer) {
                    Ok(0) => return Ok(response),
                    Ok(read) => {
                        response.extend_from_slice(&buffer[..read]);
                        if response.len() >= HTTP_RESPONSE_LIMIT || complete(&response) {
                            return Ok(response);
                        }
                    }
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                    // Closed without close_notify: what arrived is all there is.
                    Err(_) => return Ok(response),
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return self.partial(response);
            }
            self.tcp
                .set_read_timeout(Some(left))
                .map_err(|error| self.failed(error))?;
            match self.conn.read_tls(&mut self.tcp) {
                Ok(0) => return Ok(response),
                Ok(_) => {}
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return self.partial(response);
                }
                Err(error) if response.is_empty() => return Err(self.failed(error)),
                Err(_) => return Ok(response),
            }
            if let Err(error) = self.conn.process_new_packets() {
                return Err(self.rejected(error));
            }
        }
    }

    fn partial(&self, response: Vec<u8>) -> Result<Vec<u8>, ProbeError> {
        if response.is_empty() {
            Err(ProbeError::HttpTimeout {
                target: self.target.clone(),
                peer: self.peer,
                timeout: self.timeout,
            })
        } else {
            Ok(response)
        }
    }

    /// Says goodbye politely; the result is already in hand, so failures here do not matter.
    pub(crate) fn close(mut self) {
        self.conn.send_close_notify();
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.tcp).is_err() {
                break;
            }
        }
    }

    /// Reads for up to `wait` and returns the error rustls raises for what arrives (an alert
    /// such as `certificate_required`), or `None` if nothing fatal arrives in time.
    fn rejection_within(&mut self, wait: Duration) -> Option<rustls::Error> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.tcp.set_read_timeout(Some(left)).is_err() {
                return None;
            }
            match self.conn.read_tls(&mut self.tcp) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            if let Err(error) = self.conn.process_new_packets() {
                return Some(error);
            }
        }
    }

    fn failed(&self, error: io::Error) -> ProbeError {
        // complete_io wraps rustls' own errors (alerts, bad messages) in InvalidData.
        let tls = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .cloned();
        match tls {
            Some(source) => self.rejected(source),
            None if matches!(
                error.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
            {
                ProbeError::HandshakeTimeout {
                    target: self.target.clone(),
                    peer: self.peer,
                    timeout: self.timeout,
                }
            }
            None => ProbeError::HandshakeIo {
                target: self.target.clone(),
                peer: self.peer,
                source: error,
            },
        }
    }

    pub(crate) fn rejected(&self, source: rustls::Error) -> ProbeError {
        ProbeError::TlsHandshakeFailed {
            target: self.target.clone(),
            peer: self.peer,
            presented: self.verifier.presented(),
            client_certificate_request: self.client_auth.request(),
            source,
        }
    }
}

/// Whether `response` holds the whole head and as much body as `Content-Length` announced.
fn complete(response: &[u8]) -> bool {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&response[..end]);
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
    });
    length.is_some_and(|length| response.len() - (end + 4) >= length)
}
