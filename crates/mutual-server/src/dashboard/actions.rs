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

/// The profiles the issue form offers, and the format each is handed out in.
const ISSUE_PROFILES: [(&str, &str, &str); 2] = [
    (
        "client",
        "Client certificate (a user, device or service), as PKCS#12",
        "pkcs12",
    ),
    (
        "server",
        "Server certificate (a host: give its DNS names), as PEM",
        "pem",
    ),
];

#[derive(Debug, Default, Deserialize)]
pub(super) struct IssueForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    profile: String,
    #[serde(default)]
    name: String,
    /// DNS names, separated by spaces or commas.
    #[serde(default)]
    dns: String,
    #[serde(default)]
    days: String,
    /// `yes` on the confirmation page's button.
    #[serde(default)]
    confirm: String,
}

impl IssueForm {
    fn dns_names(&self) -> Vec<String> {
        self.dns
            .split([',', ' ', '\n', '\r', '\t'])
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// `GET /issue`: the form.
pub(super) async fn issue_form(admin: Result<Admin, ApiError>) -> Response {
    let viewer = Viewer::of(admin);
    let Viewer::Admin(admin) = &viewer else {
        return refused("Issue a certificate", Section::Inventory, &viewer);
    };
    let mut body = Markup::new();
    body.raw("<h1>Issue a certificate</h1>")
        .raw("<p>The key is made on the server and handed to you once: a client certificate as a ")
        .raw("PKCS#12 file with a password made up for it, a server certificate as PEM. ")
        .raw("Nothing is issued before you confirm on the next page.</p>")
        .raw("<form method=\"post\" action=\"/issue\"><input type=\"hidden\" name=\"token\" value=\"")
        .text(token(admin, "issue", "form"))
        .raw("\"><fieldset><legend>Profile</legend>");
    for (i, (profile, label, _)) in ISSUE_PROFILES.iter().enumerate() {
        body.raw("<label><input type=\"radio\" name=\"profile\" value=\"")
            .raw(profile)
            .raw("\"");
        if i == 0 {
            body.raw(" checked");
        }
        body.raw("> ").raw(label).raw("</label>");
    }
    body.raw("</fieldset><label for=\"name\">Name (the subject's common name)</label>")
        .raw("<input type=\"text\" id=\"name\" name=\"name\" required autocomplete=\"off\">")
        .raw("<label for=\"dns\">DNS names (server certificates; separated by spaces)</label>")
        .raw("<input type=\"text\" id=\"dns\" name=\"dns\" autocomplete=\"off\">")
        .raw("<label for=\"days\">Days of validity (empty: the profile's default)</label>")
        .raw("<input type=\"number\" id=\"days\" name=\"days\" min=\"1\">")
        .raw("<button type=\"submit\" id=\"review-issue\">Review</button></form>");
    page(
        StatusCode::OK,
        "Issue a certificate",
        Section::Inventory,
        &viewer,
        body,
    )
}

/// `POST /issue`: without `confirm`, the review page; with it, the issuance by the API's
/// own code, and its result shown once.
pub(super) async fn issue(
    admin: Result<Admin, ApiError>,
    State(state): State<Arc<AppState>>,
    form: Result<Form<IssueForm>, FormRejection>,
) -> Response {
    let viewer = Viewer::of(admin);
    let Viewer::Admin(admin) = &viewer else {
        return refused("Issue a certificate", Section::Inventory, &viewer);
    };
    let title = "Issue a certificate";
    let fail = |status: StatusCode, message: &str, details: &[crate::error::Detail]| {
        let mut body = Markup::new();
        body.raw("<h1>Issue a certificate</h1>")
            .append(problem(message));
        if !details.is_empty() {
            body.raw("<ul>");
            for detail in details {
                body.raw("<li><code>")
                    .text(&detail.code)
                    .raw("</code> ")
                    .text(&detail.message)
                    .raw("</li>");
            }
            body.raw("</ul>");
        }
        body.raw("<p><a href=\"/issue\">Back to the form</a></p>");
        page(status, title, Section::Inventory, &viewer, body)
    };
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return fail(rejection.status(), &rejection.body_text(), &[]),
    };
    if !token_fits(admin, "issue", "form", &form.token) {
        return fail(
            StatusCode::FORBIDDEN,
            "This form did not come from this service's issue page (its token does not fit): nothing was issued.",
            &[],
        );
    }
    let Some((profile, _, format)) = ISSUE_PROFILES.iter().find(|(p, _, _)| *p == form.profile)
    else {
        return fail(
            StatusCode::BAD_REQUEST,
            &format!("Profile `{}`: expected client or server.", form.profile),
            &[],
        );
    };
    let days = match form.days.trim() {
        "" => None,
        days => match days.parse::<u32>() {
            Ok(days) if days > 0 => Some(days),
            _ => {
                return fail(
                    StatusCode::BAD_REQUEST,
                    &format!("Days `{days}`: expected a whole number of days."),
                    &[],
                );
            }
        },
    };
    let dns = form.dns_names();
    if form.confirm != "yes" {
        let mut body = Markup::new();
        body.raw("<h1>Issue a certificate</h1><p>You are about to issue a <strong>")
            .text(profile)
            .raw("</strong> certificate for <strong class=\"mono\">")
            .text(&form.name)
            .raw("</strong>");
        if !dns.is_empty() {
            body.raw(" naming <span class=\"mono\">")
                .text(dns.join(", "))
                .raw("</span>");
        }
        match days {
            Some(days) => body.raw(", valid ").text(days).raw(" days"),
            None => body.raw(", valid for the profile's default"),
        };
        body.raw(".</p><form method=\"post\" action=\"/issue\">");
        for (name, value) in [
            ("token", form.token.as_str()),
            ("profile", profile),
            ("name", form.name.as_str()),
            ("dns", form.dns.as_str()),
            ("days", form.days.as_str()),
        ] {
            body.raw("<input type=\"hidden\" name=\"")
                .raw(name)
                .raw("\" value=\"")
                .text(value)
                .raw("\">");
        }
        body.raw("<button type=\"submit\" name=\"confirm\" value=\"yes\" id=\"confirm-issue\">Issue</button> ")
            .raw("<a href=\"/issue\">Cancel</a></form>");
        return page(StatusCode::OK, title, Section::Inventory, &viewer, body);
    }
    let mut request = serde_json::json!({
        "profile": profile,
        "name": form.name,
        "dns": dns,
        "format": format,
    });
    if let Some(days) = days {
        request["days"] = days.into();
    }
    let request = match serde_json::from_value(request) {
        Ok(request) => request,
        Err(e) => return fail(StatusCode::BAD_REQUEST, &e.to_string(), &[]),
    };
    let issued = match crate::api::issue::issue_for(admin, &state, request).await {
        Ok(issued) => issued,
        Err(e) => return fail(e.status, &e.body.message, &e.body.details),
    };
    page(
        StatusCode::CREATED,
        title,
        Section::Inventory,
        &viewer,
        issued_markup(&form.name, &issued),
    )
}

/// The result of an issuance, shown once: nothing of the key or the password is kept.
fn issued_markup(name: &str, issued: &serde_json::Value) -> Markup {
    let text = |field: &str| issued[field].as_str().unwrap_or_default().to_owned();
    let mut body = Markup::new();
    body.raw("<h1>Issued</h1><p id=\"issued\">")
        .text(text("subject"))
        .raw(", serial <span class=\"mono\">")
        .text(text("serial"))
        .raw("</span>, valid until ")
        .text(text("not_after"))
        .raw(". <a href=\"/inventory/")
        .text(text("fingerprint_sha256").replace(':', ""))
        .raw("\">Its page in the inventory</a>.</p>")
        .raw("<p class=\"problem\" role=\"alert\">This is the only time the key and the password are shown: ")
        .raw("save them now. The service keeps neither.</p>");
    if let Some(pkcs12) = issued["pkcs12"].as_str() {
        body.raw("<p><a class=\"button\" id=\"download-p12\" download=\"")
            .text(name)
            .raw(".p12\" href=\"data:application/x-pkcs12;base64,")
            .text(pkcs12)
            .raw("\">Download the PKCS#12 file</a></p><p>Its password: <code id=\"password\">")
            .text(text("password"))
            .raw("</code></p>");
    } else {
        for (field, label, file) in [
            ("chain", "Certificate and chain", "pem"),
            ("key", "Private key", "key.pem"),
        ] {
            body.raw("<h2>")
                .raw(label)
                .raw("</h2><p><a download=\"")
                .text(name)
                .raw(".")
                .raw(file)
                .raw("\" href=\"data:application/x-pem-file;base64,")
                .text(base64_of(&text(field)))
                .raw("\">Download</a></p><pre tabindex=\"0\">")
                .text(text(field))
                .raw("</pre>");
        }
    }
    body
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    profile: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    ttl: String,
    #[serde(default)]
    confirm: String,
}

const TOKEN_PROFILES: [&str; 3] = ["client", "server", "admin"];

/// `GET /enroll-token`: the form.
pub(super) async fn token_form(admin: Result<Admin, ApiError>) -> Response {
    let viewer = Viewer::of(admin);
    let Viewer::Admin(admin) = &viewer else {
        return refused("Create an enrollment token", Section::Inventory, &viewer);
    };
    let mut body = Markup::new();
    body.raw("<h1>Create an enrollment token</h1>")
        .raw("<p>A one-time token lets a device or person get a certificate for one subject: its key is ")
        .raw("made where it will be used, and only the hash of the token is kept here.</p>")
        .raw("<form method=\"post\" action=\"/enroll-token\"><input type=\"hidden\" name=\"token\" value=\"")
        .text(token(admin, "enroll-token", "form"))
        .raw("\"><label for=\"profile\">Profile</label><select id=\"profile\" name=\"profile\">");
    for profile in TOKEN_PROFILES {
        body.raw("<option>").raw(profile).raw("</option>");
    }
    body.raw(
        "</select><label for=\"subject\">Subject (the common name the request must carry)</label>",
    )
    .raw("<input type=\"text\" id=\"subject\" name=\"subject\" required autocomplete=\"off\">")
    .raw("<label for=\"ttl\">Valid for (e.g. 15m, 1h, 7d)</label>")
    .raw("<input type=\"text\" id=\"ttl\" name=\"ttl\" value=\"1h\">")
    .raw("<button type=\"submit\" id=\"review-token\">Review</button></form>");
    page(
        StatusCode::OK,
        "Create an enrollment token",
        Section::Inventory,
        &viewer,
        body,
    )
}

/// `POST /enroll-token`: the review page, then the API's token creation, shown once.
pub(super) async fn create_token(
    admin: Result<Admin, ApiError>,
    State(state): State<Arc<AppState>>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let viewer = Viewer::of(admin);
    let Viewer::Admin(admin) = &viewer else {
        return refused("Create an enrollment token", Section::Inventory, &viewer);
    };
    let title = "Create an enrollment token";
    let fail = |status: StatusCode, message: &str| {
        let mut body = Markup::new();
        body.raw("<h1>Create an enrollment token</h1>")
            .append(problem(message))
            .raw("<p><a href=\"/enroll-token\">Back to the form</a></p>");
        page(status, title, Section::Inventory, &viewer, body)
    };
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return fail(rejection.status(), &rejection.body_text()),
    };
    if !token_fits(admin, "enroll-token", "form", &form.token) {
        return fail(
            StatusCode::FORBIDDEN,
            "This form did not come from this service's token page (its token does not fit): no token was made.",
        );
    }
    let ttl = if form.ttl.trim().is_empty() {
        "1h"
    } else {
        form.ttl.trim()
    };
    if form.confirm != "yes" {
        let mut body = Markup::new();
        body.raw("<h1>Create an enrollment token</h1><p>You are about to create a one-time token for a <strong>")
            .text(&form.profile)
            .raw("</strong> certificate with the subject <strong class=\"mono\">")
            .text(&form.subject)
            .raw("</strong>, valid for ")
            .text(ttl)
            .raw(".</p><form method=\"post\" action=\"/enroll-token\">");
        for (name, value) in [
            ("token", form.token.as_str()),
            ("profile", form.profile.as_str()),
            ("subject", form.subject.as_str()),
            ("ttl", ttl),
        ] {
            body.raw("<input type=\"hidden\" name=\"")
                .raw(name)
                .raw("\" value=\"")
                .text(value)
                .raw("\">");
        }
        body.raw("<button type=\"submit\" name=\"confirm\" value=\"yes\" id=\"confirm-token\">Create</button> ")
            .raw("<a href=\"/enroll-token\">Cancel</a></form>");
        return page(StatusCode::OK, title, Section::Inventory, &viewer, body);
    }
    let request = serde_json::json!({"profile": form.profile, "subject": form.subject, "ttl": ttl});
    let request = match serde_json::from_value(request) {
        Ok(request) => request,
        Err(e) => return fail(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let created = match crate::api::tokens::create_for(admin, &state, request).await {
        Ok(created) => created,
        Err(e) => return fail(e.status, &e.body.message),
    };
    let text = |field: &str| created[field].as_str().unwrap_or_default().to_owned();
    let mut body = Markup::new();
    body.raw("<h1>Enrollment token</h1><p>For <strong>")
        .text(text("profile"))
        .raw("</strong> <span class=\"mono\">")
        .text(text("subject"))
        .raw("</span>, usable once, until ")
        .text(text("expires_at"))
        .raw(".</p><p class=\"problem\" role=\"alert\">This is the only time the token is shown: only its hash is kept.</p>")
        .raw("<pre tabindex=\"0\" id=\"enrollment-token\">")
        .text(text("token"))
        .raw("</pre><p>On the device, with the token in a file:</p><pre tabindex=\"0\">mutual enroll --server https://THIS-SERVICE --ca-cert root.pem \\\n    --token-file TOKEN-FILE --subject ")
        .text(text("subject"))
        .raw(" --out-dir DIR</pre>");
    page(
        StatusCode::CREATED,
        title,
        Section::Inventory,
        &viewer,
        body,
    )
}
