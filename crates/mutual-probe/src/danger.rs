//! Accepting whatever certificate a server presents.
//!
//! Dangerous anywhere else: a connection made with this verifier is not authenticated.
//! A probe needs it because its job is to *report* the chain exactly as sent — expired,
//! self-signed, for the wrong name or the wrong purpose — so that `mutual verify` and the
//! probe's diagnosis can say what is wrong with it. A verifier that rejected the chain would
//! abort the handshake before we had anything to show. Nothing is ever sent over such a
//! connection beyond the handshake and `close_notify`.

use std::sync::{Arc, Mutex, PoisonError};

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

/// A [`ServerCertVerifier`] that trusts any certificate chain, and records it.
///
/// It still checks the handshake signatures (TLS 1.2 `ServerKeyExchange`, TLS 1.3
/// `CertificateVerify`) against the end-entity certificate's public key with the provider's
/// algorithms, so the peer has proved it holds the key of the certificate we report: the
/// probe does not judge trust, but it does not report a chain the server cannot back either.
#[derive(Debug)]
pub(crate) struct AcceptAnyServerCertificate {
    algorithms: WebPkiSupportedAlgorithms,
    presented: Mutex<Vec<CertificateDer<'static>>>,
}

impl AcceptAnyServerCertificate {
    pub(crate) fn new(algorithms: WebPkiSupportedAlgorithms) -> Arc<Self> {
        Arc::new(Self {
            algorithms,
            presented: Mutex::new(Vec::new()),
        })
    }

    /// The end-entity certificate followed by the intermediates, in the order the server sent
    /// them; empty until the server's Certificate message has been received.
    pub(crate) fn presented(&self) -> Vec<Vec<u8>> {
        self.presented
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|certificate| certificate.to_vec())
            .collect()
    }
}

impl ServerCertVerifier for AcceptAnyServerCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut presented = self
            .presented
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        presented.clear();
        presented.push(end_entity.clone().into_owned());
        presented.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
