//! The inventory over the API: `GET /certificates` (filters), `GET /certificates/{serial}`,
//! and `POST /revoke`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mutual_ca::store::{
    AuditAction, CertificateRecord, Cursor, Lookup, NewAuditEntry, Order, Query as StoreQuery,
    Revocation, RevocationReason, StatusFilter, StoreError, parse_period,
};
use serde::Deserialize;
use time::OffsetDateTime;

use super::body::Body;
use crate::auth::Admin;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    profile: Option<String>,
    status: Option<String>,
    expiring_within: Option<String>,
    san: Option<String>,
    subject: Option<String>,
    sort: Option<String>,
    limit: Option<u32>,
    after: Option<String>,
}

pub(super) async fn list(
    _admin: Admin,
    State(state): State<Arc<AppState>>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::bad_request(
            "bad_query",
            format!(
                "{}; expected profile, status (valid|revoked|expired), expiring_within (e.g. 30d), san, subject, sort (expiry|expiry-desc|newest|subject), limit, after",
                e.body_text()
            ),
        )
    })?;
    let now = OffsetDateTime::now_utc();
    let mut store_query = StoreQuery::new(now);
    store_query.profile = query.profile;
    store_query.status = query
        .status
        .map(|s| {
            s.parse::<StatusFilter>().map_err(|_| {
                ApiError::bad_request(
                    "bad_query",
                    format!("status `{s}`: expected valid, revoked or expired"),
                )
            })
        })
        .transpose()?;
    store_query.expiring_within = query
        .expiring_within
        .map(|p| {
            parse_period(&p).ok_or_else(|| {
                ApiError::bad_request(
                    "bad_query",
                    format!(
                        "expiring_within `{p}`: expected a number and a unit, e.g. 30d, 12h, 2w"
                    ),
                )
            })
        })
        .transpose()?;
    store_query.san = query.san;
    store_query.subject = query.subject;
    if let Some(sort) = query.sort {
        store_query.order = sort
            .parse::<Order>()
            .map_err(|e| ApiError::bad_request("bad_query", format!("sort `{sort}`: {e}")))?;
    }
    if let Some(limit) = query.limit {
        store_query.limit = limit;
    }
    store_query.after = query
        .after
        .map(|c| {
            c.parse::<Cursor>().map_err(|_| {
                ApiError::bad_request(
                    "bad_query",
                    format!("after `{c}`: expected the `next` of a previous page"),
                )
            })
        })
        .transpose()?;
    let page = state.store.list(&store_query).await.map_err(|e| match e {
        StoreError::CursorOrderMismatch { .. } => {
            ApiError::bad_request("bad_query", format!("after: {e}"))
        }
        e => ApiError::internal("listing certificates", &e),
    })?;
    let views: Vec<_> = page.records.iter().map(|r| r.view(now)).collect();
    Ok(Json(serde_json::json!({
        "certificates": views,
        "next": page.next.map(|c| c.to_string()),
    }))
    .into_response())
}

pub(super) async fn show(
    _admin: Admin,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let lookup = lookup(&id)?;
    let record = state
        .store
        .find(&lookup)
        .await
        .map_err(|e| lookup_error(e, &id))?
        .ok_or_else(|| ApiError::not_found(format!("no certificate {id} in the inventory")))?;
    let now = OffsetDateTime::now_utc();
    let mut value = serde_json::to_value(record.view(now))
        .map_err(|e| ApiError::internal("rendering a certificate", &e))?;
    if let Some(object) = value.as_object_mut() {
        object.insert("certificate".to_owned(), record.pem.clone().into());
    }
    Ok(Json(value).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RevokeRequest {
    /// A serial (hex) or a SHA-256 fingerprint.
    certificate: String,
    reason: Option<String>,
    /// RFC 3339; default now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    at: Option<OffsetDateTime>,
    /// RFC 3339: since when the key is known or suspected compromised.
    #[serde(default, with = "time::serde::rfc3339::option")]
    invalid_since: Option<OffsetDateTime>,
}

pub(super) async fn revoke(
    admin: Admin,
    State(state): State<Arc<AppState>>,
    Body(request): Body<RevokeRequest>,
) -> Result<Response, ApiError> {
    let lookup = lookup(&request.certificate)?;
    let reason = match request.reason.as_deref() {
        None => RevocationReason::Unspecified,
        Some(name) => revocation_reason(name)?,
    };
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    let at = request.at.unwrap_or(now);
    if at > now + time::Duration::minutes(5) {
        return Err(ApiError::bad_request(
            "bad_time",
            format!("`at` {at} is in the future; a revocation takes effect when it is recorded"),
        ));
    }
    let revocation = Revocation {
        at,
        reason,
        invalid_since: request.invalid_since,
        by: Some(admin.actor()),
    };
    let record = revoke_certificate(
        &state,
        &admin,
        &lookup,
        &request.certificate,
        &revocation,
        now,
    )
    .await?;
    Ok(Json(record.view(now)).into_response())
}

/// A reason by its RFC 5280 name (`keyCompromise`), in any case.
pub(crate) fn revocation_reason(name: &str) -> Result<RevocationReason, ApiError> {
    RevocationReason::ALL
        .into_iter()
        .find(|r| r.rfc_name().eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            let names: Vec<&str> = RevocationReason::ALL.iter().map(|r| r.rfc_name()).collect();
            ApiError::bad_request(
                "bad_reason",
                format!("reason `{name}`: expected one of {}", names.join(", ")),
            )
        })
}

/// Revokes the certificate `lookup` names (`id` as the caller spelled it), then tells the
/// OCSP responders and the connections' remembered certificates, counts it and audits it:
/// what `POST /api/v1/revoke` and the dashboard's revoke button both do.
pub(crate) async fn revoke_certificate(
    state: &AppState,
    admin: &Admin,
    lookup: &Lookup,
    id: &str,
    revocation: &Revocation,
    now: OffsetDateTime,
) -> Result<CertificateRecord, ApiError> {
    let record = state
        .store
        .revoke(lookup, revocation)
        .await
        .map_err(|e| match e {
            StoreError::NotFound { .. } => {
                ApiError::not_found(format!("no certificate {id} in the inventory"))
            }
            StoreError::AlreadyRevoked { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "already_revoked",
                crate::error::with_causes(&e),
            ),
            other => lookup_error(other, id),
        })?;
    for responder in state.responders.current().iter() {
        responder.revoked();
    }
    state.revocations.revoked();
    let reason = revocation.reason;
    crate::metrics::revoked(reason.rfc_name());
    crate::api::issue::audit(
        state,
        NewAuditEntry {
            at: now,
            actor: admin.actor(),
            action: AuditAction::Revoke,
            serial: Some(record.serial.clone()),
            subject: Some(record.subject.clone()),
            detail: format!("reason {}", reason.rfc_name()),
        },
    )
    .await;
    Ok(record)
}

fn lookup(id: &str) -> Result<Lookup, ApiError> {
    id.parse::<Lookup>().map_err(|e| {
        ApiError::bad_request(
            "bad_certificate_id",
            format!(
                "{}; expected a serial in hex or a SHA-256 fingerprint",
                crate::error::with_causes(&e)
            ),
        )
    })
}

fn lookup_error(error: StoreError, id: &str) -> ApiError {
    match error {
        StoreError::AmbiguousSerial { .. } => ApiError::new(
            StatusCode::CONFLICT,
            "ambiguous_serial",
            format!(
                "{}; name it by its SHA-256 fingerprint",
                crate::error::with_causes(&error)
            ),
        ),
        other => {
            tracing::debug!(id, "lookup failed");
            ApiError::internal("looking a certificate up", &other)
        }
    }
}
