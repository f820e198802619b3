//! Passphrases for the CA's encrypted keys: from a file, an environment variable or a
//! terminal prompt — never from argv, so they stay out of `ps` and shell history.
//!
//! A [`Passphrase`] zeroes its memory when dropped and never prints itself.

use std::fmt;
use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// The environment variable every command that uses a CA key reads its passphrase from.
pub const PASSPHRASE_ENV: &str = "MUTUAL_PASSPHRASE";

/// The shortest passphrase accepted for a new key, in characters.
pub const MIN_LEN: usize = 8;

/// A passphrase file larger than this is not a passphrase file (and `/dev/zero` must not hang).
const MAX_FILE_LEN: u64 = 64 * 1024;

/// A secret passphrase. Its memory is zeroed on drop; `Debug` prints `Passphrase(***)`.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps a passphrase the caller already holds (tests, or a caller with its own source).
    /// No length rule applies here: [`resolve`] enforces [`MIN_LEN`] for new keys.
    pub fn new(passphrase: String) -> Self {
        Self(Zeroizing::new(passphrase))
    }

    /// Reads the first line of `path`, without its line ending (`\n` or `\r\n`).
    ///
    /// # Errors
    /// [`PassphraseError::FileUnreadable`] when the file cannot be read,
    /// [`PassphraseError::Empty`] when its first line is empty,
    /// [`PassphraseError::NotUtf8`] when that line is not UTF-8.
    pub fn from_file(path: &Path) -> Result<Self, PassphraseError> {
        let unreadable = |source| PassphraseError::FileUnreadable {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(unreadable)?;
        let mut bytes = Zeroizing::new(Vec::with_capacity(1024));
        file.take(MAX_FILE_LEN)
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
        let origin = || Origin::File(path.to_owned());
        let line = bytes.split(|&byte| byte == b'\n').next().unwrap_or(&[]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line =
            std::str::from_utf8(line).map_err(|_| PassphraseError::NotUtf8 { origin: origin() })?;
        if line.is_empty() {
            return Err(PassphraseError::Empty { origin: origin() });
        }
        Ok(Self::new(line.to_owned()))
    }

    /// Reads the environment variable `var`, as it is (no trimming).
    ///
    /// # Errors
    /// [`PassphraseError::EnvNotSet`] when `var` is not set, [`PassphraseError::Empty`] when it
    /// is set but empty, [`PassphraseError::NotUtf8`] when it is not UTF-8.
    pub fn from_env(var: &str) -> Result<Self, PassphraseError> {
        let value = std::env::var_os(var).ok_or_else(|| PassphraseError::EnvNotSet {
            var: var.to_owned(),
        })?;
        let origin = || Origin::Env(var.to_owned());
        let value = Zeroizing::new(
            value
                .into_string()
                .map_err(|_| PassphraseError::NotUtf8 { origin: origin() })?,
        );
        if value.is_empty() {
            return Err(PassphraseError::Empty { origin: origin() });
        }
        Ok(Self(value))
    }

    /// Asks on the terminal without echo. With `confirm` (a new key) the passphrase must have
    /// at least [`MIN_LEN`] characters and is asked for twice.
    ///
    /// # Errors
    /// [`PassphraseError::NoTerminal`] when standard input is not a terminal (scripts must use
    /// `--passphrase-file` or [`PASSPHRASE_ENV`]); [`PassphraseError::Prompt`] when the
    /// terminal cannot be read; [`PassphraseError::Empty`], [`PassphraseError::TooShort`],
    /// [`PassphraseError::Mismatch`] for what was typed.
    pub fn prompt(text: &str, confirm: bool) -> Result<Self, PassphraseError> {
        prompt(text, confirm, PASSPHRASE_ENV)
    }

    /// The passphrase itself, to hand to a KDF. Do not log, print or store it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Checks the rule for new keys: at least [`MIN_LEN`] characters.
    fn check_new(&self, origin: Origin) -> Result<(), PassphraseError> {
        let length = self.0.chars().count();
        if length < MIN_LEN {
            return Err(PassphraseError::TooShort {
                origin,
                length,
                minimum: MIN_LEN,
            });
        }
        Ok(())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(***)")
    }
}

/// The passphrase every key-using command gets: from `file` when given, else from the
/// environment variable `env_var` when set, else from a prompt showing `prompt_text`.
/// `confirm` marks a new key: the passphrase must then have at least [`MIN_LEN`] characters
/// (from any source), and a prompted one is typed twice.
///
/// # Errors
/// Whatever the chosen source fails with (see [`Passphrase::from_file`],
/// [`Passphrase::from_env`], [`Passphrase::prompt`]), or [`PassphraseError::TooShort`].
pub fn resolve(
    file: Option<&Path>,
    env_var: &str,
    prompt_text: &str,
    confirm: bool,
) -> Result<Passphrase, PassphraseError> {
    let (passphrase, origin) = if let Some(path) = file {
        (Passphrase::from_file(path)?, Origin::File(path.to_owned()))
    } else if std::env::var_os(env_var).is_some() {
        (
            Passphrase::from_env(env_var)?,
            Origin::Env(env_var.to_owned()),
        )
    } else {
        // `prompt` has checked the length itself, before asking a second time.
        return prompt(prompt_text, confirm, env_var);
    };
    if confirm {
        passphrase.check_new(origin)?;
    }
    Ok(passphrase)
}

fn prompt(text: &str, confirm: bool, env_var: &str) -> Result<Passphrase, PassphraseError> {
    if !io::stdin().is_terminal() {
        return Err(PassphraseError::NoTerminal {
            env_var: env_var.to_owned(),
        });
    }
    let ask = |text: &str| {
        rpassword::prompt_password(text)
            .map(|typed| Passphrase(Zeroizing::new(typed)))
            .map_err(|source| PassphraseError::Prompt { source })
    };
    let passphrase = ask(text)?;
    if passphrase.0.is_empty() {
        return Err(PassphraseError::Empty {
            origin: Origin::Prompt,
        });
    }
    if confirm {
        passphrase.check_new(Origin::Prompt)?;
        let again = ask("Repeat the passphrase: ")?;
        if again.0 != passphrase.0 {
            return Err(PassphraseError::Mismatch);
        }
    }
    Ok(passphrase)
}

/// Where a passphrase came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `--passphrase-file`.
    File(PathBuf),
    /// An environment variable, by name.
    Env(String),
    /// The terminal.
    Prompt,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "passphrase file `{}`", path.display()),
            Self::Env(var) => write!(f, "environment variable `{var}`"),
            Self::Prompt => f.write_str("the terminal prompt"),
        }
    }
}

/// Why no passphrase could be had. Never contains the passphrase.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum PassphraseError {
    /// The passphrase file could not be opened or read.
    #[error("cannot read passphrase file `{}`", path.display())]
    FileUnreadable {
        /// The file given.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: io::Error,
    },
    /// The source gave an empty passphrase (a file with an empty first line, an empty
    /// variable, Enter at the prompt).
    #[error(
        "{origin} gives an empty passphrase; expected the passphrase (on the first line of a file)"
    )]
    Empty {
        /// Where the empty passphrase came from.
        origin: Origin,
    },
    /// The passphrase is not UTF-8.
    #[error("{origin} does not hold UTF-8 text; expected a UTF-8 passphrase")]
    NotUtf8 {
        /// Where it came from.
        origin: Origin,
    },
    /// [`Passphrase::from_env`] on a variable that is not set.
    #[error("environment variable `{var}` is not set; expected the passphrase in it")]
    EnvNotSet {
        /// The variable's name.
        var: String,
    },
    /// Nowhere to ask: no file, no variable, and standard input is not a terminal.
    #[error(
        "no passphrase: standard input is not a terminal to ask on; pass `--passphrase-file FILE` or set `{env_var}`"
    )]
    NoTerminal {
        /// The variable that would have been read.
        env_var: String,
    },
    /// Reading from the terminal failed.
    #[error("cannot read the passphrase from the terminal")]
    Prompt {
        /// The terminal's error.
        #[source]
        source: io::Error,
    },
    /// The two passphrases typed for a new key differ.
    #[error("the two passphrases typed do not match")]
    Mismatch,
    /// A new key's passphrase is shorter than [`MIN_LEN`].
    #[error(
        "the passphrase from {origin} has {length} characters; a new key needs at least {minimum}"
    )]
    TooShort {
        /// Where it came from.
        origin: Origin,
        /// Its length in characters.
        length: usize,
        /// The minimum, [`MIN_LEN`].
        minimum: usize,
    },
}

impl PassphraseError {
    /// A stable snake_case code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::FileUnreadable { .. } => "passphrase_file_unreadable",
            Self::Empty { .. } => "passphrase_empty",
            Self::NotUtf8 { .. } => "passphrase_not_utf8",
            Self::EnvNotSet { .. } => "passphrase_env_not_set",
            Self::NoTerminal { .. } => "passphrase_unavailable",
            Self::Prompt { .. } => "passphrase_prompt_failed",
            Self::Mismatch => "passphrase_mismatch",
            Self::TooShort { .. } => "passphrase_too_short",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn file_with(contents: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        fs::write(&path, contents).unwrap();
        (dir, path)
    }

    #[test]
    fn file_first_line_without_line_ending() {
        for contents in [
            &b"correct horse\n"[..],
            b"correct horse",
            b"correct horse\r\n",
            b"correct horse\nsecond line\n",
        ] {
            let (_dir, path) = file_with(contents);
            let passphrase = Passphrase::from_file(&path).unwrap();
            assert_eq!(passphrase.expose_secret(), "correct horse");
        }
    }

    #[test]
    fn file_keeps_inner_and_trailing_spaces() {
        let (_dir, path) = file_with(b" two  spaces \n");
        assert_eq!(
            Passphrase::from_file(&path).unwrap().expose_secret(),
            " two  spaces "
        );
    }

    #[test]
    fn empty_file_names_the_file() {
        for contents in [&b""[..], b"\n", b"\r\nlater\n"] {
            let (_dir, path) = file_with(contents);
            let error = Passphrase::from_file(&path).unwrap_err();
            assert_eq!(error.code(), "passphrase_empty");
            assert!(
                error.to_string().contains(&*path.to_string_lossy()),
                "{error}"
            );
        }
    }

    #[test]
    fn missing_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent");
        let error = Passphrase::from_file(&path).unwrap_err();
        assert_eq!(error.code(), "passphrase_file_unreadable");
        assert!(error.to_string().contains("absent"), "{error}");
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn non_utf8_file() {
        let (_dir, path) = file_with(b"\xff\xfe\n");
        assert_eq!(
            Passphrase::from_file(&path).unwrap_err().code(),
            "passphrase_not_utf8"
        );
    }

    #[test]
    fn debug_hides_the_passphrase() {
        let passphrase = Passphrase::new("hunter2hunter2".to_owned());
        assert_eq!(format!("{passphrase:?}"), "Passphrase(***)");
        assert_eq!(format!("{passphrase:#?}"), "Passphrase(***)");
    }

    // Edition 2024 makes `set_var` unsafe and the workspace forbids unsafe code, so these
    // tests read variables that are always set (`PATH`) or never set.
    #[test]
    fn env_variable() {
        assert_eq!(
            Passphrase::from_env("MUTUAL_TEST_UNSET_VARIABLE")
                .unwrap_err()
                .code(),
            "passphrase_env_not_set"
        );
        let passphrase = Passphrase::from_env("PATH").unwrap();
        assert_eq!(passphrase.expose_secret(), std::env::var("PATH").unwrap());
    }

    #[test]
    fn resolve_prefers_the_file() {
        let (_dir, path) = file_with(b"from the file\n");
        let passphrase = resolve(Some(&path), "PATH", "unused", false).unwrap();
        assert_eq!(passphrase.expose_secret(), "from the file");
    }

    #[test]
    fn resolve_reads_the_variable_when_no_file() {
        // `PATH` is always set and never empty: it stands in for `MUTUAL_PASSPHRASE`.
        let passphrase = resolve(None, "PATH", "unused", false).unwrap();
        assert_eq!(passphrase.expose_secret(), std::env::var("PATH").unwrap());
    }

    #[test]
    fn resolve_rejects_short_passphrases_for_new_keys() {
        let (_dir, path) = file_with(b"short\n");
        let error = resolve(Some(&path), PASSPHRASE_ENV, "unused", true).unwrap_err();
        assert_eq!(error.code(), "passphrase_too_short");
        let message = error.to_string();
        assert!(
            message.contains("5 characters") && message.contains("at least 8"),
            "{message}"
        );
        assert!(!message.contains("short\n"));
        // An existing key may have any passphrase.
        assert!(resolve(Some(&path), PASSPHRASE_ENV, "unused", false).is_ok());
        // Characters, not bytes: eight non-ASCII characters are enough.
        let (_dir, path) = file_with("éééééééé\n".as_bytes());
        assert!(resolve(Some(&path), PASSPHRASE_ENV, "unused", true).is_ok());
    }

    #[test]
    fn resolve_without_terminal_says_what_to_do() {
        if io::stdin().is_terminal() {
            return; // run by hand on a terminal: it would prompt
        }
        let error = resolve(None, "MUTUAL_TEST_UNSET_VARIABLE", "Passphrase: ", false).unwrap_err();
        assert_eq!(error.code(), "passphrase_unavailable");
        let message = error.to_string();
        assert!(message.contains("--passphrase-file FILE"), "{message}");
        assert!(message.contains("MUTUAL_TEST_UNSET_VARIABLE"), "{message}");
    }
}
