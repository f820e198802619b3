//! `POST /tokens`: an administrator makes a one-time enrollment token, as `mutual token
//! create` does on the CA's own machine. The token is in this answer and nowhere else: the
//! store keeps the hash of its secret, the log and the audit trail only its id.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mutual_ca::store::tokens::{EnrollmentToken, NewToken, TokenError, TokenGrant, human};
use mutual_ca::store::{AuditAction, NewAuditEntry, parse_period};
use serde::Deserialize;
use time::OffsetDateTime;

use super::body::Body;
use crate::auth::Admin;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    profile: String,
    /// The common name the enrolling device's CSR must carry.
    subject: String,
    /// `15m`, `1h`, `7d`...; default an hour.
    ttl: Option<String>,
}

/// A token's life when none is asked for.
pub(crate) const DEFAULT_TTL: &str = "1h";

pub(super) async fn create(
    admin: Admin,
    State(state): State<Arc<AppState>>,
    Body(request): Body<TokenRequest>,
) -> Result<Response, ApiError> {
    let body = create_for(&admin, &state, request).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /tokens`' work, shared with the dashboard's token form: the token, recorded
/// (its hash) and audited, and the body the API answers with.
pub(crate) async fn create_for(
    admin: &Admin,
    state: &AppState,
    request: TokenRequest,
) -> Result<serde_json::Value, ApiError> {
    let ttl_text = request.ttl.as_deref().unwrap_or(DEFAULT_TTL);
    let ttl = parse_period(ttl_text).ok_or_else(|| {
        ApiError::bad_request(
            "bad_ttl",
            format!("ttl `{ttl_text}`: expected a number and a unit, e.g. 15m, 1h, 7d"),
        )
    })?;
    let grant = TokenGrant::new(&state.profiles, &request.profile, &request.subject, ttl)
        .map_err(|e| grant_refused(&e))?;
    let token = EnrollmentToken::generate()
        .map_err(|e| ApiError::internal("making an enrollment token", &e))?;
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    let actor = admin.actor();
    let record = state
        .store
        .create_token(&NewToken::new(&token, &grant, &actor, now))
        .await
        .map_err(|e| ApiError::internal("recording an enrollment token", &e))?;
    crate::api::issue::audit(
        state,
        NewAuditEntry {
            at: now,
            actor,
            action: AuditAction::Token,
            serial: None,
            subject: Some(record.subject.clone()),
            detail: format!(
                "token {} for profile {}, valid {}",
                record.id,
                record.profile,
                human(grant.ttl)
            ),
        },
    )
    .await;
    let body = serde_json::json!({
        "token": token.expose().as_str(),
        "id": record.id,
        "profile": record.profile.as_str(),
        "subject": record.subject,
        "expires_at": rfc3339(record.expires_at),
    });
    Ok(body)
}

fn grant_refused(error: &TokenError) -> ApiError {
    if error.is_user_error() {
        ApiError::bad_request(error.code(), error.to_string())
    } else {
        ApiError::internal("checking a token request", error)
    }
}

pub(crate) fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time.to_string())
}
