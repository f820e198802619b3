//! What can stop a certificate from being linted at all.

/// A certificate or request the linter could not read. Findings about a certificate are
/// never errors: they are lint results.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    /// The DER did not parse (only possible when the object was not decoded by
    /// `mutual-x509` first, or decodes differently the second time).
    #[error("the {what} does not parse as DER: {detail}")]
    Der { what: &'static str, detail: String },
    /// A field the linter reads directly is missing or malformed.
    #[error("the {what} is missing or malformed")]
    Structure { what: &'static str },
    /// The bytes hold something else than a certificate or request.
    #[error("expected a certificate or certificate request, found {found}")]
    NotLintable { found: &'static str },
    #[error(transparent)]
    Decode(#[from] mutual_x509::DecodeError),
}

impl LintError {
    /// A stable snake_case code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            LintError::Der { .. } => "bad_der",
            LintError::Structure { .. } => "malformed_structure",
            LintError::NotLintable { .. } => "not_lintable",
            LintError::Decode(e) => e.code(),
        }
    }
}
