//! CRLs as the service hands them out: one per CA, re-signed when the revocations change or
//! half its life has passed, so a fetch usually costs a store query, not a signature.
//!
//! The issuing CAs' CRLs are signed by the service. The root's (listing revoked
//! intermediates) needs the root key, which the service holds only when it can read the
//! root passphrase (`--passphrase-file`, `$MUTUAL_PASSPHRASE` or the `root-passphrase.txt`
//! it wrote when it created the CA); otherwise it serves `HOME/crl/root.crl` as written
//! by `mutual crl --issuer root --format der --out HOME/crl/root.crl`.

use std::path::PathBuf;

use mutual_ca::crl::{SignedCrl, sign};
use mutual_ca::home::Authority;
use mutual_ca::issuance::IssuingCa;
use mutual_ca::store::Store;
use time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;

/// One CA's CRL: who signs it and the last one signed.
pub(crate) struct CrlSlot {
    pub(crate) authority: Authority,
    signer: Signer,
    last: Mutex<Option<SignedCrl>>,
}

enum Signer {
    Key(std::sync::Arc<IssuingCa>),
    /// Served from this file, signed elsewhere.
    File(PathBuf),
}

/// Why no CRL could be had.
#[derive(Debug)]
pub(crate) enum CrlUnavailable {
    /// The root's CRL is neither signable nor on disk.
    NoRootCrl(PathBuf),
    Failed(String),
}

impl CrlSlot {
    pub(crate) fn signed_by(authority: Authority, ca: std::sync::Arc<IssuingCa>) -> Self {
        Self {
            authority,
            signer: Signer::Key(ca),
            last: Mutex::new(None),
        }
    }

    pub(crate) fn from_file(authority: Authority, path: PathBuf) -> Self {
        Self {
            authority,
            signer: Signer::File(path),
            last: Mutex::new(None),
        }
    }

    /// The current CRL as DER.
    pub(crate) async fn get(
        &self,
        store: &Store,
        lifetime: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, CrlUnavailable> {
        let ca = match &self.signer {
            Signer::Key(ca) => ca,
            Signer::File(path) => {
                return std::fs::read(path).map_err(|_| CrlUnavailable::NoRootCrl(path.clone()));
            }
        };
        // One signer at a time per CA: concurrent fetches after a revocation share one CRL
        // (and one CRL number).
        let mut last = self.last.lock().await;
        let revoked = store
            .revoked_serials(&ca.key_id, now)
            .await
            .map_err(|e| CrlUnavailable::Failed(crate::error::with_causes(&e)))?;
        if let Some(crl) = last.as_ref()
            && crl.entries == revoked
            && now < crl.this_update + lifetime / 2
        {
            return Ok(crl.der.clone());
        }
        let crl = sign(ca, store, now, lifetime)
            .await
            .map_err(|e| CrlUnavailable::Failed(crate::error::with_causes(&e)))?;
        let der = crl.der.clone();
        *last = Some(crl);
        Ok(der)
    }
}
