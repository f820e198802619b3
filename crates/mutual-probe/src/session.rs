//! One TLS client connection driven by hand over a blocking socket, turning every way it can
//! fail into a [`ProbeError`] with the evidence gathered so far.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::crypto::aws_lc_rs;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ProtocolVersion};

use crate::client_auth::RecordClientCertificateRequest;
use crate::danger::AcceptAnyServerCertificate;
use crate::error::ProbeError;
use crate::target::Target;

/// Added to the handshake's duration to bound the wait for a TLS 1.3 post-handshake
/// rejection: the server's check of an empty client certificate is immediate, so the rest
/// is one round trip, which the handshake's own duration already over-estimates.
const REJECTION_SLACK: Duration = Duration::from_millis(200);

pub(crate) struct Session<'a> {
    target: &'a Target,
    peer: SocketAddr,
    timeout: Duration,
    started: Instant,
    tcp: TcpStream,
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
    ) -> Result<Self, ProbeError> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let verifier = AcceptAnyServerCertificate::new(provider.signature_verification_algorithms);
        let client_auth = RecordClientCertificateRequest::new();
        let setup_failed = |source| ProbeError::TlsSetup {
            target: target.clone(),
            source,
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(setup_failed)?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_client_cert_resolver(client_auth.clone());
        let conn = ClientConnection::new(Arc::new(config), server_name).map_err(setup_failed)?;
        // Nagle would hold back our small handshake flights; latency only, so ignore failure.
        let _ = tcp.set_nodelay(true);
        Ok(Self {
            target,
            peer,
            timeout,
            started: Instant::now(),
            tcp,
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

    fn rejected(&self, source: rustls::Error) -> ProbeError {
        ProbeError::TlsHandshakeFailed {
            target: self.target.clone(),
            peer: self.peer,
            presented: self.verifier.presented(),
            client_certificate_request: self.client_auth.request(),
            source,
        }
    }
}
