//! The CA's home: where its certificates, keys, store and configuration live.
//!
//! ```text
//! HOME/
//!   mutual.toml            optional profile overrides
//!   mutual.sqlite          the certificate store
//!   ca/root.pem            the root CA certificate (distribute it to relying parties)
//!   ca/root.key.pem        its key, always encrypted
//!   ca/server-ca.pem       issues server certificates (EKU serverAuth only)
//!   ca/server-ca.key.pem
//!   ca/client-ca.pem       issues client certificates (EKU clientAuth only)
//!   ca/client-ca.key.pem
//! ```

use std::path::{Path, PathBuf};

use crate::error::CaError;
use crate::issuance::IssuingCa;
use crate::key;
use crate::passphrase::Passphrase;
use crate::profile::{ProfileKind, Profiles};

/// Which of the two issuing CAs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssuingRole {
    Server,
    Client,
}

impl IssuingRole {
    /// Server certificates come from the server CA, everything else from the client CA.
    pub fn for_profile(kind: ProfileKind) -> IssuingRole {
        match kind {
            ProfileKind::Server | ProfileKind::ServerClient => IssuingRole::Server,
            ProfileKind::Client | ProfileKind::OcspSigner | ProfileKind::Admin => {
                IssuingRole::Client
            }
        }
    }

    /// `server-ca` or `client-ca`: its files, and its paths on the CA service.
    pub fn file_stem(self) -> &'static str {
        match self {
            IssuingRole::Server => "server-ca",
            IssuingRole::Client => "client-ca",
        }
    }
}

/// Any CA of the home that signs something: the root (which signs the intermediates and
/// their CRL) or one of the issuing CAs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authority {
    Root,
    Issuing(IssuingRole),
}

impl Authority {
    pub const ALL: [Authority; 3] = [
        Authority::Root,
        Authority::Issuing(IssuingRole::Server),
        Authority::Issuing(IssuingRole::Client),
    ];

    /// `root`, `server-ca` or `client-ca`.
    pub fn file_stem(self) -> &'static str {
        match self {
            Authority::Root => "root",
            Authority::Issuing(role) => role.file_stem(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `--home DIR`, else `$MUTUAL_HOME`, else `./mutual-data`.
    pub fn resolve(flag: Option<&Path>) -> Home {
        let root = flag.map(Path::to_path_buf).unwrap_or_else(|| {
            std::env::var_os("MUTUAL_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("mutual-data"))
        });
        Home { root }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn ca_dir(&self) -> PathBuf {
        self.root.join("ca")
    }

    pub fn root_certificate(&self) -> PathBuf {
        self.ca_dir().join("root.pem")
    }

    pub fn root_key(&self) -> PathBuf {
        self.ca_dir().join("root.key.pem")
    }

    pub fn issuing_certificate(&self, role: IssuingRole) -> PathBuf {
        self.ca_dir().join(format!("{}.pem", role.file_stem()))
    }

    pub fn issuing_key(&self, role: IssuingRole) -> PathBuf {
        self.ca_dir().join(format!("{}.key.pem", role.file_stem()))
    }

    pub fn store(&self) -> PathBuf {
        self.root.join("mutual.sqlite")
    }

    /// The certificate store this home uses: `explicit` (`--database`, `$MUTUAL_DATABASE`)
    /// when given, else `database = "..."` in its mutual.toml, else its SQLite file.
    pub fn database(
        &self,
        explicit: Option<&crate::store::Database>,
    ) -> Result<crate::store::Database, CaError> {
        if let Some(database) = explicit {
            return Ok(database.clone());
        }
        Ok(self
            .profiles()?
            .database()
            .cloned()
            .unwrap_or_else(|| crate::store::Database::Sqlite(self.store())))
    }

    pub fn config(&self) -> PathBuf {
        self.root.join("mutual.toml")
    }

    /// True once `mutual init` has run here.
    pub fn is_initialised(&self) -> bool {
        self.root_certificate().exists()
    }

    fn require_initialised(&self) -> Result<(), CaError> {
        if self.is_initialised() {
            Ok(())
        } else {
            Err(CaError::NotInitialised {
                home: self.root.clone(),
            })
        }
    }

    /// The profiles in force: built-ins, overridden by `mutual.toml` when present.
    pub fn profiles(&self) -> Result<Profiles, CaError> {
        let path = self.config();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                Profiles::from_toml(&text).map_err(|source| CaError::Profile { path, source })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Profiles::default()),
            Err(source) => Err(CaError::Io { path, source }),
        }
    }

    /// Loads an issuing CA, decrypting its key with `passphrase` when it is encrypted.
    pub fn issuing_ca(
        &self,
        role: IssuingRole,
        passphrase: Option<&Passphrase>,
    ) -> Result<IssuingCa, CaError> {
        self.require_initialised()?;
        let cert_path = self.issuing_certificate(role);
        let key_path = self.issuing_key(role);
        let cert = read(&cert_path)?;
        let key_pem = read(&key_path)?;
        let key = key::read_key(&key_pem, passphrase).map_err(|source| CaError::Key {
            path: key_path.clone(),
            source,
        })?;
        IssuingCa::new(&cert, key).map_err(|source| CaError::Issue { source })
    }

    /// Loads any CA of the home with its key: the root's is always encrypted.
    pub fn authority(
        &self,
        authority: Authority,
        passphrase: Option<&Passphrase>,
    ) -> Result<IssuingCa, CaError> {
        match authority {
            Authority::Issuing(role) => self.issuing_ca(role, passphrase),
            Authority::Root => {
                self.require_initialised()?;
                let cert = read(&self.root_certificate())?;
                let key_path = self.root_key();
                let key = key::read_key(&read(&key_path)?, passphrase).map_err(|source| {
                    CaError::Key {
                        path: key_path.clone(),
                        source,
                    }
                })?;
                IssuingCa::new(&cert, key).map_err(|source| CaError::Issue { source })
            }
        }
    }

    /// True when the issuing CA's key is stored encrypted (so a passphrase is needed).
    pub fn issuing_key_is_encrypted(&self, role: IssuingRole) -> Result<bool, CaError> {
        self.require_initialised()?;
        let path = self.issuing_key(role);
        Ok(read(&path)?.contains("ENCRYPTED PRIVATE KEY"))
    }
}

fn read(path: &Path) -> Result<String, CaError> {
    std::fs::read_to_string(path).map_err(|source| CaError::Io {
        path: path.to_path_buf(),
        source,
    })
}
