//! The HTTPS listener's TLS: the service's own certificate, and client authentication
//! that asks for a certificate without requiring one, and accepts at the TLS layer any
//! certificate whose holder proves possession of its key.
//!
//! Judging the certificate is left to the application ([`crate::auth`]) on purpose: a
//! handshake that fails leaves the caller with `alert bad certificate`, while a request
//! that arrives can be answered 401 with the diagnosis (`unknown_issuer`, `expired`,
//! `eku_mismatch`, ...) and the certificate that was expected. The CertificateVerify
//! signature is still checked here, so a caller cannot present a certificate whose key it
//! does not hold.

use std::sync::Arc;

use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, ServerConfig, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use crate::error::ServeError;
use crate::state::AppState;

pub(crate) fn server_config(state: &AppState) -> Result<Arc<ServerConfig>, ServeError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain: Vec<CertificateDer<'static>> =
        mutual_x509::pem::parse(state.tls_chain_pem.as_bytes())
            .map_err(|e| setup(format!("the service certificate: {e}")))?
            .into_iter()
            .filter(|b| b.label == "CERTIFICATE")
            .map(|b| CertificateDer::from(b.der))
            .collect();
    let key_der = mutual_x509::pem::parse(state.tls_key_pem.as_bytes())
        .map_err(|e| setup(format!("the service key: {e}")))?
        .into_iter()
        .find(|b| b.label == "PRIVATE KEY")
        .ok_or_else(|| setup("the service key holds no PRIVATE KEY block".to_owned()))?;
    let key = PrivateKeyDer::Pkcs8(key_der.der.into());

    // Browsers offer only certificates whose issuer is among these names.
    let hints = state
        .certificates
        .iter()
        .filter_map(|c| {
            x509_parser::parse_x509_certificate(&c.der)
                .ok()
                .map(|(_, cert)| DistinguishedName::from(cert.subject().as_raw().to_vec()))
        })
        .collect();
    let verifier = Arc::new(AnyClientCertificate {
        algorithms: provider.signature_verification_algorithms,
        hints,
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|source| ServeError::Tls { source })?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|source| ServeError::Tls { source })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn setup(detail: String) -> ServeError {
    ServeError::Setup {
        what: "the TLS configuration",
        detail,
    }
}

#[derive(Debug)]
struct AnyClientCertificate {
    algorithms: WebPkiSupportedAlgorithms,
    hints: Vec<DistinguishedName>,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
