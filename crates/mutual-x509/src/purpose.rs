//! What a certificate may be used for, and why: RFC 5280 §4.2.1.3 (key usage),
//! §4.2.1.9 (basic constraints) and §4.2.1.12 (extended key usage) read together.
//!
//! The rules: an absent EKU means any purpose; anyExtendedKeyUsage means any purpose;
//! when both KU and EKU are present a purpose must be consistent with both (serverAuth
//! wants digitalSignature, keyEncipherment or keyAgreement; clientAuth wants
//! digitalSignature or keyAgreement); a CA needs basicConstraints CA:TRUE and, when KU is
//! present, keyCertSign.

use serde::Serialize;

use crate::extensions::{
    EKU_ANY, EKU_CLIENT_AUTH, EKU_CODE_SIGNING, EKU_EMAIL_PROTECTION, EKU_OCSP_SIGNING,
    EKU_SERVER_AUTH, EKU_TIME_STAMPING, Eku, Extension, ExtensionValue, KeyUsageBit,
};

/// A use a leaf certificate can be put to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    ServerAuth,
    ClientAuth,
    CodeSigning,
    EmailProtection,
    TimeStamping,
    OcspSigning,
}

impl Usage {
    pub const ALL: [Usage; 6] = [
        Usage::ServerAuth,
        Usage::ClientAuth,
        Usage::CodeSigning,
        Usage::EmailProtection,
        Usage::TimeStamping,
        Usage::OcspSigning,
    ];

    pub fn oid(self) -> &'static str {
        match self {
            Usage::ServerAuth => EKU_SERVER_AUTH,
            Usage::ClientAuth => EKU_CLIENT_AUTH,
            Usage::CodeSigning => EKU_CODE_SIGNING,
            Usage::EmailProtection => EKU_EMAIL_PROTECTION,
            Usage::TimeStamping => EKU_TIME_STAMPING,
            Usage::OcspSigning => EKU_OCSP_SIGNING,
        }
    }

    /// The EKU name as RFC 5280 and openssl spell it.
    pub fn eku_name(self) -> &'static str {
        match self {
            Usage::ServerAuth => "serverAuth",
            Usage::ClientAuth => "clientAuth",
            Usage::CodeSigning => "codeSigning",
            Usage::EmailProtection => "emailProtection",
            Usage::TimeStamping => "timeStamping",
            Usage::OcspSigning => "OCSPSigning",
        }
    }

    /// The words people know from the Windows certificate dialog.
    pub fn plain(self) -> &'static str {
        match self {
            Usage::ServerAuth => "Ensures the identity of a remote computer",
            Usage::ClientAuth => "Proves your identity to a remote computer",
            Usage::CodeSigning => "Ensures software came from the software publisher",
            Usage::EmailProtection => "Protects e-mail messages",
            Usage::TimeStamping => "Allows data to be signed with the current time",
            Usage::OcspSigning => "Signs OCSP responses about certificates' revocation",
        }
    }

    /// Key usage bits of which at least one must be present when KU is (RFC 5280
    /// §4.2.1.12's table, as TLS uses the keys).
    pub fn compatible_key_usages(self) -> &'static [KeyUsageBit] {
        use KeyUsageBit as K;
        match self {
            Usage::ServerAuth => &[K::DigitalSignature, K::KeyEncipherment, K::KeyAgreement],
            Usage::ClientAuth => &[K::DigitalSignature, K::KeyAgreement],
            Usage::CodeSigning => &[K::DigitalSignature],
            Usage::EmailProtection => &[
                K::DigitalSignature,
                K::NonRepudiation,
                K::KeyEncipherment,
                K::KeyAgreement,
            ],
            Usage::TimeStamping | Usage::OcspSigning => &[K::DigitalSignature, K::NonRepudiation],
        }
    }
}

/// The one-word answer to "what is this certificate?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PurposeKind {
    Server,
    Client,
    ServerAndClient,
    RootCa,
    IntermediateCa,
    OcspSigning,
    CodeSigning,
    EmailProtection,
    Timestamping,
    /// No EKU, or anyExtendedKeyUsage: any purpose its key usage allows.
    Unrestricted,
    /// Restricted so that no purpose is left.
    Unusable,
    /// A CSR that requests nothing: the CA's profile will decide.
    Unspecified,
}

impl PurposeKind {
    pub fn title(self) -> &'static str {
        match self {
            PurposeKind::Server => "server certificate",
            PurposeKind::Client => "client certificate",
            PurposeKind::ServerAndClient => "server and client certificate",
            PurposeKind::RootCa => "root CA certificate",
            PurposeKind::IntermediateCa => "intermediate CA certificate",
            PurposeKind::OcspSigning => "OCSP signing certificate",
            PurposeKind::CodeSigning => "code signing certificate",
            PurposeKind::EmailProtection => "e-mail protection certificate",
            PurposeKind::Timestamping => "timestamping certificate",
            PurposeKind::Unrestricted => "unrestricted certificate (any purpose)",
            PurposeKind::Unusable => "certificate usable for no purpose",
            PurposeKind::Unspecified => "unspecified (the CA's profile decides)",
        }
    }
}

impl PurposeKind {
    /// The title with its indefinite article: "an intermediate CA certificate".
    pub fn with_article(self) -> String {
        let title = self.title();
        let vowel = title.starts_with(['a', 'e', 'i', 'o', 'u', 'O']);
        format!("{} {title}", if vowel { "an" } else { "a" })
    }
}

/// Whether one usage is allowed, and the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageVerdict {
    pub usage: Usage,
    pub eku: &'static str,
    pub description: &'static str,
    pub allowed: bool,
    pub reason: String,
}

/// A CA certificate's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CaRole {
    pub root: bool,
    /// How many intermediate CAs may follow below it; `None` is unlimited.
    pub path_len: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Purpose {
    pub kind: PurposeKind,
    /// One sentence for people: what it is and what it is for.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<CaRole>,
    pub usages: Vec<UsageVerdict>,
}

impl Purpose {
    pub fn allows(&self, usage: Usage) -> bool {
        self.usages.iter().any(|v| v.usage == usage && v.allowed)
    }
}

/// The facts about an object that decide its purpose.
#[derive(Debug, Clone, Default)]
pub struct PurposeFacts<'a> {
    pub basic_constraints: Option<(bool, Option<u32>)>,
    pub key_usage: Option<&'a [KeyUsageBit]>,
    pub eku: Option<&'a [Eku]>,
    /// Subject and issuer are the same and the certificate's own key verifies it.
    pub self_signed: bool,
}

impl<'a> PurposeFacts<'a> {
    pub fn from_extensions(extensions: &'a [Extension], self_signed: bool) -> Self {
        let mut facts = PurposeFacts {
            self_signed,
            ..PurposeFacts::default()
        };
        for extension in extensions {
            match &extension.value {
                ExtensionValue::BasicConstraints { ca, path_len } => {
                    facts.basic_constraints = Some((*ca, *path_len));
                }
                ExtensionValue::KeyUsage { usages } => facts.key_usage = Some(usages),
                ExtensionValue::ExtendedKeyUsage { purposes } => facts.eku = Some(purposes),
                _ => {}
            }
        }
        facts
    }

    /// True when KU, EKU and basicConstraints are all absent.
    pub fn is_empty(&self) -> bool {
        self.basic_constraints.is_none() && self.key_usage.is_none() && self.eku.is_none()
    }

    fn has_ku(&self, bit: KeyUsageBit) -> bool {
        self.key_usage.is_some_and(|ku| ku.contains(&bit))
    }

    fn has_eku(&self, oid: &str) -> bool {
        self.eku.is_some_and(|eku| eku.iter().any(|e| e.oid == oid))
    }

    /// basicConstraints CA:TRUE and, when KU is present, keyCertSign.
    pub fn is_ca(&self) -> bool {
        matches!(self.basic_constraints, Some((true, _)))
            && (self.key_usage.is_none() || self.has_ku(KeyUsageBit::KeyCertSign))
    }

    fn verdict(&self, usage: Usage) -> UsageVerdict {
        let eku_name = usage.eku_name();
        let (eku_ok, eku_reason) = match self.eku {
            None => (true, "no EKU extension means any purpose".to_owned()),
            Some(_) if self.has_eku(EKU_ANY) => (true, "EKU has anyExtendedKeyUsage".to_owned()),
            // Seven verdicts per certificate: concatenated rather than `format!`ed, which
            // was a tenth of decoding one (callgrind).
            Some(_) if self.has_eku(usage.oid()) => (true, ["EKU lists ", eku_name].concat()),
            Some(list) => (
                false,
                [
                    "EKU lists only ",
                    &list
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    ", not ",
                    eku_name,
                ]
                .concat(),
            ),
        };
        let wanted = usage.compatible_key_usages();
        let (ku_ok, ku_reason) = match self.key_usage {
            None => (true, None),
            Some(ku) => match wanted.iter().find(|bit| ku.contains(bit)) {
                Some(bit) => (true, Some(["KU has ", bit.as_str()].concat())),
                None => (
                    false,
                    Some(
                        [
                            "KU (",
                            &join_bits(ku),
                            ") has none of ",
                            &join_bits(wanted),
                            " that ",
                            eku_name,
                            " needs",
                        ]
                        .concat(),
                    ),
                ),
            },
        };
        let reason = match (eku_ok, ku_ok, ku_reason) {
            (true, true, Some(ku)) => [eku_reason.as_str(), " and ", &ku].concat(),
            (true, true, None) => eku_reason,
            (false, _, _) => eku_reason,
            (true, false, ku) => ku.unwrap_or_default(),
        };
        UsageVerdict {
            usage,
            eku: eku_name,
            description: usage.plain(),
            allowed: eku_ok && ku_ok,
            reason,
        }
    }

    /// Classifies. `for_request` is set for CSRs, where requesting nothing is normal.
    pub fn assess(&self, for_request: bool) -> Purpose {
        let usages: Vec<UsageVerdict> = Usage::ALL.into_iter().map(|u| self.verdict(u)).collect();
        let allowed = |usage: Usage| usages.iter().any(|v| v.usage == usage && v.allowed);
        let ca = self.is_ca().then(|| CaRole {
            root: self.self_signed,
            path_len: self.basic_constraints.and_then(|(_, len)| len),
        });
        let kind = if let Some(role) = ca {
            if role.root {
                PurposeKind::RootCa
            } else {
                PurposeKind::IntermediateCa
            }
        } else if for_request && self.is_empty() {
            PurposeKind::Unspecified
        } else if self.eku.is_none() || self.has_eku(EKU_ANY) {
            if usages.iter().any(|v| v.allowed) {
                PurposeKind::Unrestricted
            } else {
                PurposeKind::Unusable
            }
        } else {
            match (allowed(Usage::ServerAuth), allowed(Usage::ClientAuth)) {
                (true, true) => PurposeKind::ServerAndClient,
                (true, false) => PurposeKind::Server,
                (false, true) => PurposeKind::Client,
                (false, false) if allowed(Usage::OcspSigning) => PurposeKind::OcspSigning,
                (false, false) if allowed(Usage::CodeSigning) => PurposeKind::CodeSigning,
                (false, false) if allowed(Usage::EmailProtection) => PurposeKind::EmailProtection,
                (false, false) if allowed(Usage::TimeStamping) => PurposeKind::Timestamping,
                (false, false) => PurposeKind::Unusable,
            }
        };
        let summary = summary(kind, ca, &usages);
        Purpose {
            kind,
            summary,
            ca,
            usages,
        }
    }
}

fn join_bits(bits: &[KeyUsageBit]) -> String {
    bits.iter()
        .map(|b| b.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary(kind: PurposeKind, ca: Option<CaRole>, usages: &[UsageVerdict]) -> String {
    let title = {
        let lower = kind.with_article();
        let mut chars = lower.chars();
        chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect::<String>())
            .unwrap_or_default()
    };
    let mut text = match kind {
        PurposeKind::Server => format!("{title}: {}.", Usage::ServerAuth.plain().to_lowercase()),
        PurposeKind::Client => format!("{title}: {}.", Usage::ClientAuth.plain().to_lowercase()),
        PurposeKind::ServerAndClient => format!(
            "{title}: {} and {}.",
            Usage::ServerAuth.plain().to_lowercase(),
            Usage::ClientAuth.plain().to_lowercase()
        ),
        PurposeKind::RootCa | PurposeKind::IntermediateCa => {
            let depth = match ca.and_then(|c| c.path_len) {
                Some(0) => "it may sign only end-entity certificates (pathlen 0)".to_owned(),
                Some(n) => format!("at most {n} more CA certificates may follow below it"),
                None => "no limit on CA certificates below it".to_owned(),
            };
            format!("{title}: it signs other certificates; {depth}.")
        }
        PurposeKind::Unusable => {
            "This certificate MUST NOT be used for any purpose: its key usage and extended key usage have no purpose in common.".to_owned()
        }
        PurposeKind::Unspecified => {
            "The request asks for no key usage, extended key usage or CA status: the CA's profile decides what it becomes.".to_owned()
        }
        _ => {
            let list: Vec<&str> = usages
                .iter()
                .filter(|v| v.allowed)
                .map(|v| v.description)
                .collect();
            format!("{title}: {}.", list.join("; ").to_lowercase())
        }
    };
    if matches!(kind, PurposeKind::RootCa | PurposeKind::IntermediateCa) {
        let leaf: Vec<&str> = usages.iter().filter(|v| v.allowed).map(|v| v.eku).collect();
        if !leaf.is_empty() && leaf.len() < Usage::ALL.len() {
            text.push_str(&format!(
                " Its EKU limits what it vouches for to {}.",
                leaf.join(", ")
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeyUsageBit as K;

    fn eku(oids: &[&str]) -> Vec<Eku> {
        oids.iter()
            .map(|oid| Eku {
                name: crate::oids::name_or_oid(oid),
                oid: (*oid).to_owned(),
            })
            .collect()
    }

    fn facts<'a>(
        bc: Option<(bool, Option<u32>)>,
        ku: Option<&'a [KeyUsageBit]>,
        eku: Option<&'a [Eku]>,
    ) -> PurposeFacts<'a> {
        PurposeFacts {
            basic_constraints: bc,
            key_usage: ku,
            eku,
            self_signed: false,
        }
    }

    #[test]
    fn absent_eku_means_any_purpose() {
        let p = facts(None, None, None).assess(false);
        assert_eq!(p.kind, PurposeKind::Unrestricted);
        assert!(Usage::ALL.iter().all(|u| p.allows(*u)));
    }

    #[test]
    fn key_usage_narrows_an_absent_eku() {
        let ku = [K::KeyEncipherment];
        let p = facts(None, Some(&ku), None).assess(false);
        assert_eq!(p.kind, PurposeKind::Unrestricted);
        assert!(p.allows(Usage::ServerAuth));
        assert!(
            !p.allows(Usage::ClientAuth),
            "clientAuth needs digitalSignature or keyAgreement"
        );
    }

    #[test]
    fn server_client_and_both() {
        let ku = [K::DigitalSignature];
        let server = eku(&[EKU_SERVER_AUTH]);
        let client = eku(&[EKU_CLIENT_AUTH]);
        let both = eku(&[EKU_SERVER_AUTH, EKU_CLIENT_AUTH]);
        assert_eq!(
            facts(None, Some(&ku), Some(&server)).assess(false).kind,
            PurposeKind::Server
        );
        assert_eq!(
            facts(None, Some(&ku), Some(&client)).assess(false).kind,
            PurposeKind::Client
        );
        assert_eq!(
            facts(None, Some(&ku), Some(&both)).assess(false).kind,
            PurposeKind::ServerAndClient
        );
    }

    #[test]
    fn ku_eku_contradiction_is_unusable() {
        let ku = [K::CrlSign];
        let server = eku(&[EKU_SERVER_AUTH]);
        let p = facts(None, Some(&ku), Some(&server)).assess(false);
        assert_eq!(p.kind, PurposeKind::Unusable);
        assert!(p.summary.contains("MUST NOT be used for any purpose"));
        let reason = &p.usages[0].reason;
        assert!(
            reason.contains("cRLSign") && reason.contains("digitalSignature"),
            "{reason}"
        );
    }

    #[test]
    fn rsa_key_exchange_only_server() {
        // keyEncipherment satisfies serverAuth (RSA key transport) but not clientAuth.
        let ku = [K::KeyEncipherment];
        let both = eku(&[EKU_SERVER_AUTH, EKU_CLIENT_AUTH]);
        let p = facts(None, Some(&ku), Some(&both)).assess(false);
        assert_eq!(p.kind, PurposeKind::Server);
    }

    #[test]
    fn ca_needs_key_cert_sign_when_ku_present() {
        let ku = [K::KeyCertSign, K::CrlSign];
        let mut f = facts(Some((true, Some(0))), Some(&ku), None);
        assert_eq!(f.assess(false).kind, PurposeKind::IntermediateCa);
        f.self_signed = true;
        let root = f.assess(false);
        assert_eq!(root.kind, PurposeKind::RootCa);
        assert_eq!(root.ca.and_then(|c| c.path_len), Some(0));

        let leafish = [K::DigitalSignature];
        assert!(!facts(Some((true, None)), Some(&leafish), None).is_ca());
        assert!(!facts(Some((false, None)), None, None).is_ca());
    }

    #[test]
    fn ocsp_signer_and_any_eku() {
        let ku = [K::DigitalSignature];
        let ocsp = eku(&[EKU_OCSP_SIGNING]);
        assert_eq!(
            facts(None, Some(&ku), Some(&ocsp)).assess(false).kind,
            PurposeKind::OcspSigning
        );
        let any = eku(&[EKU_ANY]);
        assert_eq!(
            facts(None, Some(&ku), Some(&any)).assess(false).kind,
            PurposeKind::Unrestricted
        );
    }

    #[test]
    fn empty_request_is_unspecified() {
        assert_eq!(
            facts(None, None, None).assess(true).kind,
            PurposeKind::Unspecified
        );
    }
}
