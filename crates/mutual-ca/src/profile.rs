//! Profiles: every default and every limit of an issued certificate comes from a named
//! profile, never from the requester. Built in, and overridable in `mutual.toml`.
//!
//! ```toml
//! [profiles.server]
//! default_days = 30
//! max_days = 90
//!
//! [profiles.client]
//! allow = ["email", "uri", "dns"]   # DNS names on client certificates, if you must
//!
//! [profiles.server-client]
//! enabled = true                    # off by default: the industry separates the two
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use mutual_x509::PurposeKind;
use rcgen::{ExtendedKeyUsagePurpose, KeyUsagePurpose};
use serde::Deserialize;

use crate::key::KeyType;

/// The leaf profiles a CA issues under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProfileKind {
    Server,
    Client,
    ServerClient,
    OcspSigner,
    /// A client certificate that the CA service (`mutual serve`) accepts for its
    /// administrative API: clientAuth like `client`, kept apart so that a user's client
    /// certificate never administers the CA.
    Admin,
}

impl ProfileKind {
    pub const ALL: [ProfileKind; 5] = [
        ProfileKind::Server,
        ProfileKind::Client,
        ProfileKind::ServerClient,
        ProfileKind::OcspSigner,
        ProfileKind::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProfileKind::Server => "server",
            ProfileKind::Client => "client",
            ProfileKind::ServerClient => "server-client",
            ProfileKind::OcspSigner => "ocsp-signer",
            ProfileKind::Admin => "admin",
        }
    }
}

impl fmt::Display for ProfileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProfileKind {
    type Err = ProfileError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProfileKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| ProfileError::Unknown { name: s.to_owned() })
    }
}

/// Which kinds of subjectAltName a profile accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SanKinds {
    pub dns: bool,
    pub ip: bool,
    pub email: bool,
    pub uri: bool,
}

impl SanKinds {
    fn from_names(names: &[String]) -> Result<Self, ProfileError> {
        let mut kinds = SanKinds::default();
        for name in names {
            match name.as_str() {
                "dns" => kinds.dns = true,
                "ip" => kinds.ip = true,
                "email" => kinds.email = true,
                "uri" => kinds.uri = true,
                other => {
                    return Err(ProfileError::Invalid {
                        detail: format!("SAN kind `{other}`; expected dns, ip, email or uri"),
                    });
                }
            }
        }
        Ok(kinds)
    }
}

/// What a certificate issued under a profile may and must say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub kind: ProfileKind,
    /// Disabled profiles refuse every request (server-client is, until enabled).
    pub enabled: bool,
    pub default_days: u32,
    pub max_days: u32,
    pub allowed_sans: SanKinds,
    pub key_types: Vec<KeyType>,
    /// The CA service's base URL (`[server] url` in mutual.toml): when set, certificates
    /// point relying parties at its OCSP responder, CA certificates and CRLs.
    pub server_url: Option<String>,
}

impl Profile {
    /// The built-in defaults.
    pub fn builtin(kind: ProfileKind) -> Profile {
        let all_keys = KeyType::ALL.to_vec();
        match kind {
            ProfileKind::Server => Profile {
                kind,
                enabled: true,
                default_days: 90,
                // The CA/Browser Forum's ceiling for TLS server certificates.
                max_days: 398,
                allowed_sans: SanKinds {
                    dns: true,
                    ip: true,
                    ..SanKinds::default()
                },
                key_types: all_keys,
                server_url: None,
            },
            ProfileKind::Client => Profile {
                kind,
                enabled: true,
                default_days: 365,
                max_days: 825,
                allowed_sans: SanKinds {
                    email: true,
                    uri: true,
                    ..SanKinds::default()
                },
                key_types: all_keys,
                server_url: None,
            },
            ProfileKind::ServerClient => Profile {
                kind,
                enabled: false,
                default_days: 90,
                max_days: 398,
                allowed_sans: SanKinds {
                    dns: true,
                    ip: true,
                    email: false,
                    uri: true,
                },
                key_types: all_keys,
                server_url: None,
            },
            ProfileKind::OcspSigner => Profile {
                kind,
                enabled: true,
                default_days: 30,
                max_days: 90,
                allowed_sans: SanKinds::default(),
                key_types: all_keys,
                server_url: None,
            },
            ProfileKind::Admin => Profile {
                kind,
                enabled: true,
                default_days: 90,
                max_days: 365,
                allowed_sans: SanKinds {
                    email: true,
                    uri: true,
                    ..SanKinds::default()
                },
                key_types: all_keys,
                server_url: None,
            },
        }
    }

    /// The EKU the profile fixes; the requester cannot change it.
    pub fn extended_key_usages(&self) -> Vec<ExtendedKeyUsagePurpose> {
        match self.kind {
            ProfileKind::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
            ProfileKind::Client | ProfileKind::Admin => {
                vec![ExtendedKeyUsagePurpose::ClientAuth]
            }
            ProfileKind::ServerClient => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
            ProfileKind::OcspSigner => vec![ExtendedKeyUsagePurpose::OcspSigning],
        }
    }

    /// The key usage: digitalSignature, plus keyEncipherment for RSA server keys (RSA key
    /// transport in TLS 1.2).
    pub fn key_usages(&self, key: KeyType) -> Vec<KeyUsagePurpose> {
        let mut usages = vec![KeyUsagePurpose::DigitalSignature];
        let rsa = matches!(key, KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096);
        if rsa && matches!(self.kind, ProfileKind::Server | ProfileKind::ServerClient) {
            usages.push(KeyUsagePurpose::KeyEncipherment);
        }
        usages
    }

    /// Server certificates must name at least one host (DNS or IP SAN).
    pub fn requires_host_name(&self) -> bool {
        matches!(self.kind, ProfileKind::Server | ProfileKind::ServerClient)
    }

    /// What `inspect` must say the issued certificate is: the by-construction check.
    pub fn expected_purpose(&self) -> PurposeKind {
        match self.kind {
            ProfileKind::Server => PurposeKind::Server,
            ProfileKind::Client | ProfileKind::Admin => PurposeKind::Client,
            ProfileKind::ServerClient => PurposeKind::ServerAndClient,
            ProfileKind::OcspSigner => PurposeKind::OcspSigning,
        }
    }
}

/// The profiles in force: built-ins with `mutual.toml`'s overrides applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profiles {
    profiles: BTreeMap<ProfileKind, Profile>,
    /// `[crl] next_update_hours`: not a profile, but read from the same file.
    crl_lifetime: time::Duration,
    /// `database = "..."`: where the certificate store lives when not the home's SQLite file.
    database: Option<crate::store::Database>,
    /// `[ocsp] revocation_refresh_ms`: how late an OCSP responder may learn of a
    /// revocation made by another process or node.
    ocsp_refresh: std::time::Duration,
}

impl Default for Profiles {
    fn default() -> Self {
        Profiles {
            profiles: ProfileKind::ALL
                .into_iter()
                .map(|kind| (kind, Profile::builtin(kind)))
                .collect(),
            crl_lifetime: crate::crl::DEFAULT_LIFETIME,
            database: None,
            ocsp_refresh: crate::ocsp::EPOCH_CHECK,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// `postgres://...` or a SQLite path, as `--database` takes.
    database: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, ProfileOverride>,
    server: Option<ServerSection>,
    crl: Option<CrlSection>,
    ocsp: Option<OcspSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OcspSection {
    /// How often, at most, a responder looks at the store's count of revocations.
    revocation_refresh_ms: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CrlSection {
    /// How long each CRL is good for: its nextUpdate is thisUpdate plus this.
    next_update_hours: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    /// e.g. `https://ca.example.internal:8443`
    url: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileOverride {
    enabled: Option<bool>,
    default_days: Option<u32>,
    max_days: Option<u32>,
    allow: Option<Vec<String>>,
    key_types: Option<Vec<String>>,
}

impl Profiles {
    /// The built-ins overridden by the `[profiles.NAME]` tables of a `mutual.toml`.
    pub fn from_toml(text: &str) -> Result<Profiles, ProfileError> {
        let config: ConfigFile = toml::from_str(text).map_err(|e| ProfileError::Invalid {
            detail: e.message().to_owned(),
        })?;
        let mut profiles = Profiles::default();
        if let Some(database) = &config.database {
            profiles.database =
                Some(database.parse().map_err(|e: crate::store::DatabaseError| {
                    ProfileError::Invalid {
                        detail: format!("database: {e}"),
                    }
                })?);
        }
        if let Some(ocsp) = &config.ocsp {
            if !(10..=3_600_000).contains(&ocsp.revocation_refresh_ms) {
                return Err(ProfileError::Invalid {
                    detail: format!(
                        "[ocsp] revocation_refresh_ms {}: expected 10 to 3600000 (an hour)",
                        ocsp.revocation_refresh_ms
                    ),
                });
            }
            profiles.ocsp_refresh = std::time::Duration::from_millis(ocsp.revocation_refresh_ms);
        }
        if let Some(crl) = &config.crl {
            if crl.next_update_hours == 0 || crl.next_update_hours > 24 * 366 {
                return Err(ProfileError::Invalid {
                    detail: format!(
                        "[crl] next_update_hours {}: expected 1 to 8784 (a year)",
                        crl.next_update_hours
                    ),
                });
            }
            profiles.crl_lifetime = time::Duration::hours(i64::from(crl.next_update_hours));
        }
        if let Some(server) = &config.server {
            let url = server.url.trim_end_matches('/');
            let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
            if !scheme_ok || url.contains(char::is_whitespace) || url.len() < 10 {
                return Err(ProfileError::Invalid {
                    detail: format!(
                        "[server] url `{}`: expected an http:// or https:// URL",
                        server.url
                    ),
                });
            }
            for profile in profiles.profiles.values_mut() {
                profile.server_url = Some(url.to_owned());
            }
        }
        for (name, o) in config.profiles {
            let kind: ProfileKind = name.parse()?;
            let profile = profiles
                .profiles
                .get_mut(&kind)
                .ok_or(ProfileError::Unknown { name })?;
            if let Some(enabled) = o.enabled {
                profile.enabled = enabled;
            }
            if let Some(days) = o.max_days {
                profile.max_days = days;
            }
            if let Some(days) = o.default_days {
                profile.default_days = days;
            }
            if let Some(allow) = &o.allow {
                profile.allowed_sans = SanKinds::from_names(allow)?;
            }
            if let Some(types) = &o.key_types {
                profile.key_types = types
                    .iter()
                    .map(|t| {
                        t.parse::<KeyType>().map_err(|e| ProfileError::Invalid {
                            detail: format!("profile {kind}: {e}"),
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            if profile.default_days == 0 || profile.default_days > profile.max_days {
                return Err(ProfileError::Invalid {
                    detail: format!(
                        "profile {kind}: default_days {} must be between 1 and max_days {}",
                        profile.default_days, profile.max_days
                    ),
                });
            }
        }
        Ok(profiles)
    }

    /// How often, at most, an OCSP responder looks at the store's count of revocations
    /// (`[ocsp] revocation_refresh_ms`, default [`crate::ocsp::EPOCH_CHECK`]).
    pub fn ocsp_refresh(&self) -> std::time::Duration {
        self.ocsp_refresh
    }

    /// The certificate store `database = "..."` names, if the file sets one.
    pub fn database(&self) -> Option<&crate::store::Database> {
        self.database.as_ref()
    }

    /// How long a CRL is good for (`[crl] next_update_hours`, default a week).
    pub fn crl_lifetime(&self) -> time::Duration {
        self.crl_lifetime
    }

    pub fn get(&self, kind: ProfileKind) -> &Profile {
        // Every kind is inserted by Default and never removed.
        &self.profiles[&kind]
    }
}

#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("unknown profile `{name}`; expected server, client, server-client or ocsp-signer")]
    Unknown { name: String },
    #[error("mutual.toml: {detail}")]
    Invalid { detail: String },
}

impl ProfileError {
    pub fn code(&self) -> &'static str {
        match self {
            ProfileError::Unknown { .. } => "unknown_profile",
            ProfileError::Invalid { .. } => "invalid_config",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_ocsp_revocation_refresh_is_configurable() {
        assert_eq!(Profiles::default().ocsp_refresh(), crate::ocsp::EPOCH_CHECK);
        let profiles = Profiles::from_toml("[ocsp]\nrevocation_refresh_ms = 250\n").unwrap();
        assert_eq!(
            profiles.ocsp_refresh(),
            std::time::Duration::from_millis(250)
        );
    }

    use super::*;

    #[test]
    fn builtins_separate_server_and_client() {
        let profiles = Profiles::default();
        assert!(profiles.get(ProfileKind::Server).allowed_sans.dns);
        assert!(!profiles.get(ProfileKind::Client).allowed_sans.dns);
        assert!(!profiles.get(ProfileKind::ServerClient).enabled);
        assert_eq!(
            profiles
                .get(ProfileKind::Server)
                .key_usages(KeyType::Rsa2048),
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment
            ]
        );
        assert_eq!(
            profiles
                .get(ProfileKind::Client)
                .key_usages(KeyType::Rsa2048),
            vec![KeyUsagePurpose::DigitalSignature]
        );
    }

    #[test]
    fn overrides_from_toml() {
        let profiles = Profiles::from_toml(
            "[profiles.server]\ndefault_days = 30\nmax_days = 90\n[profiles.server-client]\nenabled = true\n[profiles.client]\nallow = [\"email\", \"dns\"]\nkey_types = [\"ec-p256\"]\n",
        )
        .expect("valid config");
        let server = profiles.get(ProfileKind::Server);
        assert_eq!((server.default_days, server.max_days), (30, 90));
        assert!(profiles.get(ProfileKind::ServerClient).enabled);
        let client = profiles.get(ProfileKind::Client);
        assert!(client.allowed_sans.dns && client.allowed_sans.email && !client.allowed_sans.uri);
        assert_eq!(client.key_types, vec![KeyType::EcP256]);
        assert_eq!(client.server_url, None);
        let with_server =
            Profiles::from_toml("[server]\nurl = \"https://ca.example.internal:8443/\"\n")
                .expect("valid");
        assert_eq!(
            with_server.get(ProfileKind::Server).server_url.as_deref(),
            Some("https://ca.example.internal:8443")
        );
    }

    #[test]
    fn bad_configs_are_named() {
        for (text, code) in [
            ("[profiles.webserver]\n", "unknown_profile"),
            ("[profiles.server]\ncolour = 1\n", "invalid_config"),
            ("[profiles.server]\ndefault_days = 500\n", "invalid_config"),
            ("[profiles.client]\nallow = [\"x400\"]\n", "invalid_config"),
            (
                "[profiles.client]\nkey_types = [\"rsa-1024\"]\n",
                "invalid_config",
            ),
            ("not toml at all [", "invalid_config"),
            ("[server]\nurl = \"ftp://ca.example\"\n", "invalid_config"),
            ("[ocsp]\nrevocation_refresh_ms = 0\n", "invalid_config"),
            ("[ocsp]\nrefresh = 5\n", "invalid_config"),
            ("[server]\nport = 1\n", "invalid_config"),
        ] {
            let error = Profiles::from_toml(text).expect_err(text);
            assert_eq!(error.code(), code, "{text}: {error}");
        }
    }
}
