//! X.509 extensions decoded by name, each with its criticality, in a form that renders
//! as text and as JSON alike.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use x509_parser::extensions::{self as x509ext, ParsedExtension, X509Extension};

use crate::hex;
use crate::name::DistinguishedName;
use crate::oids;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extension {
    pub oid: String,
    /// The extension's name, or its OID when unknown.
    pub name: String,
    pub critical: bool,
    #[serde(flatten)]
    pub value: ExtensionValue,
}

/// The decoded content of an extension; `kind` in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExtensionValue {
    SubjectAltName {
        names: Vec<GeneralName>,
    },
    IssuerAltName {
        names: Vec<GeneralName>,
    },
    KeyUsage {
        usages: Vec<KeyUsageBit>,
    },
    ExtendedKeyUsage {
        purposes: Vec<Eku>,
    },
    BasicConstraints {
        ca: bool,
        path_len: Option<u32>,
    },
    SubjectKeyIdentifier {
        key_id: String,
    },
    AuthorityKeyIdentifier {
        key_id: Option<String>,
        issuer: Vec<GeneralName>,
        serial: Option<String>,
    },
    AuthorityInfoAccess {
        access: Vec<AccessDescription>,
    },
    SubjectInfoAccess {
        access: Vec<AccessDescription>,
    },
    CrlDistributionPoints {
        points: Vec<DistributionPoint>,
    },
    CertificatePolicies {
        policies: Vec<Policy>,
    },
    NameConstraints {
        permitted: Vec<GeneralName>,
        excluded: Vec<GeneralName>,
    },
    PolicyConstraints {
        require_explicit_policy: Option<u32>,
        inhibit_policy_mapping: Option<u32>,
    },
    InhibitAnyPolicy {
        skip_certs: u32,
    },
    SignedCertificateTimestamps {
        count: usize,
        timestamps: Vec<Sct>,
    },
    CrlNumber {
        number: String,
    },
    ReasonCode {
        reason: String,
    },
    NetscapeCertType {
        types: Vec<&'static str>,
    },
    /// An extension this decoder does not know; its value in hex.
    Unknown {
        value_hex: String,
    },
    /// A known extension whose value does not decode.
    Malformed {
        error: String,
        value_hex: String,
    },
}

/// A GeneralName (RFC 5280 §4.2.1.6); `type` and `value` in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum GeneralName {
    Dns(String),
    Ip(String),
    Email(String),
    Uri(String),
    DirectoryName(String),
    RegisteredId(String),
    OtherName { oid: String, value_hex: String },
    Other(String),
}

impl GeneralName {
    fn from_x509(name: &x509ext::GeneralName<'_>) -> Self {
        use x509ext::GeneralName as G;
        match name {
            G::DNSName(s) => GeneralName::Dns((*s).to_owned()),
            G::RFC822Name(s) => GeneralName::Email((*s).to_owned()),
            G::URI(s) => GeneralName::Uri((*s).to_owned()),
            G::IPAddress(bytes) => GeneralName::Ip(ip_to_string(bytes)),
            G::DirectoryName(name) => {
                GeneralName::DirectoryName(DistinguishedName::from_x509(name).rfc4514)
            }
            G::RegisteredID(oid) => GeneralName::RegisteredId(crate::oids::dotted(oid)),
            G::OtherName(oid, value) => GeneralName::OtherName {
                oid: crate::oids::dotted(oid),
                value_hex: hex::lower(value),
            },
            G::X400Address(_) => GeneralName::Other("x400Address".to_owned()),
            G::EDIPartyName(_) => GeneralName::Other("ediPartyName".to_owned()),
            G::Invalid(tag, bytes) => GeneralName::Other(format!(
                "invalid (tag {}, {} bytes: {})",
                tag.0,
                bytes.len(),
                String::from_utf8_lossy(bytes)
            )),
        }
    }

    /// `DNS:example.com`, as openssl prints names.
    pub fn display(&self) -> String {
        match self {
            GeneralName::Dns(v) => format!("DNS:{v}"),
            GeneralName::Ip(v) => format!("IP:{v}"),
            GeneralName::Email(v) => format!("email:{v}"),
            GeneralName::Uri(v) => format!("URI:{v}"),
            GeneralName::DirectoryName(v) => format!("DirName:{v}"),
            GeneralName::RegisteredId(v) => format!("RID:{v}"),
            GeneralName::OtherName { oid, value_hex } => {
                format!("othername:{}:{value_hex}", oids::name_or_oid(oid))
            }
            GeneralName::Other(v) => v.clone(),
        }
    }
}

/// IP addresses, and in name constraints address/mask pairs rendered as CIDR.
fn ip_to_string(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            Ipv6Addr::from(octets).to_string()
        }
        8 | 32 => {
            let (addr, mask) = bytes.split_at(bytes.len() / 2);
            let prefix: u32 = mask.iter().map(|b| b.count_ones()).sum();
            format!("{}/{prefix}", ip_to_string(addr))
        }
        _ => format!("invalid ({} bytes: {})", bytes.len(), hex::lower(bytes)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyUsageBit {
    DigitalSignature,
    NonRepudiation,
    KeyEncipherment,
    DataEncipherment,
    KeyAgreement,
    KeyCertSign,
    #[serde(rename = "cRLSign")]
    CrlSign,
    EncipherOnly,
    DecipherOnly,
}

impl KeyUsageBit {
    pub const ALL: [KeyUsageBit; 9] = [
        KeyUsageBit::DigitalSignature,
        KeyUsageBit::NonRepudiation,
        KeyUsageBit::KeyEncipherment,
        KeyUsageBit::DataEncipherment,
        KeyUsageBit::KeyAgreement,
        KeyUsageBit::KeyCertSign,
        KeyUsageBit::CrlSign,
        KeyUsageBit::EncipherOnly,
        KeyUsageBit::DecipherOnly,
    ];

    /// The RFC 5280 name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsageBit::DigitalSignature => "digitalSignature",
            KeyUsageBit::NonRepudiation => "nonRepudiation",
            KeyUsageBit::KeyEncipherment => "keyEncipherment",
            KeyUsageBit::DataEncipherment => "dataEncipherment",
            KeyUsageBit::KeyAgreement => "keyAgreement",
            KeyUsageBit::KeyCertSign => "keyCertSign",
            KeyUsageBit::CrlSign => "cRLSign",
            KeyUsageBit::EncipherOnly => "encipherOnly",
            KeyUsageBit::DecipherOnly => "decipherOnly",
        }
    }

    fn is_set(self, ku: &x509ext::KeyUsage) -> bool {
        match self {
            KeyUsageBit::DigitalSignature => ku.digital_signature(),
            KeyUsageBit::NonRepudiation => ku.non_repudiation(),
            KeyUsageBit::KeyEncipherment => ku.key_encipherment(),
            KeyUsageBit::DataEncipherment => ku.data_encipherment(),
            KeyUsageBit::KeyAgreement => ku.key_agreement(),
            KeyUsageBit::KeyCertSign => ku.key_cert_sign(),
            KeyUsageBit::CrlSign => ku.crl_sign(),
            KeyUsageBit::EncipherOnly => ku.encipher_only(),
            KeyUsageBit::DecipherOnly => ku.decipher_only(),
        }
    }
}

/// An extended key usage purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Eku {
    /// `serverAuth`, `clientAuth`, ... or the OID when unknown.
    pub name: String,
    pub oid: String,
}

pub(crate) const EKU_ANY: &str = "2.5.29.37.0";
pub(crate) const EKU_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
pub(crate) const EKU_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
pub(crate) const EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
pub(crate) const EKU_EMAIL_PROTECTION: &str = "1.3.6.1.5.5.7.3.4";
pub(crate) const EKU_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
pub(crate) const EKU_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

impl Eku {
    fn from_oid(oid: &str) -> Self {
        Eku {
            name: oids::name_or_oid(oid),
            oid: oid.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessDescription {
    /// `OCSP`, `CA Issuers`, or the OID.
    pub method: String,
    pub location: GeneralName,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DistributionPoint {
    pub names: Vec<GeneralName>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub crl_issuer: Vec<GeneralName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub oid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sct {
    /// base64 of the 32-byte log id.
    pub log_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: time::OffsetDateTime,
}

impl Extension {
    pub fn from_x509(ext: &X509Extension<'_>) -> Self {
        let oid = crate::oids::dotted(&ext.oid);
        Extension {
            name: oids::name_or_oid(&oid),
            critical: ext.critical,
            value: decode_value(ext),
            oid,
        }
    }
}

fn names(list: &[x509ext::GeneralName<'_>]) -> Vec<GeneralName> {
    list.iter().map(GeneralName::from_x509).collect()
}

fn decode_value(ext: &X509Extension<'_>) -> ExtensionValue {
    use ParsedExtension as P;
    match ext.parsed_extension() {
        P::SubjectAlternativeName(san) => ExtensionValue::SubjectAltName {
            names: names(&san.general_names),
        },
        P::IssuerAlternativeName(ian) => ExtensionValue::IssuerAltName {
            names: names(&ian.general_names),
        },
        P::KeyUsage(ku) => ExtensionValue::KeyUsage {
            usages: KeyUsageBit::ALL
                .into_iter()
                .filter(|bit| bit.is_set(ku))
                .collect(),
        },
        P::ExtendedKeyUsage(eku) => {
            let mut purposes = Vec::new();
            for (present, oid) in [
                (eku.any, EKU_ANY),
                (eku.server_auth, EKU_SERVER_AUTH),
                (eku.client_auth, EKU_CLIENT_AUTH),
                (eku.code_signing, EKU_CODE_SIGNING),
                (eku.email_protection, EKU_EMAIL_PROTECTION),
                (eku.time_stamping, EKU_TIME_STAMPING),
                (eku.ocsp_signing, EKU_OCSP_SIGNING),
            ] {
                if present {
                    purposes.push(Eku::from_oid(oid));
                }
            }
            purposes.extend(
                eku.other
                    .iter()
                    .map(|o| Eku::from_oid(&crate::oids::dotted(o))),
            );
            ExtensionValue::ExtendedKeyUsage { purposes }
        }
        P::BasicConstraints(bc) => ExtensionValue::BasicConstraints {
            ca: bc.ca,
            path_len: bc.path_len_constraint,
        },
        P::SubjectKeyIdentifier(id) => ExtensionValue::SubjectKeyIdentifier {
            key_id: hex::colon_upper(id.0),
        },
        P::AuthorityKeyIdentifier(aki) => ExtensionValue::AuthorityKeyIdentifier {
            key_id: aki.key_identifier.as_ref().map(|id| hex::colon_upper(id.0)),
            issuer: aki
                .authority_cert_issuer
                .as_deref()
                .map(names)
                .unwrap_or_default(),
            serial: aki.authority_cert_serial.map(hex::colon_upper),
        },
        P::AuthorityInfoAccess(aia) => ExtensionValue::AuthorityInfoAccess {
            access: access(aia.iter()),
        },
        P::SubjectInfoAccess(sia) => ExtensionValue::SubjectInfoAccess {
            access: access(sia.iter()),
        },
        P::CRLDistributionPoints(points) => ExtensionValue::CrlDistributionPoints {
            points: points
                .points
                .iter()
                .map(|point| DistributionPoint {
                    names: match &point.distribution_point {
                        Some(x509ext::DistributionPointName::FullName(list)) => names(list),
                        Some(x509ext::DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                            vec![GeneralName::Other("nameRelativeToCRLIssuer".to_owned())]
                        }
                        None => Vec::new(),
                    },
                    crl_issuer: point.crl_issuer.as_deref().map(names).unwrap_or_default(),
                })
                .collect(),
        },
        P::CertificatePolicies(policies) => ExtensionValue::CertificatePolicies {
            policies: policies
                .iter()
                .map(|p| {
                    let oid = crate::oids::dotted(&p.policy_id);
                    Policy {
                        name: oids::name(&oid),
                        cps: p
                            .policy_qualifiers
                            .iter()
                            .flatten()
                            .filter(|q| {
                                crate::oids::dotted(&q.policy_qualifier_id) == "1.3.6.1.5.5.7.2.1"
                            })
                            .map(|q| ia5_content(q.qualifier))
                            .collect(),
                        oid,
                    }
                })
                .collect(),
        },
        P::NameConstraints(nc) => {
            let subtrees = |list: &Option<Vec<x509ext::GeneralSubtree<'_>>>| {
                list.iter()
                    .flatten()
                    .map(|s| GeneralName::from_x509(&s.base))
                    .collect()
            };
            ExtensionValue::NameConstraints {
                permitted: subtrees(&nc.permitted_subtrees),
                excluded: subtrees(&nc.excluded_subtrees),
            }
        }
        P::PolicyConstraints(pc) => ExtensionValue::PolicyConstraints {
            require_explicit_policy: pc.require_explicit_policy,
            inhibit_policy_mapping: pc.inhibit_policy_mapping,
        },
        P::InhibitAnyPolicy(iap) => ExtensionValue::InhibitAnyPolicy {
            skip_certs: iap.skip_certs,
        },
        P::SCT(scts) => ExtensionValue::SignedCertificateTimestamps {
            count: scts.len(),
            timestamps: scts
                .iter()
                .map(|sct| Sct {
                    log_id: base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        sct.id.key_id,
                    ),
                    timestamp: time::OffsetDateTime::from_unix_timestamp_nanos(
                        i128::from(sct.timestamp) * 1_000_000,
                    )
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
                })
                .collect(),
        },
        P::CRLNumber(number) => ExtensionValue::CrlNumber {
            number: number.to_string(),
        },
        P::ReasonCode(code) => ExtensionValue::ReasonCode {
            reason: reason_name(code.0).to_owned(),
        },
        P::NSCertType(types) => ExtensionValue::NetscapeCertType {
            types: [
                (types.ssl_client(), "SSL Client"),
                (types.ssl_server(), "SSL Server"),
                (types.smime(), "S/MIME"),
                (types.object_signing(), "Object Signing"),
                (types.ssl_ca(), "SSL CA"),
                (types.smime_ca(), "S/MIME CA"),
                (types.object_signing_ca(), "Object Signing CA"),
            ]
            .into_iter()
            .filter_map(|(set, name)| set.then_some(name))
            .collect(),
        },
        P::ParseError { error } => ExtensionValue::Malformed {
            error: error.to_string(),
            value_hex: hex::lower(ext.value),
        },
        _ => ExtensionValue::Unknown {
            value_hex: hex::lower(ext.value),
        },
    }
}

fn access<'a>(
    iter: impl Iterator<Item = &'a x509ext::AccessDescription<'a>>,
) -> Vec<AccessDescription> {
    iter.map(|ad| AccessDescription {
        method: oids::name_or_oid(&crate::oids::dotted(&ad.access_method)),
        location: GeneralName::from_x509(&ad.access_location),
    })
    .collect()
}

/// The CPS qualifier is an IA5String; show its text.
fn ia5_content(der: &[u8]) -> String {
    match crate::tlv::read(der) {
        Ok((tlv, _)) => String::from_utf8_lossy(tlv.value).into_owned(),
        Err(_) => String::from_utf8_lossy(der).into_owned(),
    }
}

/// RFC 5280 §5.3.1 reason names.
pub(crate) fn reason_name(code: u8) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "unknown reason",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_ip_addresses_and_constraints() {
        assert_eq!(ip_to_string(&[127, 0, 0, 1]), "127.0.0.1");
        assert_eq!(
            ip_to_string(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            "::1"
        );
        assert_eq!(ip_to_string(&[10, 0, 0, 0, 255, 0, 0, 0]), "10.0.0.0/8");
        assert_eq!(ip_to_string(&[1, 2, 3]), "invalid (3 bytes: 010203)");
    }
}
