//! `mutual init`: a self-signed root and two issuing intermediates signed by it, a server
//! CA (EKU serverAuth only) and a client CA (EKU clientAuth only), so that client and
//! server certificates come from separate hierarchies and a gateway can trust the client
//! CA alone.

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, KeyPair, KeyUsagePurpose, NameConstraints, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::error::CaError;
use crate::files::{FileKind, write_atomic};
use crate::home::{Home, IssuingRole};
use crate::key::{self, KeyType};
use crate::passphrase::Passphrase;
use crate::store::{NewCertificate, Store};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitOptions {
    /// The organisation name; the CAs are "NAME Root CA", "NAME Server CA"...
    pub name: String,
    pub key_type: KeyType,
    pub root_days: u32,
    pub intermediate_days: u32,
    /// DNS name constraints on both issuing CAs; empty for none.
    pub permitted_dns: Vec<String>,
    /// Write the intermediate keys unencrypted (0600) so a service starts unattended.
    pub unencrypted_intermediates: bool,
    /// The certificate store to record the CA certificates in (`--database`); `None` for
    /// the home's own choice (mutual.toml's `database`, else its SQLite file).
    pub database: Option<crate::store::Database>,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            name: "Mutual".to_owned(),
            key_type: KeyType::EcP256,
            root_days: 3650,
            intermediate_days: 1825,
            permitted_dns: Vec::new(),
            unencrypted_intermediates: false,
            database: None,
        }
    }
}

/// What `init` made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitReport {
    pub root: PathBuf,
    pub server_ca: PathBuf,
    pub client_ca: PathBuf,
    pub store: crate::store::Database,
}

/// Creates the CA in `home`. Refuses when one exists. Files appear all at once: they are
/// written into a fresh directory that is renamed into place last.
pub async fn init(
    home: &Home,
    options: &InitOptions,
    passphrase: &Passphrase,
    now: OffsetDateTime,
) -> Result<InitReport, CaError> {
    if home.is_initialised() || home.ca_dir().exists() {
        return Err(CaError::AlreadyInitialised {
            home: home.path().to_path_buf(),
        });
    }
    std::fs::create_dir_all(home.path()).map_err(|source| CaError::Io {
        path: home.path().to_path_buf(),
        source,
    })?;

    let generate = || {
        options
            .key_type
            .generate()
            .map_err(|source| CaError::KeyGeneration { source })
    };
    let root_key = generate()?;
    let root_params = ca_params(
        &format!("{} Root CA", options.name),
        &options.name,
        BasicConstraints::Constrained(1),
        None,
        &[],
        now,
        options.root_days,
    )?;
    let root = root_params
        .self_signed(&root_key)
        .map_err(|source| CaError::Build { source })?;
    let root_issuer = rcgen::Issuer::new(root_params, &root_key);

    let mut issued = vec![(root.pem(), "root")];
    let mut intermediates = Vec::new();
    for (role, eku) in [
        (IssuingRole::Server, ExtendedKeyUsagePurpose::ServerAuth),
        (IssuingRole::Client, ExtendedKeyUsagePurpose::ClientAuth),
    ] {
        let label = match role {
            IssuingRole::Server => "Server",
            IssuingRole::Client => "Client",
        };
        let key = generate()?;
        let mut params = ca_params(
            &format!("{} {label} CA", options.name),
            &options.name,
            BasicConstraints::Constrained(0),
            Some(eku),
            &options.permitted_dns,
            now,
            options.intermediate_days,
        )?;
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &root_issuer)
            .map_err(|source| CaError::Build { source })?;
        issued.push((cert.pem(), "intermediate"));
        intermediates.push((role, cert.pem(), key));
    }

    // Recorded before anything is published: a failure after this leaves records of
    // certificates nobody received, never certificates the store does not know.
    let database = home.database(options.database.as_ref())?;
    let store = Store::open(&database)
        .await
        .map_err(|source| CaError::Store { source })?;
    for (pem, profile) in issued {
        record(&store, &pem, profile, now).await?;
    }
    store.close().await;

    // Everything goes into a staging directory first, then one rename publishes it.
    let staging = home
        .path()
        .join(format!(".ca-staging-{}", std::process::id()));
    let result = write_staged(
        &staging,
        options,
        passphrase,
        &root.pem(),
        &root_key,
        &intermediates,
    );
    if let Err(error) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    std::fs::rename(&staging, home.ca_dir()).map_err(|source| CaError::Io {
        path: home.ca_dir(),
        source,
    })?;
    Ok(InitReport {
        root: home.root_certificate(),
        server_ca: home.issuing_certificate(IssuingRole::Server),
        client_ca: home.issuing_certificate(IssuingRole::Client),
        store: database,
    })
}

fn write_staged(
    staging: &std::path::Path,
    options: &InitOptions,
    passphrase: &Passphrase,
    root_pem: &str,
    root_key: &KeyPair,
    intermediates: &[(IssuingRole, String, KeyPair)],
) -> Result<(), CaError> {
    let io = |path: PathBuf| move |source| CaError::Io { path, source };
    std::fs::create_dir_all(staging).map_err(io(staging.to_path_buf()))?;
    let write = |name: &str, bytes: &[u8], kind: FileKind| {
        let path = staging.join(name);
        write_atomic(&path, bytes, kind).map_err(io(path))
    };
    let encrypted = |key: &KeyPair, name: &str| {
        key::encrypt_pem(key, passphrase).map_err(|source| CaError::Key {
            path: staging.join(name),
            source,
        })
    };
    write("root.pem", root_pem.as_bytes(), FileKind::Public)?;
    write(
        "root.key.pem",
        encrypted(root_key, "root.key.pem")?.as_bytes(),
        FileKind::Secret,
    )?;
    for (role, pem, key) in intermediates {
        let stem = match role {
            IssuingRole::Server => "server-ca",
            IssuingRole::Client => "client-ca",
        };
        write(&format!("{stem}.pem"), pem.as_bytes(), FileKind::Public)?;
        let key_name = format!("{stem}.key.pem");
        if options.unencrypted_intermediates {
            let plain = key::unencrypted_pem(key).map_err(|source| CaError::Key {
                path: staging.join(&key_name),
                source,
            })?;
            write(&key_name, plain.as_bytes(), FileKind::Secret)?;
        } else {
            write(
                &key_name,
                encrypted(key, &key_name)?.as_bytes(),
                FileKind::Secret,
            )?;
        }
    }
    Ok(())
}

fn ca_params(
    common_name: &str,
    organisation: &str,
    constraint: BasicConstraints,
    eku: Option<ExtendedKeyUsagePurpose>,
    permitted_dns: &[String],
    now: OffsetDateTime,
    days: u32,
) -> Result<CertificateParams, CaError> {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, organisation);
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(constraint);
    // digitalSignature too: issuing CAs sign OCSP responses directly.
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.extended_key_usages = eku.into_iter().collect();
    if !permitted_dns.is_empty() {
        params.name_constraints = Some(NameConstraints {
            permitted_subtrees: permitted_dns
                .iter()
                .map(|d| GeneralSubtree::DnsName(d.clone()))
                .collect(),
            excluded_subtrees: Vec::new(),
        });
    }
    params.not_before = now - Duration::minutes(1);
    params.not_after = now + Duration::days(i64::from(days));
    let mut serial = [0u8; 16];
    aws_lc_rs::rand::fill(&mut serial).map_err(|_| CaError::Issue {
        source: crate::issuance::IssueError::Random,
    })?;
    serial[0] = (serial[0] & 0x7f) | 0x40;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    Ok(params)
}

async fn record(
    store: &Store,
    pem: &str,
    profile: &str,
    now: OffsetDateTime,
) -> Result<(), CaError> {
    let blocks = mutual_x509::pem::parse(pem.as_bytes()).map_err(|e| CaError::Issue {
        source: crate::issuance::IssueError::Construction {
            detail: e.to_string(),
        },
    })?;
    let der = blocks.first().map(|b| b.der.as_slice()).unwrap_or_default();
    let cert = mutual_x509::Certificate::from_der(der, now).map_err(|e| CaError::Issue {
        source: crate::issuance::IssueError::Construction {
            detail: e.to_string(),
        },
    })?;
    let issuer_key_id = cert
        .extensions
        .iter()
        .find_map(|e| match &e.value {
            mutual_x509::ExtensionValue::AuthorityKeyIdentifier {
                key_id: Some(id), ..
            } => Some(id.replace(':', "")),
            _ => None,
        })
        .or_else(|| {
            cert.extensions.iter().find_map(|e| match &e.value {
                mutual_x509::ExtensionValue::SubjectKeyIdentifier { key_id } => {
                    Some(key_id.replace(':', ""))
                }
                _ => None,
            })
        })
        .unwrap_or_default();
    store
        .record(&NewCertificate {
            serial: cert.serial.clone(),
            issuer_key_id,
            issuer: cert.issuer.rfc4514.clone(),
            subject: cert.subject.rfc4514.clone(),
            sans: Vec::new(),
            not_before: cert.validity.not_before,
            not_after: cert.validity.not_after,
            profile: profile.to_owned(),
            requester: None,
            fingerprint_sha256: cert.fingerprints.sha256.clone(),
            pem: pem.to_owned(),
            audit: None,
        })
        .await
        .map_err(|source| CaError::Store { source })?;
    Ok(())
}
