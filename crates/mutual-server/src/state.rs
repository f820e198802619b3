//! What every request handler shares: the store, the unlocked CAs, the responders, the
//! CRLs, and the CA certificates as relying parties fetch them.

use std::sync::Arc;

use mutual_ca::home::{Authority, Home, IssuingRole};
use mutual_ca::issuance::IssuingCa;
use mutual_ca::passphrase::Passphrase;
use mutual_ca::profile::Profiles;
use mutual_ca::store::Store;
use time::OffsetDateTime;

use crate::ServeOptions;
use crate::auth::RevocationEpoch;
use crate::bootstrap::{Bootstrap, Loaded};
use crate::crl_cache::CrlSlot;
use crate::error::ServeError;
use crate::ocsp::{Responders, pem_der};

/// A CA certificate as served: `/ca/<stem>.crt` (DER) and in the chain (PEM).
pub(crate) struct CaCertificate {
    pub(crate) authority: Authority,
    pub(crate) pem: String,
    pub(crate) der: Vec<u8>,
}

pub(crate) struct AppState {
    pub(crate) home: Home,
    pub(crate) store: Store,
    pub(crate) profiles: Profiles,
    pub(crate) server_ca: Arc<IssuingCa>,
    pub(crate) client_ca: Arc<IssuingCa>,
    /// Root, server CA, client CA.
    pub(crate) certificates: Vec<CaCertificate>,
    /// The root, decoded: the trust anchor client certificates are verified against.
    pub(crate) root: mutual_x509::Certificate,
    /// The intermediates, decoded: a client that sends only its own certificate still
    /// gets a path.
    pub(crate) intermediates: Vec<mutual_x509::Certificate>,
    pub(crate) responders: Responders,
    /// Tells the connections' remembered client certificates when to look them up again.
    pub(crate) revocations: RevocationEpoch,
    pub(crate) crls: Vec<CrlSlot>,
    pub(crate) tls_chain_pem: String,
    pub(crate) tls_key_pem: zeroize::Zeroizing<String>,
    pub(crate) max_body: usize,
}

impl AppState {
    pub(crate) async fn load(
        options: &ServeOptions,
        loaded: Loaded,
        _boot: &Bootstrap,
        now: OffsetDateTime,
    ) -> Result<Self, ServeError> {
        let home = options.home.clone();
        let Loaded {
            store,
            profiles,
            server_ca,
            client_ca,
            tls_chain_pem,
            tls_key_pem,
        } = loaded;
        let read = |path: std::path::PathBuf| {
            std::fs::read_to_string(&path).map_err(|source| ServeError::Io { path, source })
        };
        let mut certificates = Vec::new();
        for authority in Authority::ALL {
            let path = match authority {
                Authority::Root => home.root_certificate(),
                Authority::Issuing(role) => home.issuing_certificate(role),
            };
            let pem = read(path.clone())?;
            let der = pem_der(&pem).ok_or_else(|| ServeError::Setup {
                what: "the CA certificates",
                detail: format!("`{}` holds no CERTIFICATE block", path.display()),
            })?;
            certificates.push(CaCertificate {
                authority,
                pem,
                der,
            });
        }
        let decode = |der: &[u8]| {
            mutual_x509::Certificate::from_der(der, now).map_err(|e| ServeError::Setup {
                what: "the CA certificates",
                detail: e.to_string(),
            })
        };
        let root = decode(&certificates[0].der)?;
        let intermediates = certificates[1..]
            .iter()
            .map(|c| decode(&c.der))
            .collect::<Result<Vec<_>, _>>()?;

        let responders = Responders::load(
            &home,
            &profiles,
            &store,
            [
                (IssuingRole::Server, &server_ca),
                (IssuingRole::Client, &client_ca),
            ],
            now,
        )
        .await?;
        let server_ca = Arc::new(server_ca);
        let client_ca = Arc::new(client_ca);
        let crls = vec![
            root_crl_slot(&home, options.passphrase.as_ref()),
            CrlSlot::signed_by(Authority::Issuing(IssuingRole::Server), server_ca.clone()),
            CrlSlot::signed_by(Authority::Issuing(IssuingRole::Client), client_ca.clone()),
        ];
        Ok(Self {
            home,
            store,
            profiles,
            server_ca,
            client_ca,
            certificates,
            root,
            intermediates,
            responders,
            revocations: RevocationEpoch::default(),
            crls,
            tls_chain_pem,
            tls_key_pem,
            max_body: options.max_body,
        })
    }

    pub(crate) fn issuing_ca(&self, role: IssuingRole) -> &Arc<IssuingCa> {
        match role {
            IssuingRole::Server => &self.server_ca,
            IssuingRole::Client => &self.client_ca,
        }
    }

    /// The chain relying parties need: the issuing CAs then the root, as PEM.
    pub(crate) fn chain_pem(&self) -> String {
        let mut chain: String = self.certificates[1..]
            .iter()
            .map(|c| c.pem.as_str())
            .collect();
        chain.push_str(&self.certificates[0].pem);
        chain
    }

    /// Rotates what must be rotated while the service runs (the OCSP signers).
    pub(crate) async fn maintain(&self, now: OffsetDateTime) {
        let cas = [
            (IssuingRole::Server, self.server_ca.as_ref()),
            (IssuingRole::Client, self.client_ca.as_ref()),
        ];
        match self
            .responders
            .rotate_if_due(&self.home, &self.profiles, &self.store, cas, now)
            .await
        {
            Ok(true) => tracing::info!("OCSP responder certificates rotated"),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %crate::error::with_causes(&e), "rotating the OCSP responder certificates failed; retrying in an hour")
            }
        }
    }

    pub(crate) async fn shutdown(&self) {
        self.store.close().await;
    }
}

/// The root's CRL slot: signed here when the root key can be unlocked, else from a file.
fn root_crl_slot(home: &Home, passphrase: Option<&Passphrase>) -> CrlSlot {
    let file_passphrase = || {
        let path = home.path().join("root-passphrase.txt");
        path.exists()
            .then(|| Passphrase::from_file(&path).ok())
            .flatten()
    };
    let owned;
    let passphrase = match passphrase {
        Some(p) => Some(p),
        None => {
            owned = file_passphrase();
            owned.as_ref()
        }
    };
    if let Some(passphrase) = passphrase {
        match home.authority(Authority::Root, Some(passphrase)) {
            Ok(root) => return CrlSlot::signed_by(Authority::Root, Arc::new(root)),
            Err(e) => tracing::warn!(
                error = %crate::error::with_causes(&e),
                "the root key could not be unlocked; the root CRL is served from a file"
            ),
        }
    }
    CrlSlot::from_file(Authority::Root, home.path().join("crl").join("root.crl"))
}
