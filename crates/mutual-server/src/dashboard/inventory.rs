//! The inventory, for administrators: the store's `list` (its filters, its orders and
//! keyset pagination) as a table with sortable columns, and one certificate's page.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use mutual_ca::store::{
    AuditQuery, CertificateRecord, Cursor, Lookup, Order, Query as StoreQuery, StatusFilter,
    StoreError,
};
use mutual_verify::{Policy, Purpose as VerifyPurpose, Verifier};
use mutual_x509::{DecodeOptions, Object};
use serde::Deserialize;
use time::OffsetDateTime;

use super::decoder::{lint_report, problem, verdict_markup};
use super::markup::query_value;
use super::{Markup, Section, Viewer, page, refused, server_timing, when};
use crate::auth::Admin;
use crate::error::ApiError;
use crate::state::AppState;

/// Rows per page: enough to scan, few enough to render at once.
const PAGE_SIZE: u32 = 50;
/// The profiles the filter offers.
const PROFILES: [&str; 4] = ["server", "client", "server-client", "admin"];

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    profile: String,
    #[serde(default)]
    status: String,
    /// Days.
    #[serde(default)]
    expiring: String,
    /// An [`Order`] word; empty is expiry, soonest first.
    #[serde(default)]
    sort: String,
    #[serde(default)]
    after: String,
}

impl ListParams {
    /// `/inventory?...` with these filters, in `sort` order, from the first page.
    fn href(&self, sort: Order) -> String {
        let mut href = String::from("/inventory?sort=");
        href.push_str(sort.as_str());
        self.push_filters(&mut href);
        href
    }

    fn push_filters(&self, href: &mut String) {
        for (name, value) in [
            ("q", &self.q),
            ("profile", &self.profile),
            ("status", &self.status),
            ("expiring", &self.expiring),
        ] {
            if !value.is_empty() {
                href.push('&');
                href.push_str(name);
                href.push('=');
                href.push_str(&query_value(value));
            }
        }
    }
}

pub(super) async fn list(
    admin: Result<Admin, ApiError>,
    State(state): State<Arc<AppState>>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let viewer = Viewer::of(admin);
    if !viewer.is_admin() {
        return refused("Inventory", Section::Inventory, &viewer);
    }
    let started = std::time::Instant::now();
    let params = params.map(|Query(p)| p).unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    let mut body = Markup::new();
    body.raw(
        "<h1>Inventory</h1><p><a class=\"button\" href=\"/issue\">Issue a certificate…</a></p>",
    );
    filters(&mut body, &params);
    let search = query(&params, now);
    let order = search
        .as_ref()
        .map_or(Order::ExpirySoonest, |search| search.query.order);
    let named = match &search {
        Ok(Search {
            lookup: Some(lookup),
            ..
        }) => found(&state, lookup).await,
        _ => None,
    };
    let status = match search {
        Err(message) => {
            body.append(problem(&message));
            StatusCode::BAD_REQUEST
        }
        Ok(_) if named.is_some() => {
            table(
                &mut body,
                &named.into_iter().collect::<Vec<_>>(),
                now,
                &params,
                order,
            );
            StatusCode::OK
        }
        Ok(Search {
            query: store_query, ..
        }) => match state.store.list(&store_query).await {
            Ok(page) => {
                table(&mut body, &page.records, now, &params, order);
                if let Some(next) = page.next {
                    let mut href = params.href(order);
                    href.push_str("&after=");
                    href.push_str(&query_value(&next.to_string()));
                    body.raw("<p><a class=\"button\" rel=\"next\" href=\"")
                        .text(href)
                        .raw("\">Next page</a></p>");
                }
                StatusCode::OK
            }
            Err(e) => store_problem(&mut body, &e),
        },
    };
    let mut response = page(status, "Inventory", Section::Inventory, &viewer, body);
    server_timing(&mut response, &[("inventory", started.elapsed())]);
    response
}

fn store_problem(body: &mut Markup, error: &StoreError) -> StatusCode {
    let refusal = ApiError::internal("reading the inventory", error);
    body.append(problem(&refusal.body.message));
    refusal.status
}

struct Search {
    /// The search term read as a serial or fingerprint, tried first.
    lookup: Option<Lookup>,
    /// The filters, the order, the search term as a SAN or the start of a common name.
    query: StoreQuery,
}

/// The certificate a serial or fingerprint names, if the store has it (a store error is
/// left for the list query that follows to report).
async fn found(state: &AppState, lookup: &Lookup) -> Option<CertificateRecord> {
    state.store.find(lookup).await.ok().flatten()
}

fn query(params: &ListParams, now: OffsetDateTime) -> Result<Search, String> {
    let q = params.q.trim();
    let mut store_query = StoreQuery::new(now);
    store_query.limit = PAGE_SIZE;
    let mut lookup = None;
    if !q.is_empty() {
        // Hex (with or without colons) may be a serial or a SHA-256 fingerprint.
        if q.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            lookup = q.parse::<Lookup>().ok();
        }
        store_query.search = Some(q.to_owned());
    }
    let sort = params.sort.trim();
    if !sort.is_empty() {
        store_query.order = sort.parse::<Order>().map_err(|_| {
            format!("Sort `{sort}`: expected expiry, expiry-desc, newest or subject.")
        })?;
    }
    if !params.profile.is_empty() {
        store_query.profile = Some(params.profile.clone());
    }
    if !params.status.is_empty() {
        store_query.status = Some(params.status.parse::<StatusFilter>().map_err(|_| {
            format!(
                "Status `{}`: expected valid, revoked or expired.",
                params.status
            )
        })?);
    }
    let expiring = params.expiring.trim();
    if !expiring.is_empty() {
        let days: i64 = expiring
            .parse()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| {
                format!(
                    "Expiring within `{expiring}` days: expected a number of days from 1 to 3650."
                )
            })?;
        store_query.expiring_within = Some(time::Duration::days(days));
    }
    if !params.after.is_empty() {
        let cursor = params.after.parse::<Cursor>().map_err(|_| {
            "The page position in the address is not one this inventory wrote; start again from the first page."
                .to_owned()
        })?;
        // A position in one order means nothing in another: refused, not misread.
        if cursor.order() != store_query.order {
            return Err(format!(
                "The page position in the address belongs to the `{}` order, not `{}`; start again from the first page.",
                cursor.order(),
                store_query.order
            ));
        }
        store_query.after = Some(cursor);
    }
    Ok(Search {
        lookup,
        query: store_query,
    })
}

fn filters(m: &mut Markup, params: &ListParams) {
    m.raw("<form method=\"get\" action=\"/inventory\" role=\"search\" class=\"filters\">")
        .raw("<div><label for=\"q\">Search</label><input type=\"search\" id=\"q\" name=\"q\" value=\"")
        .text(&params.q)
        .raw("\" aria-describedby=\"q-help\"></div>")
        .raw("<div><label for=\"profile\">Profile</label><select id=\"profile\" name=\"profile\">")
        .raw("<option value=\"\">any</option>");
    for profile in PROFILES {
        m.raw("<option");
        if params.profile == profile {
            m.raw(" selected");
        }
        m.raw(">").raw(profile).raw("</option>");
    }
    m.raw("</select></div><div><label for=\"status\">Status</label><select id=\"status\" name=\"status\">")
        .raw("<option value=\"\">any</option>");
    for status in ["valid", "revoked", "expired"] {
        m.raw("<option");
        if params.status == status {
            m.raw(" selected");
        }
        m.raw(">").raw(status).raw("</option>");
    }
    m.raw("</select></div><div><label for=\"expiring\">Expiring within (days)</label>")
        .raw("<input type=\"number\" id=\"expiring\" name=\"expiring\" min=\"1\" max=\"3650\" value=\"")
        .text(&params.expiring)
        .raw("\"></div>");
    if !params.sort.is_empty() {
        m.raw("<input type=\"hidden\" name=\"sort\" value=\"")
            .text(&params.sort)
            .raw("\">");
    }
    m.raw("<div><button type=\"submit\">Search</button></div>")
        .raw("<p id=\"q-help\" class=\"help\">Search finds a serial or SHA-256 fingerprint, ")
        .raw("a subject alternative name (the whole name, e.g. <code>www.example.com</code> ")
        .raw("or <code>DNS:www.example.com</code>), or subjects whose common name ")
        .raw("<em>starts with</em> the text, ignoring case.</p></form>");
}

/// What a column header sorts by: (label, order on a first click, order when already on it).
const SORTABLE: [(&str, Order, Order); 3] = [
    ("Subject", Order::Subject, Order::Subject),
    ("Not after", Order::ExpirySoonest, Order::ExpiryLatest),
    ("Recorded", Order::Newest, Order::Newest),
];

fn order_words(order: Order) -> &'static str {
    match order {
        Order::ExpirySoonest => "expiry, soonest first",
        Order::ExpiryLatest => "expiry, latest first",
        Order::Newest => "issuance, newest first",
        Order::Subject => "common name, A to Z",
    }
}

/// A column header: a link that sorts by it (the other way when it already does), with
/// `aria-sort` on the column the table is sorted by.
fn header(m: &mut Markup, label: &'static str, params: &ListParams, current: Order) {
    let Some((_, first, again)) = SORTABLE.iter().find(|(l, _, _)| *l == label) else {
        m.raw("<th scope=\"col\">").raw(label).raw("</th>");
        return;
    };
    let active = current == *first || current == *again;
    let target = if current == *first { *again } else { *first };
    m.raw("<th scope=\"col\"");
    if active {
        m.raw(match current {
            Order::ExpiryLatest | Order::Newest => " aria-sort=\"descending\"",
            Order::ExpirySoonest | Order::Subject => " aria-sort=\"ascending\"",
        });
    }
    m.raw("><a class=\"sort\" href=\"")
        .text(params.href(target))
        .raw("\">")
        .raw(label)
        .raw("<span class=\"visually-hidden\">: sort by ")
        .raw(order_words(target))
        .raw("</span>");
    if active {
        m.raw(match current {
            Order::ExpiryLatest | Order::Newest => " <span aria-hidden=\"true\">▼</span>",
            Order::ExpirySoonest | Order::Subject => " <span aria-hidden=\"true\">▲</span>",
        });
    }
    m.raw("</a></th>");
}

fn table(
    m: &mut Markup,
    records: &[CertificateRecord],
    now: OffsetDateTime,
    params: &ListParams,
    order: Order,
) {
    if records.is_empty() {
        m.raw("<p id=\"empty\">No certificate matches.</p>");
        return;
    }
    m.raw("<p id=\"order\">Sorted by ")
        .raw(order_words(order))
        .raw(". Choose a column heading to sort by it.</p>")
        .raw("<div class=\"table-wrap\" tabindex=\"0\"><table id=\"certificates\"><caption class=\"visually-hidden\">Certificates, sorted by ")
        .raw(order_words(order))
        .raw("</caption><thead><tr>");
    for label in [
        "Subject",
        "Names",
        "Profile",
        "Status",
        "Not after",
        "Recorded",
        "Serial",
    ] {
        header(m, label, params, order);
    }
    m.raw("</tr></thead><tbody>");
    for record in records {
        let status = record.status_at(now);
        m.raw("<tr><td><a href=\"/inventory/")
            .text(record.fingerprint_sha256.replace(':', ""))
            .raw("\">")
            .text(&record.subject)
            .raw("</a></td><td class=\"mono\">")
            .text(record.sans.join(", "))
            .raw("</td><td>")
            .text(&record.profile)
            .raw("</td><td class=\"")
            .raw(if status == StatusFilter::Valid {
                "ok"
            } else {
                "bad"
            })
            .raw("\">")
            .text(status.as_str())
            .raw("</td><td>")
            .text(when(record.not_after))
            .raw("</td><td>")
            .text(when(record.created_at))
            .raw("</td><td class=\"mono\">")
            .text(&record.serial)
            .raw("</td></tr>");
    }
    m.raw("</tbody></table></div>");
}

pub(super) async fn detail(
    admin: Result<Admin, ApiError>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Response {
    let viewer = Viewer::of(admin);
    if !viewer.is_admin() {
        return refused("Certificate", Section::Inventory, &viewer);
    }
    let started = std::time::Instant::now();
    let not_found = |viewer: &Viewer, message: String| {
        let mut body = Markup::new();
        body.raw("<h1>Certificate</h1>").append(problem(&message));
        page(
            StatusCode::NOT_FOUND,
            "Certificate",
            Section::Inventory,
            viewer,
            body,
        )
    };
    let Ok(lookup) = id.parse::<Lookup>() else {
        return not_found(
            &viewer,
            format!("`{id}` is neither a serial in hex nor a SHA-256 fingerprint."),
        );
    };
    let record = match state.store.find(&lookup).await {
        Ok(Some(record)) => record,
        Ok(None) => return not_found(&viewer, format!("No certificate {id} in the inventory.")),
        Err(e) => {
            let mut body = Markup::new();
            let status = store_problem(&mut body, &e);
            return page(status, "Certificate", Section::Inventory, &viewer, body);
        }
    };
    let now = OffsetDateTime::now_utc();
    let mut body = Markup::new();
    body.raw("<h1 class=\"mono\">")
        .text(&record.subject)
        .raw("</h1>");
    facts(&mut body, &record, now);
    if record.status_at(now) != StatusFilter::Revoked {
        body.raw("<p><a class=\"button\" id=\"revoke\" href=\"/inventory/")
            .text(record.fingerprint_sha256.replace(':', ""))
            .raw("/revoke\">Revoke…</a></p>");
    }
    let audit_started = std::time::Instant::now();
    history(&mut body, &state, &record).await;
    let audit_took = audit_started.elapsed();
    let decoded = mutual_x509::decode(
        record.pem.as_bytes(),
        &DecodeOptions {
            now,
            password: None,
        },
    );
    match decoded {
        Ok(objects) => decoded_sections(&mut body, &state, &record, &objects, now),
        Err(e) => {
            body.append(problem(&format!("The stored certificate {e}")));
        }
    }
    let mut response = page(
        StatusCode::OK,
        "Certificate",
        Section::Inventory,
        &viewer,
        body,
    );
    // The whole page (chain, lint, decoding included) and the audit trail's query alone.
    server_timing(
        &mut response,
        &[("certificate", started.elapsed()), ("audit", audit_took)],
    );
    response
}

/// The audit trail's entries about this certificate, newest first.
async fn history(m: &mut Markup, state: &AppState, record: &CertificateRecord) {
    let query = AuditQuery {
        limit: 50,
        ..AuditQuery::default()
    };
    m.raw("<section aria-labelledby=\"history\"><h2 id=\"history\">Audit history</h2>");
    match state.store.audit_of_serial(&record.serial, &query).await {
        Ok(entries) if entries.is_empty() => {
            m.raw("<p>No entries.</p>");
        }
        Ok(entries) => {
            m.raw("<div class=\"table-wrap\" tabindex=\"0\"><table id=\"audit\"><thead><tr><th scope=\"col\">When</th>")
                .raw("<th scope=\"col\">Action</th><th scope=\"col\">By</th><th scope=\"col\">Detail</th></tr></thead><tbody>");
            for entry in entries {
                m.raw("<tr><td>")
                    .text(when(entry.at))
                    .raw("</td><td>")
                    .text(entry.action.as_str())
                    .raw("</td><td class=\"mono\">")
                    .text(&entry.actor)
                    .raw("</td><td>")
                    .text(&entry.detail)
                    .raw("</td></tr>");
            }
            m.raw("</tbody></table></div>");
        }
        Err(e) => {
            let refusal = ApiError::internal("reading the audit trail", &e);
            m.append(problem(&refusal.body.message));
        }
    }
    m.raw("</section>");
}

fn facts(m: &mut Markup, record: &CertificateRecord, now: OffsetDateTime) {
    m.raw("<dl>")
        .raw("<dt>Revocation status (as OCSP answers)</dt><dd id=\"revocation\">");
    match (record.status_at(now), record.revoked_at) {
        (StatusFilter::Revoked, at) => {
            m.raw("<span class=\"bad\">revoked</span>");
            if let Some(at) = at {
                m.raw(" at ").text(when(at));
            }
            if let Some(reason) = record.revocation_reason {
                m.raw(", reason ").text(reason.rfc_name());
            }
        }
        (StatusFilter::Expired, _) => {
            m.raw("good (not revoked), but <span class=\"bad\">expired</span>");
        }
        (StatusFilter::Valid, _) => {
            m.raw("<span class=\"ok\">good</span>");
        }
    }
    m.raw("</dd><dt>Profile</dt><dd>")
        .text(&record.profile)
        .raw("</dd><dt>Names</dt><dd class=\"mono\">")
        .text(record.sans.join(", "))
        .raw("</dd><dt>Valid</dt><dd>")
        .text(when(record.not_before))
        .raw(" to ")
        .text(when(record.not_after))
        .raw("</dd><dt>Serial</dt><dd class=\"mono\">")
        .text(&record.serial)
        .raw("</dd><dt>SHA-256</dt><dd class=\"mono\">")
        .text(&record.fingerprint_sha256)
        .raw("</dd><dt>Issuer</dt><dd class=\"mono\">")
        .text(&record.issuer)
        .raw("</dd><dt>Requested by</dt><dd class=\"mono\">")
        .text(record.requester.as_deref().unwrap_or("—"))
        .raw("</dd><dt>Recorded</dt><dd>")
        .text(when(record.created_at))
        .raw("</dd></dl>");
}

fn decoded_sections(
    m: &mut Markup,
    state: &AppState,
    record: &CertificateRecord,
    objects: &[Object],
    now: OffsetDateTime,
) {
    if let Some(Object::Certificate(certificate)) = objects.first() {
        let purpose = if record.profile.starts_with("server") {
            VerifyPurpose::Server
        } else {
            VerifyPurpose::Client
        };
        m.raw("<section aria-labelledby=\"chain\"><h2 id=\"chain\">Chain</h2>");
        match Verifier::new(vec![state.root.clone()], Policy::new(purpose, now)) {
            Ok(verifier) => {
                let verdict = verifier
                    .with_pool(state.intermediates.clone())
                    .verify(certificate, &[]);
                verdict_markup(m, &verdict);
            }
            Err(e) => {
                m.raw("<p>").text(e).raw("</p>");
            }
        }
        m.raw("</section>");
    }
    m.raw("<section aria-labelledby=\"lint\"><h2 id=\"lint\">Lint findings</h2>");
    let options = mutual_lint::Options {
        profile: None,
        trust: mutual_lint::TrustMode::Private,
        now,
    };
    match mutual_lint::lint_objects(objects, &options) {
        Ok(reports) => {
            for report in &reports {
                lint_report(m, report);
            }
        }
        Err(e) => {
            m.raw("<p>Linting stopped: ").text(e).raw("</p>");
        }
    }
    m.raw("</section><section aria-labelledby=\"decoding\"><h2 id=\"decoding\">Decoding</h2><pre tabindex=\"0\">")
        .text(mutual_x509::text::render_all(objects, false))
        .raw("</pre><details><summary>PEM</summary><pre tabindex=\"0\">")
        .text(&record.pem)
        .raw("</pre></details></section>");
}
