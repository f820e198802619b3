//! Noticing that a server asks for a client certificate, and answering with the one the
//! user gave, if any.

use std::sync::{Arc, Mutex, PoisonError};

use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;

use crate::presented::ClientCertificateRequest;

/// rustls calls this resolver only when the server sends a CertificateRequest; it records
/// what the server asked for and answers with the user's certificate, or with none, so the
/// server's reaction (alert or not) is observed.
#[derive(Debug, Default)]
pub(crate) struct RecordClientCertificateRequest {
    request: Mutex<Option<ClientCertificateRequest>>,
    /// Sent whatever the server's acceptable CA list says: the probe's job is to see what
    /// the server does with it, not to second-guess like a browser.
    certificate: Option<Arc<CertifiedKey>>,
}

impl RecordClientCertificateRequest {
    pub(crate) fn new(certificate: Option<Arc<CertifiedKey>>) -> Arc<Self> {
        Arc::new(Self {
            request: Mutex::new(None),
            certificate,
        })
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
        self.certificate.clone()
    }

    fn has_certs(&self) -> bool {
        // Without a certificate, saying so spares rustls from keeping the TLS 1.2 handshake
        // transcript for a CertificateVerify we will not write.
        self.certificate.is_some()
    }
}

fn scheme_name(scheme: SignatureScheme) -> String {
    match scheme.as_str() {
        Some(name) => name.to_owned(),
        None => format!("{scheme:?}"),
    }
}
