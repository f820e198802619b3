//! A lint: its declaration and its check, generic over what it looks at (a certificate, a
//! request, or a part both have), so CRLs and OCSP responses can join without a new design.

use crate::meta::Meta;

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// The rule does not concern this subject (e.g. a key-usage rule with no KU present).
    NotApplicable,
    /// The rule is broken; the text says where, with the values found.
    Fail(String),
}

impl Outcome {
    /// `Fail(details)` when `broken`, else `Pass`.
    pub fn fail_if(broken: bool, details: impl FnOnce() -> String) -> Self {
        if broken {
            Outcome::Fail(details())
        } else {
            Outcome::Pass
        }
    }
}

/// One rule. The severity of a failure is the metadata's, never the check's choice, so a
/// `w_` lint cannot report an error (zlint#1094).
pub struct Lint<S> {
    pub meta: Meta,
    pub check: fn(&S) -> Outcome,
}

impl<S> std::fmt::Debug for Lint<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lint").field("meta", &self.meta).finish()
    }
}
