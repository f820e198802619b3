//! The web dashboard on the HTTPS listener: a public decoder at `/` (certificates, chains,
//! CSRs, CRLs, PKCS#12, decoded as `mutual inspect`, `lint` and `verify` would), and for
//! administrators — recognised by their `admin` client certificate, the same
//! [`Admin`] check as the API's — the inventory and the expiry timeline.
//!
//! Pages are rendered on the server from [`Markup`], which escapes every value; forms
//! work without JavaScript; the stylesheet and the one small script are compiled into the
//! binary and served from `/assets/`. Every page answers with a Content-Security-Policy
//! that allows only those (`'self'`), and `Cache-Control: no-store`: a decoded input must
//! not linger in a cache.

mod actions;
mod decoder;
mod inventory;
mod markup;
mod timeline;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::Admin;
use crate::error::ApiError;
use crate::state::AppState;
pub(crate) use markup::Markup;

const CSS: &str = include_str!("../../assets/dashboard.css");
const JS: &str = include_str!("../../assets/dashboard.js");

/// Only what the binary serves: no inline script or style, no other origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(decoder::form).post(decoder::decode))
        .route("/inventory", get(inventory::list))
        .route("/inventory/{id}", get(inventory::detail))
        .route(
            "/inventory/{id}/revoke",
            get(actions::revoke_form).post(actions::revoke),
        )
        .route("/timeline", get(timeline::page_handler))
        .route("/issue", get(actions::issue_form).post(actions::issue))
        .route(
            "/enroll-token",
            get(actions::token_form).post(actions::create_token),
        )
        .route("/assets/dashboard.css", get(css))
        .route("/assets/dashboard.js", get(js))
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// Who is looking at a page.
pub(crate) enum Viewer {
    Admin(Admin),
    /// Anyone else, with the reason the certificate (if any) did not make an administrator.
    Public(ApiError),
}

impl Viewer {
    pub(crate) fn of(admin: Result<Admin, ApiError>) -> Self {
        match admin {
            Ok(admin) => Viewer::Admin(admin),
            Err(refusal) => Viewer::Public(refusal),
        }
    }

    fn is_admin(&self) -> bool {
        matches!(self, Viewer::Admin(_))
    }
}

/// Which navigation entry a page is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Decoder,
    Inventory,
    Timeline,
}

/// A whole page: the document, the navigation, `body` in `<main>`.
pub(crate) fn page(
    status: StatusCode,
    title: &str,
    section: Section,
    viewer: &Viewer,
    body: Markup,
) -> Response {
    let mut m = Markup::new();
    m.raw("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .raw("<meta name=\"referrer\" content=\"no-referrer\">")
        .raw("<title>")
        .text(title)
        .raw(" — mutual</title>")
        .raw("<link rel=\"stylesheet\" href=\"/assets/dashboard.css\">")
        .raw("<script src=\"/assets/dashboard.js\" defer></script></head><body>")
        .raw("<a class=\"skip\" href=\"#main\">Skip to content</a>")
        .raw("<header><nav aria-label=\"Main\"><a class=\"brand\" href=\"/\">mutual</a>");
    let entries: [(Section, &'static str, &'static str); 3] = [
        (Section::Decoder, "/", "Decoder"),
        (Section::Inventory, "/inventory", "Inventory"),
        (Section::Timeline, "/timeline", "Expiry timeline"),
    ];
    for (entry, href, label) in entries {
        m.raw("<a href=\"").raw(href).raw("\"");
        if entry == section {
            m.raw(" aria-current=\"page\"");
        }
        m.raw(">").raw(label).raw("</a>");
    }
    m.raw("<span class=\"who\">");
    match viewer {
        Viewer::Admin(admin) => {
            m.raw("Administrator: ").text(&admin.0.record.subject);
        }
        Viewer::Public(_) => {
            m.raw("Not signed in as an administrator");
        }
    }
    m.raw("</span></nav></header><main id=\"main\" tabindex=\"-1\">")
        .append(body)
        .raw("</main><footer><p>Served by <code>mutual serve</code>. ")
        .raw("Nothing you decode here is stored or logged.</p></footer></body></html>\n");
    let mut response = (status, m.into_string()).into_response();
    let headers = response.headers_mut();
    let set = |value: &'static str| HeaderValue::from_static(value);
    headers.insert(header::CONTENT_TYPE, set("text/html; charset=utf-8"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        set(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, set("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, set("nosniff"));
    headers.insert(header::REFERRER_POLICY, set("no-referrer"));
    response
}

/// The page an administrator-only URL shows anyone else: why not, and how to get access.
pub(crate) fn refused(title: &str, section: Section, viewer: &Viewer) -> Response {
    let Viewer::Public(refusal) = viewer else {
        return page(StatusCode::OK, title, section, viewer, Markup::new());
    };
    let mut m = Markup::new();
    m.raw("<h1>").text(title).raw("</h1>")
        .raw("<div class=\"problem\" role=\"alert\"><p><strong>This page is for administrators.</strong> ")
        .text(&refusal.body.message)
        .raw("</p>");
    if let Some(expected) = &refusal.body.expected {
        m.raw("<p>It needs ").text(expected).raw(".</p>");
    }
    m.raw("</div><h2>How to get access</h2><ol>")
        .raw("<li>Get an administrator certificate: <code>mutual serve</code> wrote <code>admin.p12</code> ")
        .raw("(and its password) into its home when it set the CA up; for someone else, an administrator creates ")
        .raw("an enrollment token with <code>mutual token create --profile admin --subject NAME</code>, ")
        .raw("and the new administrator enrolls with it.</li>")
        .raw("<li>Import the PKCS#12 file into your browser or operating system certificate store ")
        .raw("(Firefox: Settings → Certificates → Your Certificates → Import; Chrome on Linux uses the NSS ")
        .raw("database, <code>pk12util -i admin.p12 -d sql:$HOME/.pki/nssdb</code>).</li>")
        .raw("<li>Reload this page and choose that certificate when the browser asks.</li></ol>")
        .raw("<p>The <a href=\"/\">decoder</a> is open to everyone.</p>");
    page(refusal.status, title, section, viewer, m)
}

/// A time as people read it: `2026-11-23 08:00 UTC`.
pub(crate) fn when(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// Adds `Server-Timing: NAME;dur=MS, ...`, one metric per (name, time) — the store's
/// queries and the rendering — read by `scripts/bench-dashboard` and shown by browsers'
/// developer tools.
pub(crate) fn server_timing(response: &mut Response, metrics: &[(&str, std::time::Duration)]) {
    let took = metrics
        .iter()
        .map(|(name, took)| format!("{name};dur={:.2}", took.as_secs_f64() * 1000.0))
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(value) = HeaderValue::from_str(&took) {
        response.headers_mut().insert("server-timing", value);
    }
}
