//! The verdict of rustls-webpki: hardened, fuzzed RFC 5280 path building and validation.
//! Whatever the diagnosis says, a chain webpki rejects is invalid.

use std::time::Duration;

use mutual_x509::Certificate;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use time::OffsetDateTime;
use webpki::{
    BorrowedCertRevocationList, CertRevocationList, EndEntityCert, ExpirationPolicy,
    ExtendedKeyUsageValidator, KeyPurposeId, KeyPurposeIdIter, RevocationCheckDepth,
    RevocationOptionsBuilder, UnknownStatusPolicy,
};

use crate::code::Code;

/// The path webpki accepted: DER of the intermediates, leaf first, and which anchor.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) intermediates: Vec<Vec<u8>>,
    pub(crate) anchor: usize,
}

/// What webpki needs besides the leaf.
pub(crate) struct Inputs<'a> {
    pub(crate) anchors: &'a [TrustAnchor<'static>],
    pub(crate) pool: &'a [CertificateDer<'a>],
    pub(crate) crls: &'a [CertRevocationList<'a>],
    /// Content octets of the EKU OIDs required.
    pub(crate) ekus: &'a [Vec<u8>],
    pub(crate) at: OffsetDateTime,
    pub(crate) max_depth: Option<usize>,
}

pub(crate) fn validate(leaf: &Certificate, inputs: &Inputs<'_>) -> Result<Accepted, webpki::Error> {
    let leaf_der = CertificateDer::from(leaf.der.as_slice());
    let end_entity = EndEntityCert::try_from(&leaf_der)?;
    let seconds = u64::try_from(inputs.at.unix_timestamp()).unwrap_or(0);
    let time = UnixTime::since_unix_epoch(Duration::from_secs(seconds));
    let crl_refs: Vec<&CertRevocationList<'_>> = inputs.crls.iter().collect();
    let revocation = RevocationOptionsBuilder::new(&crl_refs)
        .ok()
        .map(|builder| {
            builder
                .with_depth(RevocationCheckDepth::EndEntity)
                .with_status_policy(UnknownStatusPolicy::Deny)
                .with_expiration_policy(ExpirationPolicy::Enforce)
                .build()
        });
    let max_depth = inputs.max_depth;
    let depth_limit = move |path: &webpki::VerifiedPath<'_>| match max_depth {
        Some(limit) if path.intermediate_certificates().count() > limit => {
            Err(webpki::Error::MaximumPathDepthExceeded)
        }
        _ => Ok(()),
    };
    let path = end_entity.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        inputs.anchors,
        inputs.pool,
        time,
        RequiredEkus(inputs.ekus),
        revocation,
        Some(&depth_limit),
    )?;
    let anchor = inputs
        .anchors
        .iter()
        .position(|anchor| std::ptr::eq(anchor, path.anchor()))
        .unwrap_or(0);
    Ok(Accepted {
        intermediates: path
            .intermediate_certificates()
            .map(|cert| cert.der().to_vec())
            .collect(),
        anchor,
    })
}

/// CRLs webpki can read; the diagnosis reads all of them itself.
pub(crate) fn crls(ders: &[&[u8]]) -> Vec<CertRevocationList<'static>> {
    ders.iter()
        .filter_map(|der| BorrowedCertRevocationList::from_der(der).ok())
        .filter_map(|crl| crl.to_owned().ok())
        .map(CertRevocationList::Owned)
        .collect()
}

/// Every required EKU must be listed when the certificate has an EKU extension (RFC 5280
/// §4.2.1.12); anyExtendedKeyUsage does not stand in for a specific one, as in OpenSSL.
struct RequiredEkus<'a>(&'a [Vec<u8>]);

impl ExtendedKeyUsageValidator for RequiredEkus<'_> {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        let present = iter.collect::<Result<Vec<KeyPurposeId<'_>>, _>>()?;
        if present.is_empty() {
            return Ok(());
        }
        for required in self.0 {
            let required = KeyPurposeId::new(required);
            if !present.contains(&required) {
                // The context variant needs a `'static` OID; ours come from the command line.
                #[allow(deprecated)]
                return Err(webpki::Error::RequiredEkuNotFound);
            }
        }
        Ok(())
    }
}

/// The content octets of a dotted OID, as EKU extensions carry it.
pub(crate) fn oid_content(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let (&first, rest) = arcs.split_first()?;
    let (&second, rest) = rest.split_first()?;
    if first > 2 || (first < 2 && second > 39) {
        return None;
    }
    let mut out = Vec::new();
    for arc in std::iter::once(first * 40 + second).chain(rest.iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut value = arc >> 7;
        while value > 0 {
            groups.push((value & 0x7f) as u8 | 0x80);
            value >>= 7;
        }
        out.extend(groups.iter().rev());
    }
    Some(out)
}

/// The code for a webpki error, used when the diagnosis found nothing more precise.
// The deprecated unit variants are still returned by some paths of webpki 0.103.
#[allow(deprecated)]
pub(crate) fn code_for(error: &webpki::Error) -> Code {
    use webpki::Error as E;
    match error {
        E::UnknownIssuer => Code::UnknownIssuer,
        E::CertExpired { .. } => Code::Expired,
        E::CertNotValidYet { .. } => Code::NotYetValid,
        E::CertRevoked => Code::Revoked,
        E::UnknownRevocationStatus | E::CrlExpired { .. } => Code::RevocationUnknown,
        E::EndEntityUsedAsCa => Code::CaNotAuthorized,
        E::CaUsedAsEndEntity => Code::NoUsablePurpose,
        E::PathLenConstraintViolated => Code::PathLengthExceeded,
        E::NameConstraintViolation => Code::NameConstraintsViolated,
        E::InvalidSignatureForPublicKey => Code::BadSignature,
        E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKey
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | E::SignatureAlgorithmMismatch => Code::UnsupportedSignatureAlgorithm,
        E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) => Code::EkuMismatch,
        E::MaximumPathDepthExceeded
        | E::MaximumPathBuildCallsExceeded
        | E::MaximumSignatureChecksExceeded => Code::MaxDepthExceeded,
        E::CertNotValidForName(_) => Code::HostnameMismatch,
        _ => Code::MalformedCertificate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_encode_as_der_content() {
        assert_eq!(
            oid_content("1.3.6.1.5.5.7.3.1").unwrap(),
            [0x2b, 6, 1, 5, 5, 7, 3, 1]
        );
        assert_eq!(
            oid_content("1.2.840.113549").unwrap(),
            [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]
        );
        assert!(oid_content("1").is_none());
        assert!(oid_content("3.1").is_none());
        assert!(oid_content("1.x").is_none());
    }
}
