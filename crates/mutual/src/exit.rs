//! Exit codes, decided in one place: 0 success, 1 a negative verdict, 2 bad usage or
//! unreadable input, 3 an internal error.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ExitStatus {
    Success,
    /// The command worked and its answer is "no" (invalid chain, lint errors...).
    Negative,
    /// The user's input could not be used.
    BadInput,
    /// Something failed that is not the user's doing.
    Internal,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Negative => 1,
            ExitStatus::BadInput => 2,
            ExitStatus::Internal => 3,
        })
    }
}

/// An error caused by what the user gave us, as opposed to an internal failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct BadInput(pub(crate) String);

/// A policy refusal: the CA will not do it, for these reasons (one line each, exit 1).
#[derive(Debug, thiserror::Error)]
#[error("refused: {}", reasons.iter().map(|(code, reason)| format!("[{code}] {reason}")).collect::<Vec<_>>().join("; "))]
pub(crate) struct Refusal {
    /// (code, reason): codes are the CA's own, or the service's in the client mode.
    pub(crate) reasons: Vec<(String, String)>,
}
