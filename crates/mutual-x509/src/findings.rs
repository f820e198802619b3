//! The oddities `inspect` points out in a certificate: legal or not, each is something
//! that bites people. Codes come from one match so they stay stable.

use crate::diagnosis::{Diagnosis, Severity};

/// One oddity found in a certificate, with its evidence.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    ServerWithoutSan {
        common_name: Option<String>,
    },
    ClientWithDnsSan {
        names: Vec<String>,
    },
    ServerAndClientEku,
    KeyUsageContradictsEku {
        key_usage: String,
        eku: String,
    },
    LeafMarkedCa {
        reason: String,
    },
    SelfSignedLeaf,
    Expired {
        not_after: String,
        relative: String,
    },
    NotYetValid {
        not_before: String,
        relative: String,
    },
    UnknownCriticalExtension {
        oid: String,
    },
    MalformedExtension {
        name: String,
        error: String,
    },
    NegativeSerial {
        serial: String,
    },
    SerialTooLong {
        octets: usize,
    },
    ZeroSerial,
    NameNotWellEncoded {
        field: &'static str,
        attribute: String,
        string_type: &'static str,
    },
    SelfSignatureInvalid,
}

impl Finding {
    pub fn code(&self) -> &'static str {
        match self {
            Finding::ServerWithoutSan { .. } => "server_missing_san",
            Finding::ClientWithDnsSan { .. } => "client_has_dns_san",
            Finding::ServerAndClientEku => "server_and_client_eku",
            Finding::KeyUsageContradictsEku { .. } => "ku_eku_conflict",
            Finding::LeafMarkedCa { .. } => "leaf_marked_ca",
            Finding::SelfSignedLeaf => "self_signed_leaf",
            Finding::Expired { .. } => "expired",
            Finding::NotYetValid { .. } => "not_yet_valid",
            Finding::UnknownCriticalExtension { .. } => "unknown_critical_extension",
            Finding::MalformedExtension { .. } => "malformed_extension",
            Finding::NegativeSerial { .. } => "serial_negative",
            Finding::SerialTooLong { .. } => "serial_too_long",
            Finding::ZeroSerial => "serial_zero",
            Finding::NameNotWellEncoded { .. } => "name_bad_encoding",
            Finding::SelfSignatureInvalid => "self_signature_invalid",
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            Finding::ServerWithoutSan { .. }
            | Finding::KeyUsageContradictsEku { .. }
            | Finding::Expired { .. }
            | Finding::NotYetValid { .. }
            | Finding::UnknownCriticalExtension { .. }
            | Finding::MalformedExtension { .. }
            | Finding::SelfSignatureInvalid => Severity::Error,
            Finding::ClientWithDnsSan { .. }
            | Finding::ServerAndClientEku
            | Finding::LeafMarkedCa { .. }
            | Finding::SelfSignedLeaf
            | Finding::NegativeSerial { .. }
            | Finding::SerialTooLong { .. }
            | Finding::ZeroSerial
            | Finding::NameNotWellEncoded { .. } => Severity::Warning,
        }
    }

    pub fn diagnosis(&self) -> Diagnosis {
        let d = Diagnosis::new(self.code(), self.severity(), self.message());
        match self {
            Finding::ServerWithoutSan { common_name } => d
                .with_evidence("subjectAltName", "absent")
                .with_evidence("subject CN", common_name.as_deref().unwrap_or("(none)"))
                .with_fix("Reissue with the host names in the SAN (mutual issue server HOST...); browsers and most TLS clients ignore the CN."),
            Finding::ClientWithDnsSan { names } => d
                .with_evidence("subjectAltName", names.join(", "))
                .with_fix("Identify clients by CN, email or URI (e.g. SPIFFE IDs); DNS names belong to servers."),
            Finding::ServerAndClientEku => d
                .with_evidence("extendedKeyUsage", "serverAuth, clientAuth")
                .with_fix("Issue separate server and client certificates, from separate CAs."),
            Finding::KeyUsageContradictsEku { key_usage, eku } => d
                .with_evidence("keyUsage", key_usage.clone())
                .with_evidence("extendedKeyUsage", eku.clone())
                .with_fix("Reissue with a key usage that fits the EKU, e.g. digitalSignature for TLS."),
            Finding::LeafMarkedCa { reason } => d
                .with_evidence("basicConstraints", "CA:TRUE")
                .with_evidence("why it looks like a leaf", reason.clone())
                .with_fix("Reissue the leaf with CA:FALSE; a leaf that can sign certificates is a CA in attackers' hands."),
            Finding::SelfSignedLeaf => d
                .with_fix("Issue it from a CA (mutual init, then mutual issue) so relying parties trust the CA, not each leaf."),
            Finding::Expired { not_after, relative } => d
                .with_evidence("notAfter", not_after.clone())
                .with_evidence("status", relative.clone())
                .with_fix("Renew or reissue it."),
            Finding::NotYetValid { not_before, relative } => d
                .with_evidence("notBefore", not_before.clone())
                .with_evidence("status", relative.clone())
                .with_fix("Check the clock of the machine that issued it, or wait."),
            Finding::UnknownCriticalExtension { oid } => d
                .with_evidence("extension", oid.clone())
                .with_fix("Relying parties must reject it (RFC 5280 §4.2); reissue without the extension or mark it non-critical."),
            Finding::MalformedExtension { name, error } => d.with_evidence(name.clone(), error.clone()),
            Finding::NegativeSerial { serial } => d
                .with_evidence("serialNumber", serial.clone())
                .with_fix("RFC 5280 §4.1.2.2 requires a positive serial; strict clients reject it."),
            Finding::SerialTooLong { octets } => d
                .with_evidence("serialNumber length", format!("{octets} octets"))
                .with_fix("RFC 5280 §4.1.2.2 allows at most 20 octets; some clients reject longer serials."),
            Finding::ZeroSerial => d.with_evidence("serialNumber", "0"),
            Finding::NameNotWellEncoded { field, attribute, string_type } => d
                .with_evidence(*field, attribute.clone())
                .with_evidence("string type", *string_type),
            Finding::SelfSignatureInvalid => d
                .with_fix("The certificate claims to sign itself but its key does not verify the signature: it was altered or mis-built."),
        }
    }

    fn message(&self) -> String {
        match self {
            Finding::ServerWithoutSan { .. } => "Server certificate without a DNS or IP SAN: browsers and modern TLS clients reject certificates that name the host only in the CN.".to_owned(),
            Finding::ClientWithDnsSan { names } => format!("Client certificate carries DNS SANs ({}): DNS names identify servers, and a gateway matching on SANs may mistake it for one.", names.join(", ")),
            Finding::ServerAndClientEku => "Both serverAuth and clientAuth on one leaf: one compromised key then opens both directions, and browser root programs are separating the two.".to_owned(),
            Finding::KeyUsageContradictsEku { .. } => "Key usage and extended key usage have no purpose in common: this certificate MUST NOT be used for any purpose (RFC 5280 §4.2.1.12).".to_owned(),
            Finding::LeafMarkedCa { reason } => format!("Looks like a leaf ({reason}) but has basicConstraints CA:TRUE."),
            Finding::SelfSignedLeaf => "Self-signed leaf certificate: nothing vouches for it except itself, so every client must pin it.".to_owned(),
            Finding::Expired { relative, .. } => format!("Certificate has expired ({relative})."),
            Finding::NotYetValid { relative, .. } => format!("Certificate is not valid yet ({relative})."),
            Finding::UnknownCriticalExtension { oid } => format!("Unknown critical extension {oid}: a relying party that does not understand it must reject the certificate."),
            Finding::MalformedExtension { name, .. } => format!("Extension {name} does not decode."),
            Finding::NegativeSerial { .. } => "Serial number is negative.".to_owned(),
            Finding::SerialTooLong { octets } => format!("Serial number is {octets} octets long; the limit is 20."),
            Finding::ZeroSerial => "Serial number is zero; RFC 5280 requires a positive integer.".to_owned(),
            Finding::NameNotWellEncoded { field, attribute, string_type } => format!("{field} attribute {attribute} is not valid {string_type}; it is shown with replacement characters."),
            Finding::SelfSignatureInvalid => "Self-issued certificate whose signature does not verify with its own key.".to_owned(),
        }
    }
}
