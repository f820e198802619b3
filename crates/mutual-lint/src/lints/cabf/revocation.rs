//! CA/B Forum TLS BR §7.1.2.11.2 (ballot SC-063, from 2024-03-15): a subscriber
//! certificate must tell relying parties where its revocation status is — a CRL
//! distribution point, or an OCSP responder in its AIA — unless it is short-lived.
//!
//! Binding on publicly-trusted certificates only: a notice under `--trust private`, where
//! mutual's own `n_leaf_revocation_information_missing` says the same for other leaves.

use mutual_x509::ExtensionValue;

use crate::meta::prelude::*;
use crate::oids;
use crate::subject::{Cert, Claims};

/// Whether relying parties are told where to ask about revocation: a cRLDistributionPoints
/// extension, or an id-ad-ocsp accessMethod in authorityInformationAccess (the presence
/// pkilint checks too; the URLs' form is `e_crl_distribution_point_not_http`'s and
/// `e_aia_location_not_http`'s business).
pub(crate) fn has_revocation_information(c: &Claims) -> bool {
    c.has(oids::CRL_DP)
        || c.extension(oids::AIA).is_some_and(|e| match &e.value {
            ExtensionValue::AuthorityInfoAccess { access } => {
                access.iter().any(|a| a.method == "OCSP")
            }
            _ => false,
        })
}

/// BR §1.6.1 "Short-lived Subscriber Certificate": issued from 2024-03-15, a validity
/// period of at most 10 days (864,000 seconds); issued from 2026-03-15, at most 7 days
/// (604,800 seconds). The validity period counts notBefore through notAfter inclusive.
pub(crate) fn short_lived(c: &Cert) -> bool {
    let v = &c.validity;
    let seconds = (v.not_after - v.not_before).whole_seconds() + 1;
    let issued = v.not_before.date();
    if issued >= date(2026, Month::March, 15).0 {
        seconds <= 7 * 86_400
    } else if issued >= date(2024, Month::March, 15).0 {
        seconds <= 10 * 86_400
    } else {
        false
    }
}

/// §7.1.2.11.2: "The CRL Distribution Points extension MUST be present in: ... Subscriber
/// Certificates that 1) do not qualify as 'Short-lived Subscriber Certificates' and 2) do
/// not include an Authority Information Access extension with an id-ad-ocsp
/// accessMethod."
pub(crate) const REVOCATION_INFORMATION_MISSING: Lint<Cert> = Lint {
    meta: Meta::new(
        "e_server_revocation_information_missing",
        Error,
        Source::CabfBr,
        "§7.1.2.11.2",
        "a server certificate with neither a CRL distribution point nor an OCSP URL (and not short-lived)",
    )
    .scope(SERVER)
    .effective(date(2024, Month::March, 15))
    .public_only(),
    check: |c| {
        if short_lived(c) {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!has_revocation_information(&c.claims), || {
            "no cRLDistributionPoints, and no id-ad-ocsp in authorityInformationAccess"
                .to_owned()
        })
    },
};

pub(crate) const LINTS: &[&Lint<Cert>] = &[&REVOCATION_INFORMATION_MISSING];
