//! The shared language of findings: every command that judges something (inspect, lint,
//! verify, probe, gateway) reports it as a [`Diagnosis`].

use serde::Serialize;

/// How much a finding matters to someone relying on the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    Info,
    /// Legal but likely to bite: a relying party may reject it, or it hides a mistake.
    Warning,
    /// The object cannot do what it is evidently meant to do.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding: a stable `code` scripts can match on, a plain-language `message`, the
/// `evidence` that proves it (field name, value), and a `fix` when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub evidence: Vec<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// A field of the object and the value that was found in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub field: String,
    pub value: String,
}

impl Diagnosis {
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Diagnosis {
            code,
            severity,
            message: message.into(),
            evidence: Vec::new(),
            fix: None,
        }
    }

    pub fn with_evidence(mut self, field: impl Into<String>, value: impl Into<String>) -> Self {
        self.evidence.push(Evidence {
            field: field.into(),
            value: value.into(),
        });
        self
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}
