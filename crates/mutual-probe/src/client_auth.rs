//! Noticing that a server asks for a client certificate, without ever sending one.

use std::sync::{Arc, Mutex, PoisonError};

use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;

use crate::presented::ClientCertificateRequest;

/// rustls calls this resolver only when the server sends a CertificateRequest; it records
/// what the server asked for and declines, so the handshake continues with no client
/// certificate and the server's reaction (alert or not) is observed.
#[derive(Debug, Default)]
pub(crate) struct RecordClientCertificateRequest {
    request: Mutex<Option<ClientCertificateRequest>>,
}

impl RecordClientCertificateRequest {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub(crate) fn request(&self) -> Option<ClientCertificateRequest> {
        self.request
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ResolvesClientCert for RecordClientCertificateRequest {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let request = ClientCertificateRequest {
            acceptable_issuers: root_hint_subjects.iter().map(|dn| dn.to_vec()).collect(),
            signature_schemes: sigschemes.iter().map(|s| scheme_name(*s)).collect(),
        };
        *self.request.lock().unwrap_or_else(PoisonError::into_inner) = Some(request);
        None
    }

    fn has_certs(&self) -> bool {
        // We never have a certificate to send; saying so also spares rustls from keeping the
        // TLS 1.2 handshake transcript for a CertificateVerify we will not write.
        false
    }
}

fn scheme_name(scheme: SignatureScheme) -> String {
    match scheme.as_str() {
        Some(name) => name.to_owned(),
        None => format!("{scheme:?}"),
    }
}
