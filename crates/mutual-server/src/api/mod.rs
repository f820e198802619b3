//! The REST API under `/api/v1`: JSON in and out, administrative calls authenticated with
//! an `admin` client certificate ([`crate::auth::Admin`]), renewal with the caller's own
//! certificate ([`crate::auth::Holder`]), enrollment with a one-time token.

mod body;
mod ca;
pub(crate) mod certificates;
mod enroll;
pub(crate) mod issue;
mod renew;
pub(crate) mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/openapi.json", get(crate::openapi::document))
        .route(
            "/api/v1/health",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/api/v1/metrics", get(crate::metrics::scrape))
        .route("/api/v1/ca", get(ca::chain))
        .route("/api/v1/crl", get(ca::crl))
        .route("/api/v1/sign", post(issue::sign))
        .route("/api/v1/issue", post(issue::issue))
        .route("/api/v1/revoke", post(certificates::revoke))
        .route("/api/v1/certificates", get(certificates::list))
        .route("/api/v1/certificates/{serial}", get(certificates::show))
        .route("/api/v1/tokens", post(tokens::create))
        .route("/api/v1/enroll", post(enroll::enroll))
        .route("/api/v1/renew", post(renew::renew))
}
