//! The issuance pipeline, in typed steps: a [`Request`] is checked against its profile
//! and the issuing CA into a [`Plan`] (or the reasons it is refused, all of them), the
//! plan is signed, the result is decoded again and must be what the profile promised,
//! and it is recorded in the store before it is handed to anyone.

use std::fmt;
use std::net::IpAddr;

use mutual_x509::{ExtensionValue, GeneralName, Severity};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, PublicKeyData, SanType,
    SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::home::IssuingRole;
use crate::key::KeyType;
use crate::profile::{Profile, ProfileKind};
use crate::rehearsal::{Rehearsal, Signing};
use crate::store::{AuditNote, CertificateRecord, NewCertificate, Store, StoreError};

/// A name a certificate is issued for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubjectAltName {
    Dns(String),
    Ip(IpAddr),
    Email(String),
    Uri(String),
}

impl fmt::Display for SubjectAltName {
    /// `DNS:example.com`, as openssl and the store write names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectAltName::Dns(v) => write!(f, "DNS:{v}"),
            SubjectAltName::Ip(v) => write!(f, "IP:{v}"),
            SubjectAltName::Email(v) => write!(f, "email:{v}"),
            SubjectAltName::Uri(v) => write!(f, "URI:{v}"),
        }
    }
}

/// What someone asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub profile: ProfileKind,
    pub common_name: String,
    pub sans: Vec<SubjectAltName>,
    /// Validity in days; the profile's default when absent.
    pub days: Option<u32>,
    /// The type of the subject's key.
    pub key_type: KeyType,
    /// Who asked: a local user, an API token... recorded in the store.
    pub requester: Option<String>,
}

/// One reason a request is refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    ProfileDisabled {
        profile: ProfileKind,
    },
    EmptyCommonName,
    NoHostName {
        profile: ProfileKind,
    },
    SanNotAllowed {
        profile: ProfileKind,
        san: String,
    },
    InvalidDnsName {
        name: String,
    },
    OutsideNameConstraints {
        name: String,
        permitted: Vec<String>,
    },
    ZeroDays,
    TooLong {
        days: u32,
        max: u32,
    },
    KeyTypeNotAllowed {
        key_type: KeyType,
        profile: ProfileKind,
    },
    /// The CSR itself is unusable: bad signature, undecodable, odd names.
    BadCsr {
        detail: String,
    },
    /// The CSR asks for basicConstraints CA:TRUE.
    CaRequested,
    WeakKey {
        detail: String,
    },
    /// The certificate would outlive the CA that issues it.
    OutlivesCa {
        not_after: OffsetDateTime,
        ca_not_after: OffsetDateTime,
    },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::ProfileDisabled { .. } => "profile_disabled",
            Refusal::EmptyCommonName => "empty_common_name",
            Refusal::NoHostName { .. } => "server_missing_san",
            Refusal::SanNotAllowed { .. } => "san_not_allowed",
            Refusal::InvalidDnsName { .. } => "invalid_dns_name",
            Refusal::OutsideNameConstraints { .. } => "outside_name_constraints",
            Refusal::ZeroDays => "zero_validity",
            Refusal::TooLong { .. } => "validity_too_long",
            Refusal::KeyTypeNotAllowed { .. } => "key_type_not_allowed",
            Refusal::BadCsr { .. } => "bad_csr",
            Refusal::CaRequested => "ca_requested",
            Refusal::WeakKey { .. } => "weak_key",
            Refusal::OutlivesCa { .. } => "outlives_ca",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::ProfileDisabled { profile } => write!(
                f,
                "profile {profile} is disabled; enable it in mutual.toml ([profiles.{profile}] enabled = true) if you must"
            ),
            Refusal::EmptyCommonName => write!(f, "the common name is empty"),
            Refusal::NoHostName { profile } => write!(
                f,
                "profile {profile} needs at least one DNS name or IP address: clients ignore the CN"
            ),
            Refusal::SanNotAllowed { profile, san } => {
                write!(f, "profile {profile} does not allow the name {san}")
            }
            Refusal::InvalidDnsName { name } => write!(f, "`{name}` is not a valid DNS name"),
            Refusal::OutsideNameConstraints { name, permitted } => write!(
                f,
                "{name} is outside the CA's name constraints (permitted: {})",
                permitted.join(", ")
            ),
            Refusal::ZeroDays => write!(f, "a validity of 0 days"),
            Refusal::TooLong { days, max } => {
                write!(
                    f,
                    "a validity of {days} days; the profile allows at most {max}"
                )
            }
            Refusal::KeyTypeNotAllowed { key_type, profile } => {
                write!(f, "key type {key_type} is not allowed by profile {profile}")
            }
            Refusal::BadCsr { detail } => write!(f, "the CSR is unusable: {detail}"),
            Refusal::CaRequested => write!(
                f,
                "the CSR asks for CA:TRUE; leaf profiles never issue CA certificates"
            ),
            Refusal::WeakKey { detail } => write!(f, "the key is refused: {detail}"),
            Refusal::OutlivesCa {
                not_after,
                ca_not_after,
            } => write!(
                f,
                "it would be valid until {}, after its CA expires ({}); ask for fewer days or renew the CA",
                not_after.date(),
                ca_not_after.date()
            ),
        }
    }
}

/// A CA that signs: its certificate and key, and what issuance needs to know about it.
pub struct IssuingCa {
    pub certificate_pem: String,
    /// The CA certificate parsed once into what rcgen signs with (its name, key usages and
    /// key identifier) and the key: re-parsing it for every certificate cost 3.3 µs each.
    issuer: rcgen::Issuer<'static, KeyPair>,
    /// The same CA with a placeholder in place of its key ([`Rehearsal`]): every
    /// certificate is first built with it, decoded and linted, and only signed for real
    /// when it passes, so the CA's key never signs a broken certificate.
    rehearsal: rcgen::Issuer<'static, Rehearsal>,
    /// Hex of its subject key identifier: the store's issuer id.
    pub key_id: String,
    /// RFC 4514.
    pub subject: String,
    /// DNS name constraints (permitted subtrees), if any.
    pub permitted_dns: Vec<String>,
    /// A certificate it issues may not outlive it.
    pub not_after: OffsetDateTime,
}

impl IssuingCa {
    /// Pairs a CA certificate with its key, checking that they belong together.
    pub fn new(certificate_pem: &str, key: KeyPair) -> Result<IssuingCa, IssueError> {
        IssuingCa::build(certificate_pem, key, true)
    }

    fn build(
        certificate_pem: &str,
        key: KeyPair,
        check_key: bool,
    ) -> Result<IssuingCa, IssueError> {
        let bad = |detail: String| IssueError::BadCa { detail };
        let blocks = mutual_x509::pem::parse(certificate_pem.as_bytes())
            .map_err(|e| bad(format!("CA certificate: {e}")))?;
        let der = blocks
            .into_iter()
            .find(|b| b.label == "CERTIFICATE")
            .ok_or_else(|| bad("no CERTIFICATE block in the CA certificate file".to_owned()))?
            .der;
        let cert = mutual_x509::Certificate::from_der(&der, OffsetDateTime::now_utc())
            .map_err(|e| bad(format!("CA certificate {e}")))?;
        if cert.purpose.ca.is_none() {
            return Err(bad(format!(
                "{} is not a CA certificate",
                cert.subject.rfc4514
            )));
        }
        if check_key && cert.public_key.key_bytes != public_key_bits(&key) {
            return Err(bad(format!(
                "the key does not belong to the CA certificate {}",
                cert.subject.rfc4514
            )));
        }
        let placeholder = Rehearsal::new(
            throwaway_key(&cert),
            cert.public_key.key_bytes.clone(),
            cert.public_key.bits,
        );
        let rehearsal = rcgen::Issuer::from_ca_cert_der(&der.as_slice().into(), placeholder)
            .map_err(|e| bad(format!("CA certificate: rcgen cannot issue from it: {e}")))?;
        let issuer = rcgen::Issuer::from_ca_cert_der(&der.as_slice().into(), key)
            .map_err(|e| bad(format!("CA certificate: rcgen cannot issue from it: {e}")))?;
        let mut key_id = String::new();
        let mut permitted_dns = Vec::new();
        for extension in &cert.extensions {
            match &extension.value {
                ExtensionValue::SubjectKeyIdentifier { key_id: id } => key_id = id.replace(':', ""),
                ExtensionValue::NameConstraints { permitted, .. } => {
                    permitted_dns = permitted
                        .iter()
                        .filter_map(|n| match n {
                            GeneralName::Dns(d) => Some(d.clone()),
                            _ => None,
                        })
                        .collect();
                }
                _ => {}
            }
        }
        if key_id.is_empty() {
            return Err(bad(
                "the CA certificate has no subject key identifier".to_owned()
            ));
        }
        Ok(IssuingCa {
            certificate_pem: certificate_pem.to_owned(),
            issuer,
            rehearsal,
            key_id,
            not_after: cert.validity.not_after,
            subject: cert.subject.rfc4514,
            permitted_dns,
        })
    }
}

impl IssuingCa {
    /// What rcgen signs with: for CRLs, beside certificates.
    pub(crate) fn signer(&self) -> &rcgen::Issuer<'static, KeyPair> {
        &self.issuer
    }

    /// The CA as `--dry-run` sees it: its certificate and constraints, with a throwaway
    /// key in place of its own, so no passphrase is needed. Never used to sign for real.
    pub fn preview(certificate_pem: &str) -> Result<IssuingCa, IssueError> {
        let throwaway = KeyType::EcP256.generate().map_err(|e| IssueError::BadCa {
            detail: format!("preview key: {e}"),
        })?;
        IssuingCa::build(certificate_pem, throwaway, false)
    }
}

/// The subjectPublicKey bits of a key pair, as a certificate would carry them.
fn public_key_bits(key: &KeyPair) -> Vec<u8> {
    use x509_parser::prelude::FromDer;
    let spki = key.subject_public_key_info();
    x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki)
        .map(|(_, spki)| spki.subject_public_key.data.to_vec())
        .unwrap_or_default()
}

/// A request that passed every check, ready to sign.
pub struct Plan {
    params: CertificateParams,
    profile: Profile,
    requester: Option<String>,
    sans: Vec<String>,
    audit: Option<AuditNote>,
}

impl Plan {
    /// The validity the certificate will get.
    pub fn not_after(&self) -> OffsetDateTime {
        self.params.not_after
    }

    /// The audit entry [`issue`] records with the certificate, in the same transaction: the
    /// certificate is issued with it or not at all.
    pub fn audited(mut self, note: AuditNote) -> Plan {
        self.audit = Some(note);
        self
    }
}

/// Checks a request against its profile and the issuing CA. Every reason to refuse is
/// returned, not just the first.
pub fn plan(
    request: &Request,
    profile: &Profile,
    ca: &IssuingCa,
    now: OffsetDateTime,
) -> Result<Plan, Vec<Refusal>> {
    let mut refusals = Vec::new();
    let kind = profile.kind;
    if !profile.enabled {
        refusals.push(Refusal::ProfileDisabled { profile: kind });
    }
    if request.common_name.trim().is_empty() {
        refusals.push(Refusal::EmptyCommonName);
    }
    if !profile.key_types.contains(&request.key_type) {
        refusals.push(Refusal::KeyTypeNotAllowed {
            key_type: request.key_type,
            profile: kind,
        });
    }
    let days = request.days.unwrap_or(profile.default_days);
    if days == 0 {
        refusals.push(Refusal::ZeroDays);
    } else if days > profile.max_days {
        refusals.push(Refusal::TooLong {
            days,
            max: profile.max_days,
        });
    } else if now + Duration::days(i64::from(days)) > ca.not_after {
        refusals.push(Refusal::OutlivesCa {
            not_after: now + Duration::days(i64::from(days)),
            ca_not_after: ca.not_after,
        });
    }
    let mut sans = Vec::new();
    for san in &request.sans {
        let allowed = match san {
            SubjectAltName::Dns(_) => profile.allowed_sans.dns,
            SubjectAltName::Ip(_) => profile.allowed_sans.ip,
            SubjectAltName::Email(_) => profile.allowed_sans.email,
            SubjectAltName::Uri(_) => profile.allowed_sans.uri,
        };
        if !allowed {
            refusals.push(Refusal::SanNotAllowed {
                profile: kind,
                san: san.to_string(),
            });
            continue;
        }
        match rcgen_san(san) {
            Some(converted) => sans.push(converted),
            None => refusals.push(Refusal::InvalidDnsName {
                name: san.to_string(),
            }),
        }
        if let SubjectAltName::Dns(name) = san {
            if !is_dns_name(name) {
                refusals.push(Refusal::InvalidDnsName { name: name.clone() });
            } else if !ca.permitted_dns.is_empty()
                && !ca.permitted_dns.iter().any(|base| within(name, base))
            {
                refusals.push(Refusal::OutsideNameConstraints {
                    name: name.clone(),
                    permitted: ca.permitted_dns.clone(),
                });
            }
        }
    }
    let names_host = request
        .sans
        .iter()
        .any(|s| matches!(s, SubjectAltName::Dns(_) | SubjectAltName::Ip(_)));
    if profile.requires_host_name() && !names_host {
        refusals.push(Refusal::NoHostName { profile: kind });
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }

    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, request.common_name.trim());
    params.distinguished_name = subject;
    params.subject_alt_names = sans;
    // Backdated a minute so a client whose clock is slightly behind accepts it at once.
    params.not_before = now - Duration::minutes(1);
    params.not_after = now + Duration::days(i64::from(days));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = profile.key_usages(request.key_type);
    params.extended_key_usages = profile.extended_key_usages();
    params.use_authority_key_identifier_extension = true;
    if let Some(base) = &profile.server_url {
        revocation_pointers(&mut params, base, IssuingRole::for_profile(kind));
    }
    if kind == ProfileKind::OcspSigner {
        // id-pkix-ocsp-nocheck, NULL (RFC 6960 §4.2.2.2.1): relying parties need not ask
        // about the responder's own status, which would go round in circles.
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 48, 1, 5],
                vec![0x05, 0x00],
            ));
    }
    Ok(Plan {
        params,
        profile: profile.clone(),
        requester: request.requester.clone(),
        sans: request.sans.iter().map(ToString::to_string).collect(),
        audit: None,
    })
}

/// Points relying parties at the CA service (`mutual serve`) under `base_url` for the
/// certificate's revocation status and its issuer: a CRL Distribution Point
/// (`BASE/crl/STEM.crl`) and an Authority Information Access extension with the OCSP
/// responder (`BASE/ocsp`) and caIssuers (`BASE/ca/STEM.crt`), STEM being the issuing CA's
/// (`client-ca`, `server-ca`). What every profile adds when `mutual.toml` sets
/// `[server] url`, and what `mutual probe audit` gives its test certificates.
pub fn revocation_pointers(params: &mut CertificateParams, base_url: &str, issuer: IssuingRole) {
    let stem = issuer.file_stem();
    params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
        uris: vec![format!("{base_url}/crl/{stem}.crl")],
    }];
    params.custom_extensions.push(authority_info_access(&[
        (OCSP_METHOD, format!("{base_url}/ocsp")),
        (CA_ISSUERS_METHOD, format!("{base_url}/ca/{stem}.crt")),
    ]));
}

/// id-ad-ocsp and id-ad-caIssuers (RFC 5280 §4.2.2.1), DER content octets.
const OCSP_METHOD: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01];
const CA_ISSUERS_METHOD: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];

/// The Authority Information Access extension, which rcgen does not build: a SEQUENCE of
/// (access method OID, uniformResourceIdentifier [6]) pairs.
fn authority_info_access(entries: &[(&[u8], String)]) -> rcgen::CustomExtension {
    use mutual_x509::tlv::encode as tlv;
    let mut descriptions = Vec::new();
    for (method, uri) in entries {
        let mut description = tlv(0x06, method);
        description.extend(tlv(0x86, uri.as_bytes()));
        descriptions.extend(tlv(0x30, &description));
    }
    rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], tlv(0x30, &descriptions))
}

fn rcgen_san(san: &SubjectAltName) -> Option<SanType> {
    Some(match san {
        SubjectAltName::Dns(v) => SanType::DnsName(v.as_str().try_into().ok()?),
        SubjectAltName::Ip(v) => SanType::IpAddress(*v),
        SubjectAltName::Email(v) => SanType::Rfc822Name(v.as_str().try_into().ok()?),
        SubjectAltName::Uri(v) => SanType::URI(v.as_str().try_into().ok()?),
    })
}

/// LDH labels, optionally a leading `*.` wildcard; what browsers accept in a SAN.
fn is_dns_name(name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// RFC 5280 §4.2.1.10 dNSName constraints: the name itself or any name below it.
fn within(name: &str, base: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let base = base.trim_start_matches('.').to_ascii_lowercase();
    name == base || name.ends_with(&format!(".{base}"))
}

/// A certificate that has been issued and recorded.
#[derive(Debug)]
pub struct Issued {
    pub certificate_pem: String,
    /// The certificate followed by the issuing CA's: what a TLS server or client sends.
    pub chain_pem: String,
    pub record: CertificateRecord,
}

/// Signs the plan with the CA, checks the result is what the profile promised, and
/// records it, with its audit entry when the plan has one ([`Plan::audited`]). A serial
/// that collides in the store is replaced, a few times at most.
pub async fn issue(
    plan: Plan,
    subject_key: &impl PublicKeyData,
    ca: &IssuingCa,
    store: &Store,
    now: OffsetDateTime,
) -> Result<Issued, IssueError> {
    let mut params = plan.params;
    for _ in 0..3 {
        params.serial_number = Some(random_serial()?);
        // Rehearse without a signature: the to-be-signed certificate is decoded, checked
        // against the profile and linted; only then does the CA's own key sign those very
        // bytes.
        let (rehearsed, decoded) =
            build_checked(&params, &plan.profile, subject_key, &ca.rehearsal, now)?;
        let der = crate::rehearsal::sign_rehearsed(rehearsed.der(), ca.issuer.key()).map_err(
            |e| match e {
                Signing::Key(source) => IssueError::Sign { source },
                Signing::Malformed => IssueError::Construction {
                    detail: e.to_string(),
                },
            },
        )?;
        let pem = mutual_x509::pem::encode("CERTIFICATE", &der);

        let new = NewCertificate {
            serial: decoded.serial.clone(),
            issuer_key_id: ca.key_id.clone(),
            issuer: decoded.issuer.rfc4514.clone(),
            subject: decoded.subject.rfc4514.clone(),
            sans: plan.sans.clone(),
            not_before: decoded.validity.not_before,
            not_after: decoded.validity.not_after,
            profile: plan.profile.kind.to_string(),
            requester: plan.requester.clone(),
            fingerprint_sha256: mutual_x509::Fingerprints::sha256_of(&der),
            pem: pem.clone(),
            audit: plan.audit.clone(),
        };
        match store.record(&new).await {
            Ok(record) => {
                let chain_pem = format!("{pem}{}", ca.certificate_pem);
                return Ok(Issued {
                    certificate_pem: pem,
                    chain_pem,
                    record,
                });
            }
            Err(StoreError::DuplicateSerial { .. }) => continue,
            Err(source) => return Err(IssueError::Store { source }),
        }
    }
    Err(IssueError::SerialCollisions)
}

/// Builds (and signs, with `issuer`'s key) and decodes the result, which must be what the
/// profile promised and pass the lints.
fn build_checked(
    params: &CertificateParams,
    profile: &Profile,
    subject_key: &impl PublicKeyData,
    issuer: &rcgen::Issuer<'_, impl rcgen::SigningKey>,
    now: OffsetDateTime,
) -> Result<(rcgen::Certificate, mutual_x509::Certificate), IssueError> {
    let certificate = params
        .signed_by(subject_key, issuer)
        .map_err(|e| IssueError::Sign { source: e })?;
    let decoded = check_construction(certificate.der(), profile, now)?;
    Ok((certificate, decoded))
}

/// The certificate a plan would produce, for `--dry-run`: built exactly as `issue` builds
/// it but signed with a throwaway key of the CA's key type, so no CA key is needed and
/// nothing is recorded. Only the signature bytes (and the random serial) differ.
pub fn preview(
    plan: &Plan,
    subject_key: &impl PublicKeyData,
    ca_certificate_pem: &str,
    now: OffsetDateTime,
) -> Result<mutual_x509::Certificate, IssueError> {
    let bad = |detail: String| IssueError::BadCa { detail };
    let der = mutual_x509::pem::parse(ca_certificate_pem.as_bytes())
        .map_err(|e| bad(format!("CA certificate: {e}")))?
        .into_iter()
        .find(|b| b.label == "CERTIFICATE")
        .ok_or_else(|| bad("no CERTIFICATE block in the CA certificate file".to_owned()))?
        .der;
    let ca = mutual_x509::Certificate::from_der(&der, now)
        .map_err(|e| bad(format!("CA certificate {e}")))?;
    let key_type = throwaway_key(&ca);
    let throwaway = key_type
        .generate()
        .map_err(|e| bad(format!("preview key: {e}")))?;
    let issuer = rcgen::Issuer::from_ca_cert_der(&der.as_slice().into(), &throwaway)
        .map_err(|e| bad(format!("CA certificate: rcgen cannot issue from it: {e}")))?;
    let mut params = plan.params.clone();
    params.serial_number = Some(random_serial()?);
    let (_, decoded) = build_checked(&params, &plan.profile, subject_key, &issuer, now)?;
    Ok(decoded)
}

/// The lints (mutual-lint, private trust: this is a private CA) must find no error; the
/// refusal names each one.
fn lint_gate(report: &mutual_lint::Report) -> Result<(), IssueError> {
    let errors: Vec<String> = report
        .findings()
        .filter(|r| r.status.severity() == Some(Severity::Error))
        .map(|r| match &r.details {
            Some(details) => format!("{} ({details})", r.code),
            None => r.code.to_owned(),
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(IssueError::Linted { lints: errors })
    }
}

/// A key of the kind the CA certificate has, for rehearsals: the signature algorithm, and
/// so the TBS, is the same. Any RSA size gives the same algorithm; 2048 is the quickest.
fn throwaway_key(ca: &mutual_x509::Certificate) -> KeyType {
    match (
        ca.public_key.algorithm.as_str(),
        ca.public_key.curve.as_deref(),
    ) {
        ("EC", Some("P-384")) => KeyType::EcP384,
        ("EC", _) => KeyType::EcP256,
        ("Ed25519", _) => KeyType::Ed25519,
        _ => KeyType::Rsa2048,
    }
}

/// The certificate must decode as the profile's purpose, with no error-level finding, and
/// pass the lints: issuance is correct by construction, and this proves it on every
/// certificate. The DER is parsed once for the decoding and the lints.
fn check_construction(
    der: &[u8],
    profile: &Profile,
    now: OffsetDateTime,
) -> Result<mutual_x509::Certificate, IssueError> {
    let options = mutual_lint::Options {
        profile: None,
        trust: mutual_lint::TrustMode::Private,
        // Certificates are linted as issued at their notBefore; this is the time the
        // decoding judges validity at.
        now,
    };
    let (decoded, report) =
        mutual_lint::decode_and_lint(der, now, &options).map_err(|e| match e {
            mutual_lint::LintError::Decode(e) => IssueError::Construction {
                detail: format!("the signed certificate does not decode: {e}"),
            },
            e => IssueError::Construction {
                detail: format!("the certificate could not be linted: {e}"),
            },
        })?;
    if decoded.purpose.kind != profile.expected_purpose() {
        return Err(IssueError::Construction {
            detail: format!(
                "profile {} produced a {}",
                profile.kind,
                decoded.purpose.kind.title()
            ),
        });
    }
    let errors: Vec<&str> = decoded
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.code)
        .collect();
    if !errors.is_empty() {
        return Err(IssueError::Construction {
            detail: format!("the signed certificate has findings {}", errors.join(", ")),
        });
    }
    lint_gate(&report)?;
    Ok(decoded)
}

/// 128 random bits from the OS CSPRNG, positive (top bit clear) and never zero.
fn random_serial() -> Result<SerialNumber, IssueError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| IssueError::Random)?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("refused: {}", refusals.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Refused { refusals: Vec<Refusal> },
    #[error("the issuing CA is unusable: {detail}")]
    BadCa { detail: String },
    #[error("signing failed")]
    Sign {
        #[source]
        source: rcgen::Error,
    },
    #[error("issuance check failed: {detail}")]
    Construction { detail: String },
    #[error("refused by the pre-issuance lints: {}", lints.join(", "))]
    Linted { lints: Vec<String> },
    #[error("recording the certificate (and its audit entry) failed; it was not issued")]
    Store {
        #[source]
        source: StoreError,
    },
    #[error("the OS random number generator failed")]
    Random,
    #[error("three random serials in a row collided in the store")]
    SerialCollisions,
}

impl IssueError {
    /// True when the store's disk is full: nothing was recorded, and the user can fix it.
    pub fn is_out_of_space(&self) -> bool {
        matches!(self, IssueError::Store { source } if source.is_out_of_space())
    }

    pub fn code(&self) -> &'static str {
        match self {
            IssueError::Refused { .. } => "refused",
            IssueError::BadCa { .. } => "bad_ca",
            IssueError::Sign { .. } => "sign_failed",
            IssueError::Construction { .. } => "construction_check_failed",
            IssueError::Linted { .. } => "lint_refused",
            IssueError::Store { .. } => "store_failed",
            IssueError::Random => "random_failed",
            IssueError::SerialCollisions => "serial_collisions",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_and_constraints() {
        assert!(is_dns_name("api.example.internal"));
        assert!(is_dns_name("*.example.internal"));
        assert!(!is_dns_name("bad_name.example"));
        assert!(!is_dns_name("-lead.example"));
        assert!(!is_dns_name(""));
        assert!(within("a.example.internal", "example.internal"));
        assert!(within("example.internal", ".example.internal"));
        assert!(!within("example.internal.evil", "example.internal"));
        assert!(!within("badexample.internal", "example.internal"));
    }

    /// The rehearsal decodes and lints a certificate built with a placeholder signature;
    /// that stands for the real one only if the to-be-signed bytes are identical, and the
    /// CA's signature over them must verify.
    #[test]
    fn the_rehearsal_builds_the_tbs_the_ca_signs() {
        use x509_parser::prelude::FromDer;
        for key_type in [
            KeyType::EcP256,
            KeyType::EcP384,
            KeyType::Ed25519,
            KeyType::Rsa2048,
        ] {
            let ca_key = key_type.generate().expect("CA key");
            let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
            ca_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
            ca_params.key_identifier_method = rcgen::KeyIdMethod::Sha256;
            ca_params
                .distinguished_name
                .push(DnType::CommonName, "Rehearsal Test CA");
            let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
            let ca = IssuingCa::new(&ca_cert.pem(), ca_key).expect("issuing CA");

            let leaf_key = KeyType::EcP256.generate().expect("leaf key");
            let mut params =
                CertificateParams::new(vec!["a.example.internal".to_owned()]).expect("params");
            params.serial_number = Some(random_serial().expect("serial"));
            let rehearsed = params
                .signed_by(&leaf_key, &ca.rehearsal)
                .expect("rehearsal");
            let signed =
                crate::rehearsal::sign_rehearsed(rehearsed.der(), ca.issuer.key()).expect("signed");
            let by_rcgen = params
                .signed_by(&leaf_key, &ca.issuer)
                .expect("rcgen signs");
            let tbs = |der: &[u8]| {
                let (_, cert) =
                    x509_parser::certificate::X509Certificate::from_der(der).expect("decodes");
                (
                    cert.tbs_certificate.as_ref().to_vec(),
                    cert.signature_value.data.len(),
                )
            };
            let (rehearsed_tbs, rehearsed_len) = tbs(rehearsed.der());
            let (signed_tbs, signed_len) = tbs(&signed);
            // The placeholder shapes the same TBS as rcgen builds with the real key.
            assert_eq!(rehearsed_tbs, tbs(by_rcgen.der()).0, "{key_type}");
            assert_eq!(rehearsed_tbs, signed_tbs, "{key_type}");
            // ECDSA signatures vary by a byte or two; the placeholder has the usual size.
            assert!(rehearsed_len.abs_diff(signed_len) <= 2, "{key_type}");
            let now = OffsetDateTime::now_utc();
            let leaf = mutual_x509::Certificate::from_der(&signed, now).expect("decodes");
            let ca_decoded =
                mutual_x509::Certificate::from_der(ca_cert.der(), now).expect("CA decodes");
            assert_eq!(
                leaf.signature_by(&ca_decoded),
                mutual_x509::SignatureCheck::Valid,
                "{key_type}"
            );
        }
    }

    #[test]
    fn serials_are_positive_and_sixteen_bytes() {
        for _ in 0..100 {
            let serial = random_serial().expect("random");
            let bytes = serial.to_bytes();
            assert_eq!(bytes.len(), 16);
            assert!(bytes[0] & 0x80 == 0 && bytes[0] != 0);
        }
    }
}
