//! What `mutual serve` does before it serves: on a fresh home it creates the CA (as
//! `mutual init`, with the issuing keys readable unattended) and a first administrator;
//! on every start it makes sure it has a current server certificate of its own.
//!
//! ```text
//! HOME/
//!   root-passphrase.txt    the root key's passphrase, when the service made it up (0600;
//!                          move it offline)
//!   admin.p12              the first administrator's client certificate and key
//!   admin.p12.password     its password (0600)
//!   admin.pem, admin.key.pem   the same as PEM, for curl and `mutual --server`
//!   serve/tls.pem          the service's server certificate and chain, tls.key.pem its key
//!   serve/ocsp-*.pem       the delegated OCSP responders' certificates and keys
//! ```

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use mutual_ca::files::{FileKind, NewFileSet, write_atomic};
use mutual_ca::home::{Home, IssuingRole};
use mutual_ca::init::{InitOptions, init};
use mutual_ca::issuance::{IssuingCa, SubjectAltName};
use mutual_ca::key::KeyType;
use mutual_ca::passphrase::Passphrase;
use mutual_ca::pkcs12::{Pkcs12Flavour, export};
use mutual_ca::profile::{ProfileKind, Profiles};
use mutual_ca::store::Store;
use time::{Duration, OffsetDateTime};

use crate::ServeOptions;
use crate::error::ServeError;
use crate::issuer::{IssueFailure, Order, issue_with_new_key, random_secret};

/// A server certificate with less than this left is replaced at start.
const TLS_RENEW_MARGIN: Duration = Duration::days(30);

/// What the start-up did, for the banner.
#[derive(Debug, Clone, Default)]
pub struct Bootstrap {
    /// The CA was created by this start.
    pub created_ca: bool,
    /// Where the root key's passphrase was written, when the service made it up.
    pub root_passphrase_file: Option<PathBuf>,
    /// The first administrator's bundle and its password file, when made by this start.
    pub admin_p12: Option<(PathBuf, PathBuf)>,
    /// The base URL issued certificates name (`[server] url` in mutual.toml).
    pub public_url: Option<String>,
    /// The service's certificate (with chain) and whether this start issued it.
    pub tls_certificate: PathBuf,
    pub tls_issued: bool,
    /// The root certificate, for clients to trust (`--cacert`).
    pub root_certificate: PathBuf,
}

/// The CA as the running service needs it: open store, profiles, unlocked issuing CAs.
pub(crate) struct Loaded {
    pub(crate) store: Store,
    pub(crate) profiles: Profiles,
    pub(crate) server_ca: IssuingCa,
    pub(crate) client_ca: IssuingCa,
    pub(crate) tls_chain_pem: String,
    pub(crate) tls_key_pem: zeroize::Zeroizing<String>,
}

pub(crate) fn serve_dir(home: &Home) -> PathBuf {
    home.path().join("serve")
}

pub(crate) async fn prepare(
    options: &ServeOptions,
    now: OffsetDateTime,
) -> Result<(Bootstrap, Loaded), ServeError> {
    let home = &options.home;
    let ca_error = |source| ServeError::Ca {
        home: home.path().to_path_buf(),
        source: Box::new(source),
    };
    let mut boot = Bootstrap {
        root_certificate: home.root_certificate(),
        ..Bootstrap::default()
    };
    if !home.is_initialised() {
        create_ca(options, &mut boot, now).await?;
    }
    let profiles = home.profiles().map_err(ca_error)?;
    boot.public_url = profiles.get(ProfileKind::Server).server_url.clone();
    let database = home.database(options.database.as_ref()).map_err(ca_error)?;
    let store = Store::open(&database)
        .await
        .map_err(|source| ServeError::Store {
            source: Box::new(source),
        })?;
    let unlock = |role| {
        let encrypted = home.issuing_key_is_encrypted(role).map_err(ca_error)?;
        let passphrase = match (encrypted, &options.passphrase) {
            (false, _) => None,
            (true, Some(passphrase)) => Some(passphrase),
            (true, None) => {
                return Err(ServeError::Setup {
                    what: "the issuing CA keys",
                    detail: format!(
                        "`{}` is encrypted and the service must sign unattended; pass --passphrase-file FILE or set MUTUAL_PASSPHRASE",
                        home.issuing_key(role).display()
                    ),
                });
            }
        };
        home.issuing_ca(role, passphrase).map_err(ca_error)
    };
    let server_ca = unlock(IssuingRole::Server)?;
    let client_ca = unlock(IssuingRole::Client)?;

    let dir = serve_dir(home);
    std::fs::create_dir_all(&dir).map_err(|source| ServeError::Io {
        path: dir.clone(),
        source,
    })?;
    let (tls_chain_pem, tls_key_pem, issued) =
        tls_certificate(options, &profiles, &store, &server_ca, now).await?;
    boot.tls_certificate = dir.join("tls.pem");
    boot.tls_issued = issued;

    if boot.created_ca {
        boot.admin_p12 = Some(first_admin(home, &profiles, &store, &client_ca, now).await?);
    }
    Ok((
        boot,
        Loaded {
            store,
            profiles,
            server_ca,
            client_ca,
            tls_chain_pem,
            tls_key_pem,
        },
    ))
}

/// `mutual init` for the service: the root key encrypted with the given passphrase or one
/// made up and written beside it; the issuing keys unencrypted (0600) so the service
/// starts unattended; `mutual.toml` pointing issued certificates at the plain-HTTP URLs.
async fn create_ca(
    options: &ServeOptions,
    boot: &mut Bootstrap,
    now: OffsetDateTime,
) -> Result<(), ServeError> {
    let home = &options.home;
    std::fs::create_dir_all(home.path()).map_err(|source| ServeError::Io {
        path: home.path().to_path_buf(),
        source,
    })?;
    let made_up;
    let passphrase = match &options.passphrase {
        Some(passphrase) => passphrase,
        None => {
            let secret = random_secret(24).ok_or(ServeError::Setup {
                what: "the root key passphrase",
                detail: "the system's random generator failed".to_owned(),
            })?;
            let path = home.path().join("root-passphrase.txt");
            write_atomic(
                &path,
                format!("{}\n", secret.as_str()).as_bytes(),
                FileKind::Secret,
            )
            .map_err(|source| ServeError::Io {
                path: path.clone(),
                source,
            })?;
            boot.root_passphrase_file = Some(path);
            made_up = Passphrase::new(secret.to_string());
            &made_up
        }
    };
    let config = home.config();
    let public_url = options
        .public_url
        .clone()
        .or_else(|| options.http_listen.map(default_public_url));
    if !config.exists()
        && let Some(url) = &public_url
    {
        let text = format!(
            "# Written by `mutual serve` when it created this CA. Issued certificates point\n\
             # relying parties at this URL for OCSP, CRLs and CA certificates (plain HTTP).\n\
             [server]\nurl = \"{url}\"\n"
        );
        write_atomic(&config, text.as_bytes(), FileKind::Public).map_err(|source| {
            ServeError::Io {
                path: config.clone(),
                source,
            }
        })?;
    }
    let init_options = InitOptions {
        name: "Mutual".to_owned(),
        unencrypted_intermediates: true,
        database: options.database.clone(),
        ..InitOptions::default()
    };
    init(home, &init_options, passphrase, now)
        .await
        .map_err(|source| ServeError::Ca {
            home: home.path().to_path_buf(),
            source: Box::new(source),
        })?;
    boot.created_ca = true;
    Ok(())
}

/// `http://` + the plain-HTTP listener; an unspecified address becomes `localhost`.
fn default_public_url(addr: SocketAddr) -> String {
    match addr.ip() {
        ip if ip.is_unspecified() => format!("http://localhost:{}", addr.port()),
        IpAddr::V6(ip) => format!("http://[{ip}]:{}", addr.port()),
        IpAddr::V4(ip) => format!("http://{ip}:{}", addr.port()),
    }
}

/// The names the service's certificate must carry.
fn tls_names(options: &ServeOptions) -> Vec<SubjectAltName> {
    let mut names = vec![SubjectAltName::Dns("localhost".to_owned())];
    let mut ips: Vec<IpAddr> = vec![
        IpAddr::from([127, 0, 0, 1]),
        IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
    ];
    if !options.listen.ip().is_unspecified() {
        ips.push(options.listen.ip());
    }
    for name in &options.names {
        match name.parse::<IpAddr>() {
            Ok(ip) => ips.push(ip),
            Err(_) => names.push(SubjectAltName::Dns(name.to_ascii_lowercase())),
        }
    }
    ips.sort();
    ips.dedup();
    names.dedup();
    names.extend(ips.into_iter().map(SubjectAltName::Ip));
    names
}

/// The service's own server certificate: the one on disk while it has 30 days left and
/// names everything asked for, else a new one from the server CA.
async fn tls_certificate(
    options: &ServeOptions,
    profiles: &Profiles,
    store: &Store,
    server_ca: &IssuingCa,
    now: OffsetDateTime,
) -> Result<(String, zeroize::Zeroizing<String>, bool), ServeError> {
    let dir = serve_dir(&options.home);
    let cert_path = dir.join("tls.pem");
    let key_path = dir.join("tls.key.pem");
    let names = tls_names(options);
    if let Some((chain, key)) = current(&cert_path, &key_path, &names, now + TLS_RENEW_MARGIN) {
        return Ok((chain, key, false));
    }
    let common_name = options
        .names
        .first()
        .cloned()
        .unwrap_or_else(|| "localhost".to_owned());
    let issued = issue_with_new_key(
        Order {
            profile: ProfileKind::Server,
            common_name,
            sans: names,
            days: None,
            key_type: KeyType::EcP256,
            requester: "mutual-serve".to_owned(),
            ca: server_ca,
            audit: None,
        },
        profiles,
        store,
        now,
    )
    .await
    .map_err(|e| failure("TLS certificate", e))?;
    let key_pem = issued.key_pem().map_err(|e| ServeError::Setup {
        what: "the TLS key",
        detail: e.to_string(),
    })?;
    let chain = issued.issued.chain_pem.clone();
    write_pair(&cert_path, chain.as_bytes(), &key_path, key_pem.as_bytes())?;
    Ok((chain, key_pem, true))
}

/// The certificate chain and key at these paths, if both read, belong together, name all
/// of `names` and are still valid at `until`.
pub(crate) fn current(
    cert_path: &Path,
    key_path: &Path,
    names: &[SubjectAltName],
    until: OffsetDateTime,
) -> Option<(String, zeroize::Zeroizing<String>)> {
    let chain = std::fs::read_to_string(cert_path).ok()?;
    let key = zeroize::Zeroizing::new(std::fs::read_to_string(key_path).ok()?);
    let block = mutual_x509::pem::parse(chain.as_bytes())
        .ok()?
        .into_iter()
        .find(|b| b.label == "CERTIFICATE")?;
    let cert = mutual_x509::Certificate::from_der(&block.der, until).ok()?;
    if cert.validity.not_after < until {
        return None;
    }
    let pair = mutual_ca::key::read_key(&key, None).ok()?;
    if pair.public_key_raw() != cert.public_key.key_bytes.as_slice() {
        return None;
    }
    let sans: Vec<&mutual_x509::GeneralName> = cert
        .extensions
        .iter()
        .filter_map(|e| match &e.value {
            mutual_x509::ExtensionValue::SubjectAltName { names } => Some(names),
            _ => None,
        })
        .flatten()
        .collect();
    let all_named = names.iter().all(|wanted| {
        sans.iter().any(|have| match (wanted, have) {
            (SubjectAltName::Dns(w), mutual_x509::GeneralName::Dns(h)) => w.eq_ignore_ascii_case(h),
            (SubjectAltName::Ip(w), mutual_x509::GeneralName::Ip(h)) => {
                h.parse::<IpAddr>().is_ok_and(|h| h == *w)
            }
            (SubjectAltName::Email(w), mutual_x509::GeneralName::Email(h)) => w == h,
            (SubjectAltName::Uri(w), mutual_x509::GeneralName::Uri(h)) => w == h,
            _ => false,
        })
    });
    all_named.then_some((chain, key))
}

/// Writes a certificate and its key, each atomically (temp + rename); the key 0600.
pub(crate) fn write_pair(
    cert_path: &Path,
    cert: &[u8],
    key_path: &Path,
    key: &[u8],
) -> Result<(), ServeError> {
    // Key first: a certificate on disk without its key would be taken for current.
    for (path, bytes, kind) in [
        (key_path, key, FileKind::Secret),
        (cert_path, cert, FileKind::Public),
    ] {
        write_atomic(path, bytes, kind).map_err(|source| ServeError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// The first administrator: an `admin` client certificate as `admin.p12` (password in a
/// 0600 file beside it) and as PEM.
async fn first_admin(
    home: &Home,
    profiles: &Profiles,
    store: &Store,
    client_ca: &IssuingCa,
    now: OffsetDateTime,
) -> Result<(PathBuf, PathBuf), ServeError> {
    let issued = issue_with_new_key(
        Order {
            profile: ProfileKind::Admin,
            common_name: "admin".to_owned(),
            sans: Vec::new(),
            days: None,
            key_type: KeyType::EcP256,
            requester: "mutual-serve".to_owned(),
            ca: client_ca,
            audit: None,
        },
        profiles,
        store,
        now,
    )
    .await
    .map_err(|e| failure("first administrator certificate", e))?;
    let setup = |detail: String| ServeError::Setup {
        what: "admin.p12",
        detail,
    };
    let key_pem = issued.key_pem().map_err(|e| setup(e.to_string()))?;
    let password = random_secret(18).ok_or_else(|| setup("no randomness".to_owned()))?;
    let root_pem =
        std::fs::read_to_string(home.root_certificate()).map_err(|source| ServeError::Io {
            path: home.root_certificate(),
            source,
        })?;
    let p12 = export(
        &key_pem,
        &issued.issued.certificate_pem,
        &[client_ca.certificate_pem.clone(), root_pem],
        "admin",
        &Passphrase::new(password.to_string()),
        Pkcs12Flavour::Modern,
    )
    .map_err(|e| setup(e.to_string()))?;
    let p12_path = home.path().join("admin.p12");
    let password_path = home.path().join("admin.p12.password");
    let mut files = NewFileSet::new();
    let password_line = format!("{}\n", password.as_str());
    for (path, bytes, kind) in [
        (&password_path, password_line.as_bytes(), FileKind::Secret),
        (&p12_path, p12.as_slice(), FileKind::Secret),
        (
            &home.path().join("admin.key.pem"),
            key_pem.as_bytes(),
            FileKind::Secret,
        ),
        (
            &home.path().join("admin.pem"),
            issued.issued.chain_pem.as_bytes(),
            FileKind::Public,
        ),
    ] {
        files
            .create(path, bytes, kind)
            .map_err(|source| ServeError::Io {
                path: path.clone(),
                source,
            })?;
    }
    files.keep();
    Ok((p12_path, password_path))
}

pub(crate) fn failure(what: &'static str, failure: IssueFailure) -> ServeError {
    match failure {
        IssueFailure::Failed(source) => ServeError::Issue {
            what,
            source: Box::new(source),
        },
        other => ServeError::Refused {
            what,
            reasons: other.to_string(),
        },
    }
}
