//! `POST /enroll`: a device without a certificate yet trades a one-time enrollment token
//! and a CSR for its first certificate. No client certificate is needed; the token is the
//! credential.
//!
//! Everything that can be checked without spending the token is checked first — the token
//! (known, right secret, unused, unexpired), the CSR (signature, key), the identity (its CN
//! is the token's subject, its SANs name nothing else) and the profile's plan — so a
//! mistake does not burn it. A server profile's certificate names the subject as its SAN
//! when the CSR names none (clients find servers by SAN). Then one guarded update spends it (of racing enrollments with
//! the same token exactly one gets past it), the certificate is issued under the token's
//! profile, and the token notes the serial. Should issuing fail after the token was spent,
//! the token is given back: a token buys one certificate, not one attempt.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mutual_ca::csr::{CsrRequest, request_from_csr};
use mutual_ca::home::IssuingRole;
use mutual_ca::issuance::{SubjectAltName, plan};
use mutual_ca::store::AuditAction;
use mutual_ca::store::tokens::{EnrollmentToken, TokenError};
use serde::Deserialize;
use time::OffsetDateTime;

use super::body::Body;
use super::issue::{csr_der, issued_body, note, refused, sign_csr};
use crate::error::{ApiError, Detail};
use crate::state::AppState;

const EXPECTED_TOKEN: &str =
    "an unused, unexpired enrollment token as `mutual token create` printed it (mtk_<id>_<secret>)";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EnrollRequest {
    token: String,
    /// PEM `CERTIFICATE REQUEST` (or base64 DER), its CN the token's subject.
    csr: String,
}

pub(super) async fn enroll(
    State(state): State<Arc<AppState>>,
    Body(request): Body<EnrollRequest>,
) -> Result<Response, ApiError> {
    let now = OffsetDateTime::now_utc();
    let token: EnrollmentToken = request.token.parse().map_err(|e| token_refused(&e))?;
    let grant = state
        .store
        .check_token(&token, now)
        .await
        .map_err(|e| token_refused(&e))?;
    let actor = format!("token:{}", token.id());
    let der = csr_der(&request.csr)?;
    let CsrRequest {
        request: mut wanted,
        public_key,
        ignored,
    } = request_from_csr(&der, grant.profile, None, Some(actor.clone()))
        .map_err(|refusals| refused(&refusals))?;
    if wanted.common_name != grant.subject {
        return Err(token_refused(&TokenError::SubjectMismatch {
            id: grant.id,
            expected: grant.subject,
            found: wanted.common_name.clone(),
        }));
    }
    let foreign: Vec<String> = wanted
        .sans
        .iter()
        .filter(|san| !names(san, &grant.subject))
        .map(ToString::to_string)
        .collect();
    if !foreign.is_empty() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "token_san_mismatch",
            format!(
                "enrollment token {} is for `{}` only; the CSR also asks for {}",
                grant.id,
                grant.subject,
                foreign.join(", ")
            ),
        )
        .expected(format!(
            "a CSR whose subject alternative names, if any, are `{}` itself",
            grant.subject
        )));
    }
    let profile = state.profiles.get(grant.profile);
    if wanted.sans.is_empty() && profile.requires_host_name() {
        // A server certificate is found by its SAN, not its CN: the name the token grants
        // is the one it gets (a CSR naming nothing else asks for nothing else).
        wanted.sans.push(match grant.subject.parse::<IpAddr>() {
            Ok(ip) => SubjectAltName::Ip(ip),
            Err(_) => SubjectAltName::Dns(grant.subject.clone()),
        });
    }
    let ca = state.issuing_ca(IssuingRole::for_profile(grant.profile));
    plan(&wanted, profile, ca, now).map_err(|r| refused(&r))?;

    let claimed = state
        .store
        .redeem_token(&token, &grant.subject, now)
        .await
        .map_err(|e| token_refused(&e))?;
    let audit = note(
        actor,
        AuditAction::Enroll,
        format!("profile {}, token {}", grant.profile, claimed.id),
    );
    let issued = match sign_csr(&state, grant.profile, &wanted, &public_key, "enroll", audit).await
    {
        Ok(issued) => issued,
        Err(error) => {
            if let Some(used_at) = claimed.used_at
                && let Err(e) = state.store.release_token(&claimed.id, used_at).await
            {
                tracing::error!(
                    token = %claimed.id,
                    error = %crate::error::with_causes(&e),
                    "giving back a token whose certificate could not be issued failed; it stays spent"
                );
            }
            return Err(error);
        }
    };
    if let Err(e) = state
        .store
        .complete_token(&claimed.id, &issued.record.serial)
        .await
    {
        // The certificate is recorded with `token:<id>` as its requester; the audit
        // trail has the serial too.
        tracing::error!(
            token = %claimed.id,
            serial = %issued.record.serial,
            error = %crate::error::with_causes(&e),
            "noting the serial on the spent token failed"
        );
    }
    tracing::info!(token = %claimed.id, serial = %issued.record.serial, "enrolled");
    let mut body = issued_body(&issued);
    body["ignored"] = ignored.into();
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Whether a requested SAN is the token's subject itself (DNS names compared without case,
/// IP addresses by value).
fn names(san: &SubjectAltName, subject: &str) -> bool {
    match san {
        SubjectAltName::Dns(name) => name.eq_ignore_ascii_case(subject),
        SubjectAltName::Ip(ip) => subject.parse::<IpAddr>().is_ok_and(|s| s == *ip),
        SubjectAltName::Email(email) => email == subject,
        SubjectAltName::Uri(uri) => uri == subject,
    }
}

/// A token that cannot be used, as the caller sees it. Unknown ids and wrong secrets get
/// the same answer, so the API does not say which ids exist; the log tells them apart.
fn token_refused(error: &TokenError) -> ApiError {
    let (status, code, message) = match error {
        TokenError::Malformed { .. } => {
            (StatusCode::UNAUTHORIZED, "token_invalid", error.to_string())
        }
        TokenError::Unknown { .. } | TokenError::WrongSecret { .. } => (
            StatusCode::UNAUTHORIZED,
            "token_invalid",
            "the enrollment token is not valid: no token has this id and secret".to_owned(),
        ),
        TokenError::Used { .. } => (StatusCode::CONFLICT, "token_used", error.to_string()),
        TokenError::Expired { .. } => (StatusCode::GONE, "token_expired", error.to_string()),
        TokenError::SubjectMismatch { .. } => (
            StatusCode::FORBIDDEN,
            "token_subject_mismatch",
            format!("{error}; the CSR's common name must be the token's subject"),
        ),
        other => return ApiError::internal("redeeming an enrollment token", other),
    };
    tracing::info!(code = error.code(), reason = %error, "enrollment refused");
    ApiError::new(status, code, message)
        .expected(EXPECTED_TOKEN)
        .with_details(match error {
            // The finer code would tell a guesser which ids exist.
            TokenError::Unknown { .. } | TokenError::WrongSecret { .. } => Vec::new(),
            other => vec![Detail {
                code: other.code().to_owned(),
                message: other.to_string(),
            }],
        })
}
