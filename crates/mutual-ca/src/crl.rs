//! Certificate revocation lists (RFC 5280 §5): one per CA of the home, listing its revoked,
//! unexpired certificates with their reasons and invalidity dates, signed by its key, with
//! a CRL number that only ever grows and the AKI of the signer.

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use time::{Duration, OffsetDateTime};

use crate::issuance::IssuingCa;
use crate::store::{RevocationReason, RevokedSerial, Store, StoreError};

/// How long a CRL is good for when `mutual.toml` does not say: a week, as is common for
/// private CAs that also answer OCSP.
pub const DEFAULT_LIFETIME: Duration = Duration::days(7);

/// A signed CRL and what it says.
#[derive(Debug, Clone)]
pub struct SignedCrl {
    pub der: Vec<u8>,
    pub pem: String,
    pub number: u64,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    pub entries: Vec<RevokedSerial>,
}

#[derive(Debug, thiserror::Error)]
pub enum CrlError {
    #[error("reading the revoked certificates")]
    Store {
        #[source]
        source: StoreError,
    },
    #[error("serial `{serial}` in the store is not hex")]
    BadSerial { serial: String },
    #[error("signing the CRL of `{issuer}` failed")]
    Sign {
        issuer: String,
        #[source]
        source: rcgen::Error,
    },
}

/// Signs the CRL of `ca` at `now`, good until `now + lifetime`: every certificate it
/// revoked that has not expired by `now` (an expired certificate needs no CRL entry). The
/// CRL number is taken from the store first, so a CRL that fails to sign only skips one.
pub async fn sign(
    ca: &IssuingCa,
    store: &Store,
    now: OffsetDateTime,
    lifetime: Duration,
) -> Result<SignedCrl, CrlError> {
    let this_update = now.replace_nanosecond(0).unwrap_or(now);
    let next_update = this_update + lifetime;
    let entries = store
        .revoked_serials(&ca.key_id, this_update)
        .await
        .map_err(|source| CrlError::Store { source })?;
    let number = store
        .next_crl_number(&ca.key_id)
        .await
        .map_err(|source| CrlError::Store { source })?;
    let revoked_certs = entries
        .iter()
        .map(|entry| {
            Ok(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&hex_bytes(&entry.serial).ok_or_else(
                    || CrlError::BadSerial {
                        serial: entry.serial.clone(),
                    },
                )?),
                revocation_time: entry.revoked_at,
                reason_code: Some(reason(entry.reason)),
                invalidity_date: entry.invalid_since,
            })
        })
        .collect::<Result<Vec<_>, CrlError>>()?;
    let params = CertificateRevocationListParams {
        this_update,
        next_update,
        crl_number: SerialNumber::from(number),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let crl = params
        .signed_by(ca.signer())
        .map_err(|source| CrlError::Sign {
            issuer: ca.subject.clone(),
            source,
        })?;
    let pem = crl.pem().map_err(|source| CrlError::Sign {
        issuer: ca.subject.clone(),
        source,
    })?;
    Ok(SignedCrl {
        der: crl.der().to_vec(),
        pem,
        number,
        this_update,
        next_update,
        entries,
    })
}

fn reason(reason: RevocationReason) -> rcgen::RevocationReason {
    use rcgen::RevocationReason as R;
    match reason {
        RevocationReason::Unspecified => R::Unspecified,
        RevocationReason::KeyCompromise => R::KeyCompromise,
        RevocationReason::CaCompromise => R::CaCompromise,
        RevocationReason::AffiliationChanged => R::AffiliationChanged,
        RevocationReason::Superseded => R::Superseded,
        RevocationReason::CessationOfOperation => R::CessationOfOperation,
        RevocationReason::CertificateHold => R::CertificateHold,
        RevocationReason::PrivilegeWithdrawn => R::PrivilegeWithdrawn,
        RevocationReason::AaCompromise => R::AaCompromise,
    }
}

fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_hex_octets() {
        assert_eq!(hex_bytes("00FF10"), Some(vec![0, 255, 16]));
        assert_eq!(hex_bytes("0"), None);
        assert_eq!(hex_bytes("ZZ"), None);
    }
}
