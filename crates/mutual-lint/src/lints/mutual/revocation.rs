//! Revocation that relying parties can check: a leaf that names neither a CRL
//! distribution point nor an OCSP responder can be revoked, but nobody who meets it is
//! told where to look.

use crate::lints::cabf::revocation::{has_revocation_information, short_lived};
use crate::meta::prelude::*;
use crate::subject::Cert;

/// RFC 5280 §4.2.1.13 ("this profile RECOMMENDS support for this extension by CAs and
/// applications") and §4.2.2.1 (id-ad-ocsp): without either pointer, a relying party
/// learns of a revocation only if it was set up out of band — a CRL file handed to the
/// server (NGINX `ssl_crl`, Envoy's `crl`), which is common for client certificates in
/// mTLS. So a notice, not a warning: under `--trust private` it is what a CA home without
/// a `[server] url` issues, and that is a choice, not a defect.
///
/// Not for server certificates (`e_server_revocation_information_missing` says it, with
/// the BR's severity under `--trust public`), nor for OCSP responders (RFC 6960
/// §4.2.2.2.1: id-pkix-ocsp-nocheck, relying parties do not check them), nor for
/// short-lived certificates (BR §1.6.1: they expire before a revocation would spread).
pub(crate) const REVOCATION_INFORMATION_MISSING: Lint<Cert> = Lint {
    meta: Meta::new(
        "n_leaf_revocation_information_missing",
        Notice,
        Source::Mutual,
        "RFC 5280 §4.2.1.13, §4.2.2.1",
        "a client certificate (or a leaf of no profile) with neither a CRL distribution point nor an OCSP URL: relying parties are not told where to check revocation",
    )
    .scope(LEAF),
    check: |c| {
        let profiles = c.claims.profiles;
        if profiles.contains(Profile::Server) || profiles.contains(Profile::Ocsp) || short_lived(c)
        {
            return Outcome::NotApplicable;
        }
        Outcome::fail_if(!has_revocation_information(&c.claims), || {
            "no cRLDistributionPoints, and no id-ad-ocsp in authorityInformationAccess"
                .to_owned()
        })
    },
};

pub(crate) const LINTS: &[&Lint<Cert>] = &[&REVOCATION_INFORMATION_MISSING];
