//! `GET /api/v1/ca` and `GET /api/v1/crl`: public, as relying parties need them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use mutual_ca::home::{Authority, IssuingRole};
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

pub(super) async fn chain(State(state): State<Arc<AppState>>) -> Response {
    let pem = |authority: Authority| {
        state
            .certificates
            .iter()
            .find(|c| c.authority == authority)
            .map(|c| c.pem.clone())
            .unwrap_or_default()
    };
    Json(serde_json::json!({
        "root": pem(Authority::Root),
        "server_ca": pem(Authority::Issuing(IssuingRole::Server)),
        "client_ca": pem(Authority::Issuing(IssuingRole::Client)),
        "chain": state.chain_pem(),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CrlQuery {
    issuer: Option<String>,
    format: Option<String>,
}

pub(super) async fn crl(
    State(state): State<Arc<AppState>>,
    query: Result<Query<CrlQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return ApiError::bad_request(
            "bad_query",
            "expected ?issuer=client|server|root&format=der|pem",
        )
        .into_response();
    };
    let authority = match query.issuer.as_deref().unwrap_or("client") {
        "client" | "client-ca" => Authority::Issuing(IssuingRole::Client),
        "server" | "server-ca" => Authority::Issuing(IssuingRole::Server),
        "root" => Authority::Root,
        other => {
            return ApiError::bad_request(
                "bad_query",
                format!("issuer `{other}`: expected client, server or root"),
            )
            .into_response();
        }
    };
    let pem = match query.format.as_deref().unwrap_or("der") {
        "der" => false,
        "pem" => true,
        other => {
            return ApiError::bad_request(
                "bad_query",
                format!("format `{other}`: expected der or pem"),
            )
            .into_response();
        }
    };
    crate::public::crl_response(&state, authority, pem).await
}
