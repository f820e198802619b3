//! The CA's errors, each with the evidence (which file, which serial) and its cause.

use std::path::PathBuf;

use crate::issuance::IssueError;
use crate::key::KeyError;
use crate::passphrase::PassphraseError;
use crate::profile::ProfileError;
use crate::store::StoreError;

#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("no CA in `{}`: run `mutual init` first (or pass --home / set MUTUAL_HOME)", home.display())]
    NotInitialised { home: PathBuf },
    #[error("`{}` already holds a CA; mutual init never overwrites one", home.display())]
    AlreadyInitialised { home: PathBuf },
    #[error("`{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("key `{}`", path.display())]
    Key {
        path: PathBuf,
        #[source]
        source: KeyError,
    },
    #[error("`{}`", path.display())]
    Profile {
        path: PathBuf,
        #[source]
        source: ProfileError,
    },
    #[error(transparent)]
    Passphrase(#[from] PassphraseError),
    #[error("certificate store")]
    Store {
        #[source]
        source: StoreError,
    },
    #[error(transparent)]
    Issue { source: IssueError },
    #[error("building the CA certificates failed")]
    Build {
        #[source]
        source: rcgen::Error,
    },
    #[error("key generation failed")]
    KeyGeneration {
        #[source]
        source: KeyError,
    },
}

impl CaError {
    pub fn code(&self) -> &'static str {
        match self {
            CaError::NotInitialised { .. } => "not_initialised",
            CaError::AlreadyInitialised { .. } => "already_initialised",
            CaError::Io { .. } => "io_error",
            CaError::Key { source, .. } => source.code(),
            CaError::Profile { source, .. } => source.code(),
            CaError::Passphrase(source) => source.code(),
            CaError::Store { source } => source.code(),
            CaError::Issue { source } => source.code(),
            CaError::Build { .. } => "build_failed",
            CaError::KeyGeneration { source } => source.code(),
        }
    }

    /// True when the user's input or environment is at fault (exit 2), not the program.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, CaError::Build { .. } | CaError::KeyGeneration { .. })
    }
}
