//! The stable names of everything `verify` can find wrong with a chain; `probe` and
//! `gateway` report with the same ones.

use serde::Serialize;

/// One kind of problem. The `snake_case` name is a contract: scripts match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    EkuMismatch,
    KuEkuInconsistent,
    NoUsablePurpose,
    UnknownIssuer,
    UntrustedRoot,
    ChainOrder,
    Expired,
    NotYetValid,
    HostnameMismatch,
    Revoked,
    RevocationUnknown,
    CaNotAuthorized,
    PathLengthExceeded,
    NameConstraintsViolated,
    BadSignature,
    UnsupportedSignatureAlgorithm,
    WeakKey,
    SelfSignedLeaf,
    MaxDepthExceeded,
    MalformedCertificate,
    /// A warning: the leaf has no EKU, so it is accepted for any purpose.
    NoEku,
    /// A warning: the OCSP responder did not echo the request's nonce.
    OcspNoNonce,
}

impl Code {
    pub const ALL: [Code; 22] = [
        Code::EkuMismatch,
        Code::KuEkuInconsistent,
        Code::NoUsablePurpose,
        Code::UnknownIssuer,
        Code::UntrustedRoot,
        Code::ChainOrder,
        Code::Expired,
        Code::NotYetValid,
        Code::HostnameMismatch,
        Code::Revoked,
        Code::RevocationUnknown,
        Code::CaNotAuthorized,
        Code::PathLengthExceeded,
        Code::NameConstraintsViolated,
        Code::BadSignature,
        Code::UnsupportedSignatureAlgorithm,
        Code::WeakKey,
        Code::SelfSignedLeaf,
        Code::MaxDepthExceeded,
        Code::MalformedCertificate,
        Code::NoEku,
        Code::OcspNoNonce,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::EkuMismatch => "eku_mismatch",
            Code::KuEkuInconsistent => "ku_eku_inconsistent",
            Code::NoUsablePurpose => "no_usable_purpose",
            Code::UnknownIssuer => "unknown_issuer",
            Code::UntrustedRoot => "untrusted_root",
            Code::ChainOrder => "chain_order",
            Code::Expired => "expired",
            Code::NotYetValid => "not_yet_valid",
            Code::HostnameMismatch => "hostname_mismatch",
            Code::Revoked => "revoked",
            Code::RevocationUnknown => "revocation_unknown",
            Code::CaNotAuthorized => "ca_not_authorized",
            Code::PathLengthExceeded => "path_length_exceeded",
            Code::NameConstraintsViolated => "name_constraints_violated",
            Code::BadSignature => "bad_signature",
            Code::UnsupportedSignatureAlgorithm => "unsupported_signature_algorithm",
            Code::WeakKey => "weak_key",
            Code::SelfSignedLeaf => "self_signed_leaf",
            Code::MaxDepthExceeded => "max_depth_exceeded",
            Code::MalformedCertificate => "malformed_certificate",
            Code::NoEku => "no_eku",
            Code::OcspNoNonce => "ocsp_no_nonce",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(seen.insert(code.as_str()));
        }
    }
}
