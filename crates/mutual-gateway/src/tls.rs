//! The listener's TLS: the gateway's server certificate, and client certificates judged
//! during the handshake by [`crate::judge`].
//!
//! A `require` listener fails the handshake of a refused client with the alert that names
//! the cause (certificate_required, certificate_expired, unknown_ca, certificate_revoked,
//! unsupported_certificate); an `optional` one completes it, so that the HTTP answer
//! (495 / 496) can say why. Either way the verdict, with its diagnosis, travels from the
//! verifier to the connection that asked through [`HANDSHAKE`]: rustls calls the
//! verifier synchronously while the connection's task polls the handshake, so a
//! task-local is that connection's own, and costs nothing to reach.

use std::sync::{Arc, Mutex};

use mutual_x509::Certificate;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use crate::config::Mode;
use crate::judge::{Judge, Judgement};
use crate::refusal::Refusal;

/// What the handshake learnt about the client, for the connection that ran it.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    pub(crate) judgement: Option<Judgement>,
    /// The client sent a certificate but its CertificateVerify signature failed.
    pub(crate) key_not_proven: Option<Refusal>,
}

tokio::task_local! {
    pub(crate) static HANDSHAKE: Arc<Mutex<Notes>>;
}

fn note(f: impl FnOnce(&mut Notes)) {
    let _ = HANDSHAKE.try_with(|notes| {
        if let Ok(mut notes) = notes.lock() {
            f(&mut notes);
        }
    });
}

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// `chain`: the server certificate first, then its intermediates; `key`: PKCS#8, SEC1 or
/// PKCS#1 DER.
pub(crate) fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    judge: Arc<Judge>,
    anchors: &[Certificate],
    mode: Mode,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let provider = provider();
    // Browsers offer only certificates whose issuer is among these names: the reason a
    // browser shows no certificate to pick is often a CA missing here.
    let hints = anchors
        .iter()
        .filter_map(|c| x509_subject(&c.der).map(DistinguishedName::from))
        .collect();
    let verifier = Arc::new(ClientVerifier {
        algorithms: provider.signature_verification_algorithms,
        hints,
        judge,
        mode,
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The DER of a certificate's subject name.
fn x509_subject(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.subject().as_raw().to_vec())
}

#[derive(Debug)]
struct ClientVerifier {
    algorithms: WebPkiSupportedAlgorithms,
    hints: Vec<DistinguishedName>,
    judge: Arc<Judge>,
    mode: Mode,
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mode == Mode::Require
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let intermediates: Vec<&[u8]> = intermediates.iter().map(|c| c.as_ref()).collect();
        let judgement = self.judge.judge(end_entity.as_ref(), &intermediates);
        let alert = match (&judgement, self.mode) {
            (Judgement::Refused(refusal), Mode::Require) => Some(refusal.certificate_error()),
            _ => None,
        };
        note(|notes| notes.judgement = Some(judgement));
        match alert {
            Some(error) => Err(rustls::Error::InvalidCertificate(error)),
            None => Ok(ClientCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        proven(
            cert,
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms),
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        proven(
            cert,
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms),
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn proven(
    cert: &CertificateDer<'_>,
    result: Result<HandshakeSignatureValid, rustls::Error>,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    if result.is_err() {
        let leaf = Certificate::from_der(cert.as_ref(), time::OffsetDateTime::now_utc()).ok();
        note(|notes| notes.key_not_proven = Some(Refusal::key_not_proven(leaf.as_ref())));
    }
    result
}
