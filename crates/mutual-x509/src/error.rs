//! Why bytes could not be decoded. Each message says what was expected and what was
//! found; the caller adds which input it was.

/// A failure to decode an input. Objects that decode but are odd are not errors: they
/// are decoded and carry a [`crate::Diagnosis`] instead.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "is empty; expected a certificate, CSR, CRL, PKCS#7, PKCS#12 or private key in PEM or DER"
    )]
    Empty,

    #[error("is {size} bytes; the limit is {limit} bytes, and no certificate object comes near it")]
    TooLarge { size: u64, limit: u64 },

    #[error(
        "expected PEM (-----BEGIN ...-----) or DER (a certificate, CSR, CRL, PKCS#7, PKCS#12 or private key); found {found}"
    )]
    Unrecognized { found: String },

    #[error("line {line}: {problem}")]
    Pem { line: usize, problem: PemProblem },

    #[error("PEM block {index} (`{label}`, line {line}): {source}")]
    InPemBlock {
        index: usize,
        label: String,
        line: usize,
        #[source]
        source: Box<DecodeError>,
    },

    #[error("is not a valid DER {what}: {detail}")]
    Der { what: &'static str, detail: String },

    #[error(
        "has {count} bytes of trailing data after the DER {what}; expected the input to end there"
    )]
    TrailingData { what: &'static str, count: usize },

    #[error(
        "is a password-protected PKCS#12 file; give its password with `--password-file FILE` or `--password-env VAR`"
    )]
    PasswordRequired,

    #[error("PKCS#12 password is wrong: the integrity check (MAC) failed with the password given")]
    WrongPassword,

    #[error("is a PKCS#12 file that could not be read: {detail}")]
    Pkcs12 {
        detail: String,
        #[source]
        source: Option<p12_keystore::error::Error>,
    },
}

impl DecodeError {
    /// A stable snake_case name for the failure, for scripts and JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty_input",
            DecodeError::TooLarge { .. } => "input_too_large",
            DecodeError::Unrecognized { .. } => "unrecognized_format",
            DecodeError::Pem { problem, .. } => problem.code(),
            DecodeError::InPemBlock { source, .. } => source.code(),
            DecodeError::Der { .. } => "bad_der",
            DecodeError::TrailingData { .. } => "trailing_data",
            DecodeError::PasswordRequired => "password_required",
            DecodeError::WrongPassword => "wrong_password",
            DecodeError::Pkcs12 { .. } => "bad_pkcs12",
        }
    }
}

/// What is wrong with a PEM text.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemProblem {
    #[error(
        "`-----BEGIN {label}-----` has no matching `-----END {label}-----` (the file looks truncated)"
    )]
    MissingEnd { label: String },

    #[error("`-----END {found}-----` closes a block that began as `-----BEGIN {expected}-----`")]
    MismatchedEnd { expected: String, found: String },

    #[error("expected base64 inside the `{label}` block; found {found}")]
    BadBase64 { label: String, found: String },

    #[error("the `{label}` block is empty")]
    EmptyBlock { label: String },

    #[error(
        "PEM label `{label}` is not one mutual reads; expected CERTIFICATE, CERTIFICATE REQUEST, X509 CRL, PKCS7 or a PRIVATE KEY"
    )]
    UnsupportedLabel { label: String },
}

impl PemProblem {
    pub fn code(&self) -> &'static str {
        match self {
            PemProblem::MissingEnd { .. } => "pem_truncated",
            PemProblem::MismatchedEnd { .. } => "pem_mismatched_end",
            PemProblem::BadBase64 { .. } => "pem_bad_base64",
            PemProblem::EmptyBlock { .. } => "pem_empty_block",
            PemProblem::UnsupportedLabel { .. } => "pem_unsupported_label",
        }
    }
}
