//! What lints look at. A certificate and a CSR share three parts — the public [`Key`], the
//! [`Claims`] (subject and extensions) and the [`SignatureAlgorithm`] — so the lints of
//! those parts run on both; [`Cert`] and [`Request`] add what only each has.
//!
//! Built from the decoded object (`mutual-x509`, which says what the certificate is for)
//! plus what decoding hides, read here from the DER: how times were encoded, every copy of
//! a repeated extension, raw SAN bytes, exact AlgorithmIdentifier encodings.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::cri_attributes::ParsedCriAttribute;
use x509_parser::extensions::{GeneralName as XGeneralName, ParsedExtension, X509Extension};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use mutual_x509::{Certificate, Csr, Eku, Extension, ExtensionValue, KeyUsageBit};

use crate::der::{self, Tlv};
use crate::error::LintError;
use crate::meta::{Profile, Profiles};
use crate::oids;

/// The parameters of an AlgorithmIdentifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Params {
    Absent,
    Null,
    /// An OID, such as an EC named curve.
    Oid(String),
    /// Anything else, by its DER tag.
    Other(u8),
}

impl Params {
    fn from_tlvs(fields: &[Tlv<'_>]) -> Self {
        match fields.get(1) {
            None => Params::Absent,
            Some(t) if t.tag == der::NULL && t.value.is_empty() => Params::Null,
            Some(t) if t.tag == der::OID => {
                der::oid_dotted(t.value).map_or(Params::Other(der::OID), Params::Oid)
            }
            Some(t) => Params::Other(t.tag),
        }
    }
}

/// An AlgorithmIdentifier: its OID, parameters and exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmId {
    pub oid: String,
    pub params: Params,
    pub der: Vec<u8>,
}

impl AlgorithmId {
    fn from_tlv(tlv: &Tlv<'_>) -> Option<Self> {
        let fields = der::children(tlv.value)?;
        let oid = fields.first().filter(|t| t.tag == der::OID)?;
        Some(AlgorithmId {
            oid: der::oid_dotted(oid.value)?,
            params: Params::from_tlvs(&fields),
            der: tlv.raw.to_vec(),
        })
    }
}

/// The kind of public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    Ec,
    Ed25519,
    Ed448,
    Dsa,
    Other,
}

/// The subject public key.
#[derive(Debug, Clone)]
pub struct Key {
    pub kind: KeyKind,
    pub algorithm: AlgorithmId,
    /// The subjectPublicKey BIT STRING content.
    pub key_bytes: Vec<u8>,
    /// Modulus and exponent, without leading zero octets; `None` when not RSA or when the
    /// RSAPublicKey does not decode.
    pub rsa: Option<RsaKey>,
}

#[derive(Debug, Clone)]
pub struct RsaKey {
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
}

impl RsaKey {
    /// The modulus length in bits.
    pub fn bits(&self) -> usize {
        match self.modulus.first() {
            Some(first) => self.modulus.len() * 8 - first.leading_zeros() as usize,
            None => 0,
        }
    }
}

fn strip_zeros(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

impl Key {
    fn from_spki(spki: &SubjectPublicKeyInfo<'_>, spki_tlv: &Tlv<'_>) -> Option<Self> {
        let fields = der::children(spki_tlv.value)?;
        let algorithm = AlgorithmId::from_tlv(fields.first()?)?;
        let kind = match algorithm.oid.as_str() {
            oids::RSA_ENCRYPTION => KeyKind::Rsa,
            oids::EC_PUBLIC_KEY => KeyKind::Ec,
            oids::ED25519 => KeyKind::Ed25519,
            oids::ED448 => KeyKind::Ed448,
            oids::DSA => KeyKind::Dsa,
            _ => KeyKind::Other,
        };
        let rsa = match (kind, spki.parsed()) {
            (KeyKind::Rsa, Ok(PublicKey::RSA(rsa))) => Some(RsaKey {
                modulus: strip_zeros(rsa.modulus),
                exponent: strip_zeros(rsa.exponent),
            }),
            _ => None,
        };
        Some(Key {
            kind,
            algorithm,
            key_bytes: spki.subject_public_key.data.to_vec(),
            rsa,
        })
    }
}

/// A signature algorithm, as the outer Certificate or CertificationRequest states it.
#[derive(Debug, Clone)]
pub struct SignatureAlgorithm {
    pub algorithm: AlgorithmId,
}

/// One extension as encoded: every copy, in order.
#[derive(Debug, Clone)]
pub struct RawExtension {
    pub oid: String,
    pub critical: bool,
    /// The extnValue content.
    pub value: Vec<u8>,
    /// Whether x509-parser could decode a known extension's value.
    pub malformed: Option<String>,
}

/// A subjectAltName entry as encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SanEntry {
    Dns(String),
    Ip(Vec<u8>),
    Email(String),
    Uri(String),
    DirectoryName,
    /// otherName, x400Address, ediPartyName, registeredID.
    Other(&'static str),
    /// Bytes that do not decode as their type says (e.g. a dNSName that is not IA5).
    Invalid {
        tag: u8,
        bytes: Vec<u8>,
    },
}

impl SanEntry {
    fn from_x509(name: &XGeneralName<'_>) -> Self {
        match name {
            XGeneralName::DNSName(s) => SanEntry::Dns((*s).to_owned()),
            XGeneralName::IPAddress(b) => SanEntry::Ip(b.to_vec()),
            XGeneralName::RFC822Name(s) => SanEntry::Email((*s).to_owned()),
            XGeneralName::URI(s) => SanEntry::Uri((*s).to_owned()),
            XGeneralName::DirectoryName(_) => SanEntry::DirectoryName,
            XGeneralName::OtherName(..) => SanEntry::Other("otherName"),
            XGeneralName::X400Address(_) => SanEntry::Other("x400Address"),
            XGeneralName::EDIPartyName(_) => SanEntry::Other("ediPartyName"),
            XGeneralName::RegisteredID(_) => SanEntry::Other("registeredID"),
            XGeneralName::Invalid(tag, bytes) => SanEntry::Invalid {
                tag: u8::try_from(tag.0).unwrap_or(u8::MAX),
                bytes: bytes.to_vec(),
            },
        }
    }

    /// `DNS:example.com`, as openssl prints names.
    pub fn display(&self) -> String {
        match self {
            SanEntry::Dns(v) => format!("DNS:{v}"),
            SanEntry::Ip(b) => format!("IP:{}", ip_text(b)),
            SanEntry::Email(v) => format!("email:{v}"),
            SanEntry::Uri(v) => format!("URI:{v}"),
            SanEntry::DirectoryName => "DirName".to_owned(),
            SanEntry::Other(kind) => (*kind).to_owned(),
            SanEntry::Invalid { tag, bytes } => {
                format!("invalid (tag {tag}: {})", String::from_utf8_lossy(bytes))
            }
        }
    }
}

/// An IP address's text, or its octets when it has a length no address has.
pub(crate) fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(octets).to_string()
        }
        n => format!("{n} octets"),
    }
}

/// The subject and extensions: what a certificate says, or a request asks for.
#[derive(Debug, Clone)]
pub struct Claims {
    pub subject: mutual_x509::DistinguishedName,
    /// Extensions as mutual-x509 decodes them (for a request: the requested ones).
    pub extensions: Vec<Extension>,
    /// The same, as encoded, with every duplicate.
    pub raw_extensions: Vec<RawExtension>,
    /// The entries of the (first) subjectAltName extension.
    pub san: Vec<SanEntry>,
    /// A certificatePolicies' qualifiers' explicitText string tags (RFC 6818).
    pub explicit_text_tags: Vec<u8>,
    pub profiles: Profiles,
    /// Subject and issuer equal and the certificate's own key verifies it.
    pub self_signed: bool,
    /// CA by basicConstraints CA:TRUE and (when KU is present) keyCertSign.
    pub is_ca: bool,
    pub key_kind: KeyKind,
    /// A CSR's requested extensions rather than a certificate's.
    pub request: bool,
}

impl Claims {
    pub fn extension(&self, oid: &str) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.oid == oid)
    }

    pub fn raw(&self, oid: &str) -> Option<&RawExtension> {
        self.raw_extensions.iter().find(|e| e.oid == oid)
    }

    pub fn has(&self, oid: &str) -> bool {
        self.raw(oid).is_some()
    }

    pub fn key_usage(&self) -> Option<&[KeyUsageBit]> {
        self.extensions.iter().find_map(|e| match &e.value {
            ExtensionValue::KeyUsage { usages } => Some(usages.as_slice()),
            _ => None,
        })
    }

    pub fn has_key_usage(&self, bit: KeyUsageBit) -> bool {
        self.key_usage().is_some_and(|ku| ku.contains(&bit))
    }

    pub fn eku(&self) -> Option<&[Eku]> {
        self.extensions.iter().find_map(|e| match &e.value {
            ExtensionValue::ExtendedKeyUsage { purposes } => Some(purposes.as_slice()),
            _ => None,
        })
    }

    pub fn has_eku(&self, oid: &str) -> bool {
        self.eku()
            .is_some_and(|list| list.iter().any(|e| e.oid == oid))
    }

    /// `(cA, pathLenConstraint)` when basicConstraints is present.
    pub fn basic_constraints(&self) -> Option<(bool, Option<u32>)> {
        self.extensions.iter().find_map(|e| match e.value {
            ExtensionValue::BasicConstraints { ca, path_len } => Some((ca, path_len)),
            _ => None,
        })
    }

    pub fn ca_flag(&self) -> bool {
        matches!(self.basic_constraints(), Some((true, _)))
    }

    pub fn dns_names(&self) -> impl Iterator<Item = &str> {
        self.san.iter().filter_map(|n| match n {
            SanEntry::Dns(d) => Some(d.as_str()),
            _ => None,
        })
    }

    pub fn common_names(&self) -> impl Iterator<Item = &str> {
        self.subject.values("CN")
    }
}

/// How a validity time was encoded.
#[derive(Debug, Clone)]
pub struct RawTime {
    pub tag: u8,
    pub text: String,
}

/// A certificate, with everything its lints need.
#[derive(Debug, Clone)]
pub struct Cert {
    pub validity: mutual_x509::Validity,
    pub claims: Claims,
    pub key: Key,
    pub signature: SignatureAlgorithm,
    /// The TBSCertificate's `signature` field.
    pub tbs_signature: AlgorithmId,
    /// The encoded version (0 for v1, 2 for v3), `None` when the field is absent.
    pub version: Option<u32>,
    /// The serial's content octets, as encoded.
    pub serial: Vec<u8>,
    pub issuer_empty: bool,
    pub not_before: RawTime,
    pub not_after: RawTime,
    pub unique_ids: bool,
    pub has_extensions_field: bool,
}

/// A CSR, with everything its lints need.
#[derive(Debug, Clone)]
pub struct Request {
    pub decoded: Csr,
    pub claims: Claims,
    pub key: Key,
    pub signature: SignatureAlgorithm,
    /// The encoded version (0 is the only one defined).
    pub version: u64,
}

/// The profiles a certificate or request is linted as, from what it is for: a CA is `ca`;
/// otherwise each of serverAuth, clientAuth and OCSPSigning in its EKU adds its profile. A
/// leaf without EKU (or with anyExtendedKeyUsage) gets none: only the lints for every
/// leaf apply, unless `--profile` says what it is.
pub fn detect_profiles(is_ca: bool, eku: Option<&[Eku]>) -> Profiles {
    if is_ca {
        return Profiles::one(Profile::Ca);
    }
    let mut profiles = Profiles::NONE;
    for e in eku.unwrap_or(&[]) {
        profiles = match e.oid.as_str() {
            oids::EKU_SERVER_AUTH => profiles.with(Profile::Server),
            oids::EKU_CLIENT_AUTH => profiles.with(Profile::Client),
            oids::EKU_OCSP_SIGNING => profiles.with(Profile::Ocsp),
            _ => profiles,
        };
    }
    profiles
}

fn raw_extensions(list: &[X509Extension<'_>]) -> (Vec<RawExtension>, Vec<SanEntry>, Vec<u8>) {
    let mut raw = Vec::with_capacity(list.len());
    let mut san = None;
    let mut explicit_text_tags = Vec::new();
    for ext in list {
        let parsed = ext.parsed_extension();
        let malformed = match parsed {
            ParsedExtension::ParseError { error } => Some(error.to_string()),
            _ => None,
        };
        match parsed {
            ParsedExtension::SubjectAlternativeName(names) if san.is_none() => {
                san = Some(
                    names
                        .general_names
                        .iter()
                        .map(SanEntry::from_x509)
                        .collect(),
                );
            }
            ParsedExtension::CertificatePolicies(policies) => {
                for qualifier in policies
                    .iter()
                    .flat_map(|p| p.policy_qualifiers.iter().flatten())
                {
                    if qualifier.policy_qualifier_id.to_id_string() == oids::QT_UNOTICE {
                        explicit_text_tags.extend(explicit_text_tag(qualifier.qualifier));
                    }
                }
            }
            _ => {}
        }
        raw.push(RawExtension {
            // As mutual-x509 spells extension OIDs (asn1-rs's `to_id_string` is slower).
            oid: mutual_x509::tlv::oid_to_string(ext.oid.as_bytes()),
            critical: ext.critical,
            value: ext.value.to_vec(),
            malformed,
        });
    }
    (raw, san.unwrap_or_default(), explicit_text_tags)
}

/// UserNotice ::= SEQUENCE { noticeRef NoticeReference OPTIONAL, explicitText
/// DisplayText OPTIONAL }: the explicitText's tag, if present.
fn explicit_text_tag(user_notice: &[u8]) -> Option<u8> {
    let (notice, _) = der::read(user_notice)?;
    let fields = der::children(notice.value)?;
    fields
        .iter()
        .find(|t| t.tag != der::SEQUENCE)
        .map(|t| t.tag)
}

fn bad(what: &'static str) -> LintError {
    LintError::Structure { what }
}

/// What `mutual-x509` decodes that the certificate lints read: taken by value, so a caller
/// that owns the decoded parts hands them over instead of copying them.
pub(crate) struct Decoded {
    pub(crate) subject: mutual_x509::DistinguishedName,
    pub(crate) extensions: Vec<Extension>,
    pub(crate) validity: mutual_x509::Validity,
    pub(crate) self_signed: bool,
    pub(crate) is_ca: bool,
}

impl Decoded {
    /// The parts of `decoded` the lints read, copied.
    pub(crate) fn of(decoded: &Certificate) -> Self {
        Decoded {
            subject: decoded.subject.clone(),
            extensions: decoded.extensions.clone(),
            validity: decoded.validity.clone(),
            self_signed: decoded.self_signed,
            is_ca: decoded.purpose.ca.is_some(),
        }
    }
}

impl Cert {
    /// Gathers the facts about a decoded certificate. `profile` forces the profile;
    /// `None` detects it.
    pub fn new(decoded: &Certificate, profile: Option<Profile>) -> Result<Self, LintError> {
        let (_, parsed) = X509Certificate::from_der(&decoded.der).map_err(|e| LintError::Der {
            what: "certificate",
            detail: e.to_string(),
        })?;
        Self::from_parsed(&parsed, Decoded::of(decoded), profile)
    }

    /// The facts from the parsed certificate (its public key and extensions as
    /// x509-parser reads them), the decoded parts, and what decoding hides, read here from
    /// the DER with a TLV walk.
    pub(crate) fn from_parsed(
        parsed: &X509Certificate<'_>,
        decoded: Decoded,
        profile: Option<Profile>,
    ) -> Result<Self, LintError> {
        let der_bytes = parsed.as_raw();
        let (outer, _) = der::read(der_bytes).ok_or(bad("certificate"))?;
        let top = der::children(outer.value).ok_or(bad("certificate"))?;
        let tbs = top.first().ok_or(bad("TBSCertificate"))?;
        let fields = der::children(tbs.value).ok_or(bad("TBSCertificate"))?;
        let mut index = 0;
        let version = match fields.first() {
            Some(t) if t.tag == 0xa0 => {
                index = 1;
                let (v, _) = der::read(t.value).ok_or(bad("version"))?;
                Some(v.value.iter().fold(0u32, |acc, b| {
                    acc.saturating_mul(256).saturating_add(u32::from(*b))
                }))
            }
            _ => None,
        };
        let field = |i: usize, what: &'static str| fields.get(i).ok_or(bad(what));
        let serial = field(index, "serialNumber")?.value.to_vec();
        let tbs_signature =
            AlgorithmId::from_tlv(field(index + 1, "signature")?).ok_or(bad("signature"))?;
        let issuer = field(index + 2, "issuer")?;
        let validity = der::children(field(index + 3, "validity")?.value).ok_or(bad("validity"))?;
        let time = |i: usize| -> Result<RawTime, LintError> {
            let t = validity.get(i).ok_or(bad("validity"))?;
            Ok(RawTime {
                tag: t.tag,
                text: String::from_utf8_lossy(t.value).into_owned(),
            })
        };
        let spki = field(index + 5, "subjectPublicKeyInfo")?;
        let rest = &fields[(index + 6).min(fields.len())..];
        let signature = SignatureAlgorithm {
            algorithm: AlgorithmId::from_tlv(top.get(1).ok_or(bad("signatureAlgorithm"))?)
                .ok_or(bad("signatureAlgorithm"))?,
        };
        let tbs_parsed = &parsed.tbs_certificate;
        let key =
            Key::from_spki(&tbs_parsed.subject_pki, spki).ok_or(bad("subjectPublicKeyInfo"))?;
        let (raw_extensions, san, explicit_text_tags) = raw_extensions(tbs_parsed.extensions());
        let is_ca = decoded.is_ca;
        let profiles = profile.map_or_else(
            || detect_profiles(is_ca, eku_of(&decoded.extensions)),
            Profiles::one,
        );
        Ok(Cert {
            claims: Claims {
                subject: decoded.subject,
                extensions: decoded.extensions,
                raw_extensions,
                san,
                explicit_text_tags,
                profiles,
                self_signed: decoded.self_signed,
                is_ca,
                key_kind: key.kind,
                request: false,
            },
            key,
            signature,
            tbs_signature,
            version,
            serial,
            issuer_empty: issuer.value.is_empty(),
            not_before: time(0)?,
            not_after: time(1)?,
            unique_ids: rest
                .iter()
                .any(|t| matches!(t.tag, 0x81 | 0x82 | 0xa1 | 0xa2)),
            has_extensions_field: rest.iter().any(|t| t.tag == 0xa3),
            validity: decoded.validity,
        })
    }

    pub fn not_before(&self) -> OffsetDateTime {
        self.validity.not_before
    }
}

fn eku_of(extensions: &[Extension]) -> Option<&[Eku]> {
    extensions.iter().find_map(|e| match &e.value {
        ExtensionValue::ExtendedKeyUsage { purposes } => Some(purposes.as_slice()),
        _ => None,
    })
}

impl Request {
    pub fn new(decoded: &Csr, profile: Option<Profile>) -> Result<Self, LintError> {
        let der_bytes = decoded.der.as_slice();
        let (_, parsed) =
            X509CertificationRequest::from_der(der_bytes).map_err(|e| LintError::Der {
                what: "certificate request",
                detail: e.to_string(),
            })?;
        let (outer, _) = der::read(der_bytes).ok_or(bad("certificate request"))?;
        let top = der::children(outer.value).ok_or(bad("certificate request"))?;
        let info = der::children(top.first().ok_or(bad("CertificationRequestInfo"))?.value)
            .ok_or(bad("CertificationRequestInfo"))?;
        let version = info
            .first()
            .filter(|t| t.tag == der::INTEGER)
            .ok_or(bad("version"))?
            .value
            .iter()
            .fold(0u64, |acc, b| {
                acc.saturating_mul(256).saturating_add(u64::from(*b))
            });
        let spki = info.get(2).ok_or(bad("subjectPKInfo"))?;
        let key = Key::from_spki(&parsed.certification_request_info.subject_pki, spki)
            .ok_or(bad("subjectPKInfo"))?;
        let signature = SignatureAlgorithm {
            algorithm: AlgorithmId::from_tlv(top.get(1).ok_or(bad("signatureAlgorithm"))?)
                .ok_or(bad("signatureAlgorithm"))?,
        };
        let requested: Vec<X509Extension<'_>> = parsed
            .certification_request_info
            .iter_attributes()
            .filter_map(|attr| match attr.parsed_attribute() {
                ParsedCriAttribute::ExtensionRequest(req) => Some(req.extensions.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let (raw_extensions, san, explicit_text_tags) = raw_extensions(&requested);
        let is_ca = decoded.purpose.ca.is_some();
        let profiles = profile.map_or_else(
            || detect_profiles(is_ca, eku_of(&decoded.requested_extensions)),
            Profiles::one,
        );
        Ok(Request {
            claims: Claims {
                subject: decoded.subject.clone(),
                extensions: decoded.requested_extensions.clone(),
                raw_extensions,
                san,
                explicit_text_tags,
                profiles,
                self_signed: false,
                is_ca,
                key_kind: key.kind,
                request: true,
            },
            key,
            signature,
            version,
            decoded: decoded.clone(),
        })
    }
}
