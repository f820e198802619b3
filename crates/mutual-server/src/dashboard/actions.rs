//! What administrators change from the dashboard, each in two steps — a page that says
//! what will happen and asks, then the form's POST — and each POST carrying a token that
//! only a page of this service could have put there.
//!
//! Why the token: the administrator's credential is a client certificate the browser
//! presents on its own, to any page's request, like a cookie. A page elsewhere could
//! otherwise make the browser POST a revocation here. The token is an HMAC, under a key
//! made when the service starts, of the action, its target and the administrator's
//! certificate: it cannot be guessed, and one taken from another administrator or another
//! certificate's page does not fit.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mutual_ca::store::{Lookup, Revocation, RevocationReason, StatusFilter};
use serde::Deserialize;
use time::OffsetDateTime;

use super::decoder::problem;
use super::{Markup, Section, Viewer, page, refused, when};
use crate::api::certificates::{revocation_reason, revoke_certificate};
use crate::auth::Admin;
use crate::error::ApiError;
use crate::state::AppState;

fn key() -> &'static hmac::Key {
    static KEY: OnceLock<hmac::Key> = OnceLock::new();
    KEY.get_or_init(|| {
        // A failure of the system's random source leaves a key no one knows either.
        hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new()).unwrap_or_else(|_| {
            hmac::Key::new(hmac::HMAC_SHA256, &std::process::id().to_be_bytes())
        })
    })
}

fn token_input(admin: &Admin, action: &str, target: &str) -> Vec<u8> {
    format!("{action}\0{target}\0{}", admin.0.record.fingerprint_sha256).into_bytes()
}

/// The token for `action` on `target` by `admin`, as hex.
pub(crate) fn token(admin: &Admin, action: &str, target: &str) -> String {
    let tag = hmac::sign(key(), &token_input(admin, action, target));
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `presented` is the token for `action` on `target` by `admin` (constant time).
fn token_fits(admin: &Admin, action: &str, target: &str, presented: &str) -> bool {
    let Some(tag) = (0..presented.len())
        .step_by(2)
        .map(|i| {
            presented
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    hmac::verify(key(), &token_input(admin, action, target), &tag).is_ok()
}

/// The reasons offered, most common first.
const REASONS: [RevocationReason; 5] = [
    RevocationReason::KeyCompromise,
    RevocationReason::Superseded,
    RevocationReason::CessationOfOperation,
    RevocationReason::AffiliationChanged,
    RevocationReason::Unspecified,
];

/// `GET /inventory/{id}/revoke`: what will be revoked, a reason, and the button.
pub(super) async fn revoke_form(
    admin: Result<Admin, ApiError>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Response {
    let viewer = Viewer::of(admin);
    let Viewer::Admin(admin) = &viewer else {
        return refused("Revoke a certificate", Section::Inventory, &viewer);
    };
    let record = match id.parse::<Lookup>() {
        Ok(lookup) => state.store.find(&lookup).await.ok().flatten(),
        Err(_) => None,
    };
    let mut body = Markup::new();
    body.raw("<h1>Revoke a certificate</h1>");
    let Some(record) = record else {
        body.append(problem(&format!("No certificate {id} in the inventory.")));
        return page(
            StatusCode::NOT_FOUND,
            "Revoke a certificate",
            Section::Inventory,
            &viewer,
            body,
        );
    };
    let now = OffsetDateTime::now_utc();
    if record.status_at(now) == StatusFilter::Revoked {
        body.append(problem("This certificate is already revoked."));
        return page(
            StatusCode::CONFLICT,
            "Revoke a certificate",
            Section::Inventory,
            &viewer,
            body,
        );
    }
    let target = record.fingerprint_sha256.replace(':', "");
    body.raw("<p>You are about to revoke <strong class=\"mono\">")
        .text(&record.subject)
        .raw("</strong> (")
        .text(&record.profile)
        .raw(", serial <span class=\"mono\">")
        .text(&record.serial)
        .raw("</span>, valid until ")
        .text(when(record.not_after))
        .raw("). OCSP answers <em>revoked</em> at once and the next CRL lists it. This cannot be undone.</p>")
        .raw("<form method=\"post\" action=\"/inventory/")
        .text(&target)
        .raw("/revoke\"><input type=\"hidden\" name=\"token\" value=\"")
        .text(token(admin, "revoke", &target))
        .raw("\"><label for=\"reason\">Reason</label><select id=\"reason\" name=\"reason\">");
    for reason in REASONS {
        body.raw("<option>")
            .text(reason.rfc_name())
            .raw("</option>");
    }
    body.raw(
        "</select><button type=\"submit\" class=\"danger\" id=\"confirm-revoke\">Revoke</button> ",
    )
    .raw("<a href=\"/inventory/")
    .text(&target)
    .raw("\">Cancel</a></form>");
    page(
        StatusCode::OK,
        "Revoke a certificate",
        Section::Inventory,
        &viewer,
        body,
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct RevokeForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    reason: String,
}

/// `POST /inventory/{id}/revoke`: with a fitting token, the API's revocation; then back to
/// the certificate's page.
pub(super) async fn revoke(
    admin: Result<Admin, ApiError>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    form: Result<Form<RevokeForm>, FormRejection>,
) -> Response {
    let viewer = Viewer::of(admin);
    let Viewer::Admin(admin) = &viewer else {
        return refused("Revoke a certificate", Section::Inventory, &viewer);
    };
    let fail = |status: StatusCode, message: &str| {
        let mut body = Markup::new();
        body.raw("<h1>Revoke a certificate</h1>")
            .append(problem(message));
        page(
            status,
            "Revoke a certificate",
            Section::Inventory,
            &viewer,
            body,
        )
    };
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return fail(rejection.status(), &rejection.body_text()),
    };
    let target: String = id
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_uppercase();
    if !token_fits(admin, "revoke", &target, &form.token) {
        return fail(
            StatusCode::FORBIDDEN,
            "This form did not come from this certificate's revoke page (its token does not fit): nothing was revoked. Open the certificate's page and use its Revoke button.",
        );
    }
    let reason = match revocation_reason(&form.reason) {
        Ok(reason) => reason,
        Err(e) => return fail(e.status, &e.body.message),
    };
    let Ok(lookup) = target.parse::<Lookup>() else {
        return fail(
            StatusCode::NOT_FOUND,
            &format!("No certificate {id} in the inventory."),
        );
    };
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    let revocation = Revocation {
        at: now,
        reason,
        invalid_since: None,
        by: Some(admin.actor()),
    };
    match revoke_certificate(&state, admin, &lookup, &id, &revocation, now).await {
        Ok(_) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/inventory/{target}"))],
        )
            .into_response(),
        Err(e) => fail(e.status, &e.body.message),
    }
}
