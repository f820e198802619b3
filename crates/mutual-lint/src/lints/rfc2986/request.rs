//! RFC 2986: what a certification request must be — a version 1 request signed by the key
//! it carries (proof of possession).

use mutual_x509::SignatureCheck;

use crate::meta::prelude::*;
use crate::subject::Request;

/// §4.1: "version is the version number ... It shall be 0 for this version of the
/// standard."
pub(crate) const VERSION: Lint<Request> = Lint {
    meta: Meta::new(
        "e_csr_version_not_1",
        Error,
        Source::Rfc2986,
        "§4.1",
        "a certification request whose version is not v1 (0)",
    ),
    check: |r| Outcome::fail_if(r.version != 0, || format!("version field {}", r.version)),
};

/// §3: the requester signs the CertificationRequestInfo "with the certification request
/// subject's private key" — a signature that does not verify proves no possession.
pub(crate) const SIGNATURE_INVALID: Lint<Request> = Lint {
    meta: Meta::new(
        "e_csr_signature_invalid",
        Error,
        Source::Rfc2986,
        "§3",
        "the request's signature does not verify with the key it carries",
    ),
    check: |r| match r.decoded.signature {
        SignatureCheck::Valid => Outcome::Pass,
        SignatureCheck::Invalid => Outcome::Fail("signature does not verify".to_owned()),
        _ => Outcome::NotApplicable,
    },
};

/// A request with neither subject nor subjectAltName asks for a certificate naming nobody.
pub(crate) const NAMES_NOTHING: Lint<Request> = Lint {
    meta: Meta::new(
        "w_csr_names_nothing",
        Warn,
        Source::Mutual,
        "RFC 5280 §4.1.2.6",
        "a request with an empty subject and no subjectAltName",
    ),
    check: |r| {
        Outcome::fail_if(
            r.decoded.subject.is_empty() && r.claims.san.is_empty(),
            || "empty subject, no SAN requested".to_owned(),
        )
    },
};

/// A request that asks to become a CA: a leaf profile must not grant it.
pub(crate) const REQUESTS_CA: Lint<Request> = Lint {
    meta: Meta::new(
        "n_csr_requests_ca",
        Notice,
        Source::Mutual,
        "RFC 5280 §4.2.1.9",
        "a request asking for basicConstraints CA:TRUE",
    ),
    check: |r| Outcome::fail_if(r.claims.ca_flag(), || "CA:TRUE requested".to_owned()),
};

pub(crate) const LINTS: &[&Lint<Request>] =
    &[&VERSION, &SIGNATURE_INVALID, &NAMES_NOTHING, &REQUESTS_CA];
