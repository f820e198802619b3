//! Errors: [`ServeError`] stops the service from starting; [`ApiError`] is one request's
//! answer — a status code and a JSON body that says what was expected and what was found.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("setting up the CA in `{}`", home.display())]
    Ca {
        home: PathBuf,
        #[source]
        source: Box<mutual_ca::error::CaError>,
    },
    #[error("opening the certificate store")]
    Store {
        #[source]
        source: Box<mutual_ca::store::StoreError>,
    },
    #[error("issuing the service's {what}")]
    Issue {
        what: &'static str,
        #[source]
        source: Box<mutual_ca::issuance::IssueError>,
    },
    #[error("issuing the service's {what}: refused: {reasons}")]
    Refused { what: &'static str, reasons: String },
    #[error("`{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {detail}")]
    Setup { what: &'static str, detail: String },
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the TLS configuration")]
    Tls {
        #[source]
        source: rustls::Error,
    },
}

impl ServeError {
    /// True when the user can fix it (a busy port, a bad home, a wrong passphrase) rather
    /// than a fault of the program.
    pub fn is_user_error(&self) -> bool {
        match self {
            ServeError::Ca { source, .. } => source.is_user_error(),
            ServeError::Bind { .. } | ServeError::Io { .. } | ServeError::Setup { .. } => true,
            ServeError::Store { .. }
            | ServeError::Issue { .. }
            | ServeError::Refused { .. }
            | ServeError::Tls { .. } => false,
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorBody {
    /// Stable, snake_case: what scripts match on.
    pub(crate) error: &'static str,
    pub(crate) message: String,
    /// What the call needed, when the caller can supply it (e.g. which certificate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expected: Option<String>,
    /// Finer reasons: refusal or diagnosis codes with their messages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) details: Vec<Detail>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Detail {
    pub(crate) code: String,
    pub(crate) message: String,
}

/// One request's failure.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) body: ErrorBody,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error,
                message: message.into(),
                expected: None,
                details: Vec::new(),
            },
        }
    }

    pub(crate) fn bad_request(error: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A fault on our side. The cause is logged, not sent: it may name files. When the
    /// certificate store cannot be reached (PostgreSQL down or restarting), 503
    /// `store_unavailable`: the request failed closed, nothing was issued or changed, and
    /// the same request can be sent again.
    pub(crate) fn internal(what: &str, cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(what, cause = %with_causes(cause), "request failed");
        let mut chain = Some(cause);
        while let Some(error) = chain {
            if error
                .downcast_ref::<mutual_ca::store::StoreError>()
                .is_some_and(mutual_ca::store::StoreError::is_unavailable)
            {
                return Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    format!(
                        "{what} failed: the certificate store cannot be reached; nothing was \
                         issued or changed, try again shortly"
                    ),
                );
            }
            chain = error.source();
        }
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            format!("{what} failed on the server; it has been logged"),
        )
    }

    pub(crate) fn expected(mut self, expected: impl Into<String>) -> Self {
        self.body.expected = Some(expected.into());
        self
    }

    pub(crate) fn with_details(mut self, details: Vec<Detail>) -> Self {
        self.body.details = details;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// An error and its causes on one line.
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause = cause.to_string();
        if !text.ends_with(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = error_source(source);
    }
    text
}

fn error_source<'a>(
    error: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    error.and_then(std::error::Error::source)
}
