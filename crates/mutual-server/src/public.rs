//! What anyone may fetch, on both listeners: OCSP (RFC 6960, POST and GET), CRLs and CA
//! certificates at the URLs issued certificates name, and a health check.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use mutual_ca::home::Authority;
use mutual_ca::ocsp::Responder;

use crate::crl_cache::CrlUnavailable;
use crate::error::ApiError;
use crate::ocsp::MAX_AGE_SECONDS;
use crate::state::AppState;

/// The DER of the nonce extension's OID (1.3.6.1.5.5.7.48.1.2).
const NONCE_OID: &[u8] = &[
    0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02,
];
/// An OCSP request in a GET path is small (RFC 5019 2.1.1: under 255 bytes encoded);
/// anything far beyond is not one.
const MAX_GET_REQUEST: usize = 4096;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/health", get(health))
        .route("/ocsp", post(ocsp_post))
        .route("/ocsp/{*request}", get(ocsp_get))
        .route("/ca/{file}", get(ca_certificate))
        .route("/crl/{file}", get(crl))
        .route("/metrics", get(crate::metrics::scrape))
}

async fn health() -> Response {
    axum::Json(serde_json::json!({ "status": "ok" })).into_response()
}

async fn ocsp_post(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Some clients omit the type; a wrong one is a client that is not speaking OCSP.
    if !content_type.is_empty() && !content_type.starts_with("application/ocsp-request") {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("POST /ocsp takes application/ocsp-request; found `{content_type}`"),
        )
        .into_response();
    }
    answer(&state, &body).await
}

async fn ocsp_get(State(state): State<Arc<AppState>>, Path(encoded): Path<String>) -> Response {
    if encoded.len() > MAX_GET_REQUEST {
        return answer(&state, &[]).await;
    }
    let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    let request = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&compact))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&compact))
        .unwrap_or_default();
    // Undecodable base64 is answered like any malformed request: with malformedRequest.
    answer(&state, &request).await
}

async fn answer(state: &AppState, request: &[u8]) -> Response {
    let started = std::time::Instant::now();
    let responders = state.responders.current();
    let der = Responder::respond_any(
        &responders,
        request,
        &state.store,
        time::OffsetDateTime::now_utc(),
    )
    .await;
    crate::metrics::ocsp_answered(started.elapsed());
    let has_nonce = request.windows(NONCE_OID.len()).any(|w| w == NONCE_OID);
    // An answer with a nonce is for one request only; one without comes from the cache
    // and may be cached downstream for less than the responder's refresh margin, so
    // never past its nextUpdate.
    let cache_control = if has_nonce {
        HeaderValue::from_static("no-store")
    } else {
        HeaderValue::from_str(&format!(
            "max-age={MAX_AGE_SECONDS}, public, no-transform, must-revalidate"
        ))
        .unwrap_or(HeaderValue::from_static("no-store"))
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/ocsp-response"),
            ),
            (header::CACHE_CONTROL, cache_control),
        ],
        der,
    )
        .into_response()
}

/// `/ca/<stem>.crt` (DER, as AIA caIssuers points at), `/ca/<stem>.pem`, `/ca/chain.pem`.
async fn ca_certificate(State(state): State<Arc<AppState>>, Path(file): Path<String>) -> Response {
    if file == "chain.pem" {
        return pem_response(state.chain_pem());
    }
    let (stem, extension) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let Some(certificate) = state
        .certificates
        .iter()
        .find(|c| c.authority.file_stem() == stem)
    else {
        return unknown_ca(&file).into_response();
    };
    match extension {
        "crt" | "cer" | "der" => (
            [(header::CONTENT_TYPE, "application/pkix-cert")],
            certificate.der.clone(),
        )
            .into_response(),
        "pem" => pem_response(certificate.pem.clone()),
        _ => unknown_ca(&file).into_response(),
    }
}

fn pem_response(pem: String) -> Response {
    ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response()
}

fn unknown_ca(file: &str) -> ApiError {
    ApiError::not_found(format!(
        "no CA file `{file}`; expected root.crt, server-ca.crt, client-ca.crt (DER), the same as .pem, or chain.pem"
    ))
}

/// `/crl/<stem>.crl` (DER, as CRL distribution points name) or `.pem`.
async fn crl(State(state): State<Arc<AppState>>, Path(file): Path<String>) -> Response {
    let (stem, extension) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let slot = state
        .crls
        .iter()
        .find(|slot| slot.authority.file_stem() == stem);
    let (Some(slot), "crl" | "der" | "pem") = (slot, extension) else {
        return ApiError::not_found(format!(
            "no CRL `{file}`; expected root.crl, server-ca.crl or client-ca.crl (DER), or the same as .pem"
        ))
        .into_response();
    };
    crl_response(&state, slot.authority, extension == "pem").await
}

pub(crate) async fn crl_response(state: &AppState, authority: Authority, pem: bool) -> Response {
    let Some(slot) = state.crls.iter().find(|s| s.authority == authority) else {
        return ApiError::not_found("no such CRL").into_response();
    };
    let now = time::OffsetDateTime::now_utc();
    match slot.get(&state.store, state.profiles.crl_lifetime(), now).await {
        Ok(der) if pem => pem_response(mutual_x509::pem::encode("X509 CRL", &der)),
        Ok(der) => ([(header::CONTENT_TYPE, "application/pkix-crl")], der).into_response(),
        Err(CrlUnavailable::NoRootCrl(path)) => ApiError::not_found(format!(
            "the root CRL is signed offline with the root key: run `mutual crl --issuer root --format der --out {}` and fetch again",
            path.display()
        ))
        .into_response(),
        Err(CrlUnavailable::Failed(detail)) => {
            tracing::error!(%detail, "signing a CRL failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "signing the CRL failed on the server; it has been logged",
            )
            .into_response()
        }
    }
}
