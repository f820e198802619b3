//! `POST /sign` (a CSR under a profile) and `POST /issue` (the service generates the key
//! and returns it with the certificate, as PKCS#12 or PEM). Admin only. A certificate is
//! returned only once the store has durably recorded it and its audit entry, in one
//! transaction.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use mutual_ca::csr::request_from_csr;
use mutual_ca::home::IssuingRole;
use mutual_ca::issuance::{IssueError, Issued, Refusal, SubjectAltName, issue as issue_plan, plan};
use mutual_ca::key::KeyType;
use mutual_ca::passphrase::Passphrase;
use mutual_ca::pkcs12::{Pkcs12Flavour, export};
use mutual_ca::profile::ProfileKind;
use mutual_ca::store::{AuditAction, AuditNote, NewAuditEntry};
use serde::Deserialize;
use time::OffsetDateTime;

use super::body::Body;
use crate::auth::Admin;
use crate::error::{ApiError, Detail};
use crate::issuer::{IssueFailure, Order, issue_with_new_key, random_secret};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignRequest {
    /// PEM `CERTIFICATE REQUEST` (or base64 DER).
    csr: String,
    profile: String,
    days: Option<u32>,
}

pub(super) async fn sign(
    admin: Admin,
    State(state): State<Arc<AppState>>,
    Body(request): Body<SignRequest>,
) -> Result<Response, ApiError> {
    let profile = profile(&request.profile)?;
    let der = csr_der(&request.csr)?;
    let actor = admin.actor();
    let from_csr = request_from_csr(&der, profile, request.days, Some(actor.clone()))
        .map_err(|refusals| refused(&refusals))?;
    let issued = sign_csr(
        &state,
        profile,
        &from_csr.request,
        &from_csr.public_key,
        "sign",
        note(actor, AuditAction::Sign, format!("profile {profile}")),
    )
    .await?;
    let mut body = issued_body(&issued);
    body["ignored"] = from_csr.ignored.into();
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Plans, signs and records a CSR's request with the profile's issuing CA, `audit` in the
/// certificate's transaction; the time it took goes to the issuance histogram under
/// `endpoint`.
pub(crate) async fn sign_csr(
    state: &AppState,
    profile: ProfileKind,
    request: &mutual_ca::issuance::Request,
    public_key: &rcgen::SubjectPublicKeyInfo,
    endpoint: &'static str,
    audit: AuditNote,
) -> Result<Issued, ApiError> {
    let started = std::time::Instant::now();
    let ca = state.issuing_ca(IssuingRole::for_profile(profile));
    let now = OffsetDateTime::now_utc();
    let plan = plan(request, state.profiles.get(profile), ca, now)
        .map_err(|r| refused(&r))?
        .audited(audit);
    let issued = issue_plan(plan, public_key, ca, &state.store, now)
        .await
        .map_err(|e| issue_failed(&e))?;
    crate::metrics::issued(endpoint, started.elapsed());
    Ok(issued)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueRequest {
    profile: String,
    /// The subject's common name: a host for `server`, a user or device for `client`.
    name: String,
    #[serde(default)]
    dns: Vec<String>,
    #[serde(default)]
    ip: Vec<IpAddr>,
    #[serde(default)]
    email: Vec<String>,
    #[serde(default)]
    uri: Vec<String>,
    days: Option<u32>,
    #[serde(default = "default_key_type")]
    key_type: String,
    #[serde(default)]
    format: Format,
    /// The PKCS#12 password; made up and returned when absent.
    password: Option<String>,
    #[serde(default)]
    legacy_pkcs12: bool,
}

fn default_key_type() -> String {
    KeyType::EcP256.as_str().to_owned()
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Format {
    #[default]
    Pkcs12,
    Pem,
}

pub(super) async fn issue(
    admin: Admin,
    State(state): State<Arc<AppState>>,
    Body(request): Body<IssueRequest>,
) -> Result<Response, ApiError> {
    let body = issue_for(&admin, &state, request).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /issue`'s work, shared with the dashboard's issue form: a new key, the
/// certificate, and the body the API answers with (PKCS#12 and its password, or PEM).
pub(crate) async fn issue_for(
    admin: &Admin,
    state: &AppState,
    request: IssueRequest,
) -> Result<serde_json::Value, ApiError> {
    let started = std::time::Instant::now();
    let profile = profile(&request.profile)?;
    let key_type: KeyType = request
        .key_type
        .parse()
        .map_err(|e| ApiError::bad_request("bad_key_type", format!("key_type: {e}")))?;
    let password = match (&request.password, request.format) {
        (Some(p), _) if p.is_empty() => {
            return Err(ApiError::bad_request(
                "bad_password",
                "password is empty; omit it to have one made up",
            ));
        }
        (Some(p), _) => Some(Passphrase::new(p.clone())),
        (None, Format::Pkcs12) => Some(Passphrase::new(
            random_secret(18)
                .ok_or_else(|| ApiError::internal("making up a password", &std::fmt::Error))?
                .to_string(),
        )),
        (None, Format::Pem) => None,
    };
    // Checked before anything is issued: a PKCS#12 friendly name is the subject's name.
    if request.format == Format::Pkcs12 {
        mutual_ca::pkcs12::check_friendly_name(&request.name)
            .map_err(|e| ApiError::bad_request("bad_name", e.to_string()))?;
    }
    let mut sans: Vec<SubjectAltName> = request.dns.into_iter().map(SubjectAltName::Dns).collect();
    sans.extend(request.ip.into_iter().map(SubjectAltName::Ip));
    sans.extend(request.email.into_iter().map(SubjectAltName::Email));
    sans.extend(request.uri.into_iter().map(SubjectAltName::Uri));
    let actor = admin.actor();
    let ca = state.issuing_ca(IssuingRole::for_profile(profile));
    let now = OffsetDateTime::now_utc();
    let made = issue_with_new_key(
        Order {
            profile,
            common_name: request.name.clone(),
            sans,
            days: request.days,
            key_type,
            requester: actor.clone(),
            ca,
            audit: Some(note(
                actor,
                AuditAction::Issue,
                format!("profile {profile}"),
            )),
        },
        &state.profiles,
        &state.store,
        now,
    )
    .await
    .map_err(|failure| match failure {
        IssueFailure::Refused(refusals) => refused(&refusals),
        IssueFailure::Failed(e) => issue_failed(&e),
        IssueFailure::Key(e) => ApiError::internal("generating the key", &e),
    })?;
    crate::metrics::issued("issue", started.elapsed());
    let key_pem = made
        .key_pem()
        .map_err(|e| ApiError::internal("encoding the key", &e))?;
    let mut body = issued_body(&made.issued);
    match password {
        Some(password) => {
            let flavour = if request.legacy_pkcs12 {
                Pkcs12Flavour::Legacy
            } else {
                Pkcs12Flavour::Modern
            };
            let chain = vec![
                ca.certificate_pem.clone(),
                state.certificates[0].pem.clone(),
            ];
            let certificate = made.issued.certificate_pem.clone();
            let name = request.name.clone();
            let generated = request.password.is_none();
            // 600,000 PBKDF2 rounds twice: off the async workers.
            let (der, password) = tokio::task::spawn_blocking(move || {
                export(&key_pem, &certificate, &chain, &name, &password, flavour)
                    .map(|der| (der, password))
            })
            .await
            .map_err(|e| ApiError::internal("building the PKCS#12", &e))?
            .map_err(|e| ApiError::internal("building the PKCS#12", &e))?;
            body["pkcs12"] = base64::engine::general_purpose::STANDARD.encode(der).into();
            body["pkcs12_flavour"] = flavour.as_str().into();
            if generated {
                body["password"] = password.expose_secret().into();
            }
        }
        None => body["key"] = key_pem.as_str().into(),
    }
    Ok(body)
}

/// The certificate's record, PEM and chain: what every issuing call returns.
pub(crate) fn issued_body(issued: &Issued) -> serde_json::Value {
    let now = OffsetDateTime::now_utc();
    let mut body = serde_json::to_value(issued.record.view(now)).unwrap_or_default();
    if let Some(object) = body.as_object_mut() {
        object.insert(
            "certificate".to_owned(),
            issued.certificate_pem.clone().into(),
        );
        object.insert("chain".to_owned(), issued.chain_pem.clone().into());
    }
    body
}

/// The audit entry of an issuance: the store gives it the certificate's serial, subject and
/// time, and commits it with the certificate.
pub(crate) fn note(actor: String, action: AuditAction, detail: String) -> AuditNote {
    AuditNote {
        actor,
        action,
        detail,
    }
}

/// Appends to the audit trail after a change that is not an issuance (a revocation, a
/// token). The change is already committed and is answered even if this fails; the failure
/// is logged loudly.
pub(crate) async fn audit(state: &AppState, entry: NewAuditEntry) {
    if let Err(e) = state.store.audit(&entry).await {
        tracing::error!(
            error = %crate::error::with_causes(&e),
            action = %entry.action,
            serial = entry.serial.as_deref().unwrap_or(""),
            "writing the audit trail failed"
        );
    }
}

pub(crate) fn profile(name: &str) -> Result<ProfileKind, ApiError> {
    let kind: ProfileKind = name.parse().map_err(|_| {
        ApiError::bad_request(
            "unknown_profile",
            format!("profile `{name}`: expected server, client, server-client or admin"),
        )
    })?;
    if kind == ProfileKind::OcspSigner {
        return Err(ApiError::bad_request(
            "unknown_profile",
            "the ocsp-signer profile is for the service's own responders; expected server, client, server-client or admin",
        ));
    }
    Ok(kind)
}

pub(crate) fn csr_der(text: &str) -> Result<Vec<u8>, ApiError> {
    let bad = |found: String| {
        ApiError::bad_request(
            "bad_csr",
            format!("csr: expected a PEM CERTIFICATE REQUEST (or base64 DER); {found}"),
        )
    };
    if mutual_x509::pem::looks_like_pem(text.as_bytes()) {
        let blocks = mutual_x509::pem::parse(text.as_bytes()).map_err(|e| bad(e.to_string()))?;
        return blocks
            .into_iter()
            .find(|b| b.label == "CERTIFICATE REQUEST" || b.label == "NEW CERTIFICATE REQUEST")
            .map(|b| b.der)
            .ok_or_else(|| bad("found no CERTIFICATE REQUEST block".to_owned()));
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| bad(format!("found neither PEM nor base64 ({e})")))
}

pub(crate) fn refused(refusals: &[Refusal]) -> ApiError {
    let details: Vec<Detail> = refusals
        .iter()
        .map(|r| Detail {
            code: r.code().to_owned(),
            message: r.to_string(),
        })
        .collect();
    let summary: Vec<String> = refusals.iter().map(ToString::to_string).collect();
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "refused",
        format!("nothing was issued: {}", summary.join("; ")),
    )
    .with_details(details)
}

pub(crate) fn issue_failed(error: &IssueError) -> ApiError {
    match error {
        IssueError::Linted { lints } => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "lint_refused",
            "the CA's own lint gate refused the certificate; nothing was signed or recorded",
        )
        .with_details(
            lints
                .iter()
                .map(|l| Detail {
                    code: "lint".to_owned(),
                    message: l.to_string(),
                })
                .collect(),
        ),
        e if e.is_out_of_space() => ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "out_of_space",
            "the certificate store's disk is full; nothing was issued",
        ),
        other => ApiError::internal("issuing", other),
    }
}
