//! `POST /renew`: the holder of a current client certificate gets a new one for the same
//! identity, as step-ca's renew and rekey do. The caller is authenticated by that
//! certificate over mTLS ([`Holder`]: it verifies as a client certificate of this CA, is in
//! the inventory, unexpired and unrevoked); the new certificate copies its subject CN, SANs
//! and profile — never names from a CSR — with the profile's default validity.
//!
//! `{}` (or no body) certifies the same key again; `{"csr": PEM}` certifies the CSR's key
//! instead, once the CSR proves possession of it.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mutual_ca::csr::request_from_csr;
use mutual_ca::issuance::{Request, SubjectAltName};
use mutual_ca::key::KeyType;
use mutual_ca::profile::ProfileKind;
use mutual_ca::store::AuditAction;
use mutual_x509::{ExtensionValue, GeneralName, PublicKeyInfo};
use serde::Deserialize;
use time::OffsetDateTime;
use x509_parser::prelude::FromDer;

use super::issue::{csr_der, issued_body, note, refused, sign_csr};
use crate::auth::Holder;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RenewRequest {
    /// PEM `CERTIFICATE REQUEST` for a new key; its names are not used.
    csr: Option<String>,
}

pub(super) async fn renew(
    holder: Holder,
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request = parse_body(body)?;
    let current = &holder.record;
    let profile = renewable_profile(&current.profile, &current.serial)?;
    let now = OffsetDateTime::now_utc();
    let der = crate::ocsp::pem_der(&current.pem).ok_or_else(|| {
        ApiError::internal(
            "reading the current certificate from the inventory",
            &std::fmt::Error,
        )
    })?;
    let decoded = mutual_x509::Certificate::from_der(&der, now)
        .map_err(|e| ApiError::internal("decoding the current certificate", &e))?;
    let common_name = decoded
        .subject
        .values("CN")
        .next()
        .unwrap_or_default()
        .to_owned();
    let sans = identity_sans(&decoded)?;
    let actor = holder.actor();

    let (public_key, key_type, ignored) = match &request.csr {
        None => (same_key(&der)?, key_type(&decoded.public_key)?, Vec::new()),
        Some(csr) => {
            let from_csr = request_from_csr(&csr_der(csr)?, profile, None, None)
                .map_err(|refusals| refused(&refusals))?;
            let mut ignored = from_csr.ignored;
            if from_csr.request.common_name != common_name || from_csr.request.sans != sans {
                ignored.push(
                    "the CSR's subject and names (a renewal keeps the current certificate's)"
                        .to_owned(),
                );
            }
            (from_csr.public_key, from_csr.request.key_type, ignored)
        }
    };
    let renewal = Request {
        profile,
        common_name,
        sans,
        days: None,
        key_type,
        requester: Some(actor.clone()),
    };
    let audit = note(
        actor,
        AuditAction::Renew,
        format!(
            "profile {profile}, renews {}{}",
            current.serial,
            if request.csr.is_some() {
                " with a new key"
            } else {
                ""
            }
        ),
    );
    let issued = sign_csr(&state, profile, &renewal, &public_key, "renew", audit).await?;
    let mut body = issued_body(&issued);
    body["renews"] = current.serial.clone().into();
    body["ignored"] = ignored.into();
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// An empty body is `{}`: `curl -X POST` with nothing else renews the same key.
fn parse_body(body: Result<Bytes, BytesRejection>) -> Result<RenewRequest, ApiError> {
    let bytes = body.map_err(|rejection| {
        let status = rejection.status();
        let error = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "body_too_large"
        } else {
            "bad_request_body"
        };
        ApiError::new(status, error, rejection.body_text())
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(RenewRequest::default());
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            "bad_json",
            format!("expected {{}} or {{\"csr\": PEM}}; {e}"),
        )
    })
}

/// The profile of the current certificate, if it is one a holder may renew.
fn renewable_profile(name: &str, serial: &str) -> Result<ProfileKind, ApiError> {
    match name.parse::<ProfileKind>() {
        Ok(kind @ (ProfileKind::Client | ProfileKind::ServerClient | ProfileKind::Admin)) => {
            Ok(kind)
        }
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_renewable",
            format!(
                "certificate {serial} is from the `{name}` profile; renewal over mTLS is for client certificates (client, server-client, admin)"
            ),
        )),
    }
}

/// The current certificate's SANs, as a new request names them.
fn identity_sans(certificate: &mutual_x509::Certificate) -> Result<Vec<SubjectAltName>, ApiError> {
    let mut sans = Vec::new();
    let names = certificate
        .extensions
        .iter()
        .filter_map(|e| match &e.value {
            ExtensionValue::SubjectAltName { names } => Some(names),
            _ => None,
        });
    for name in names.flatten() {
        sans.push(match name {
            GeneralName::Dns(v) => SubjectAltName::Dns(v.clone()),
            GeneralName::Email(v) => SubjectAltName::Email(v.clone()),
            GeneralName::Uri(v) => SubjectAltName::Uri(v.clone()),
            GeneralName::Ip(v) => SubjectAltName::Ip(v.parse().map_err(|_| {
                ApiError::internal("reading the current certificate's IP address", &std::fmt::Error)
            })?),
            other => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "not_renewable",
                    format!(
                        "the current certificate names {}, which this CA does not issue; ask an administrator for a new certificate",
                        other.display()
                    ),
                ));
            }
        });
    }
    Ok(sans)
}

/// The current certificate's own key, to certify again.
fn same_key(der: &[u8]) -> Result<rcgen::SubjectPublicKeyInfo, ApiError> {
    let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|e| ApiError::internal("decoding the current certificate", &e))?;
    rcgen::SubjectPublicKeyInfo::from_der(parsed.tbs_certificate.subject_pki.raw)
        .map_err(|e| ApiError::internal("reading the current certificate's key", &e))
}

/// The key type of a key the CA certified before.
fn key_type(key: &PublicKeyInfo) -> Result<KeyType, ApiError> {
    let found = match (key.algorithm.as_str(), key.curve.as_deref(), key.bits) {
        ("EC", Some("P-256"), _) => Some(KeyType::EcP256),
        ("EC", Some("P-384"), _) => Some(KeyType::EcP384),
        ("Ed25519", _, _) => Some(KeyType::Ed25519),
        ("RSA", _, Some(2048)) => Some(KeyType::Rsa2048),
        ("RSA", _, Some(3072)) => Some(KeyType::Rsa3072),
        ("RSA", _, Some(4096)) => Some(KeyType::Rsa4096),
        _ => None,
    };
    found.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "key_type_not_allowed",
            format!(
                "the current certificate's key ({} {}) is not one this CA certifies now; renew with a new key: {{\"csr\": PEM}}",
                key.algorithm,
                key.curve
                    .clone()
                    .or_else(|| key.bits.map(|b| format!("{b} bits")))
                    .unwrap_or_default()
            ),
        )
    })
}
