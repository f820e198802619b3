//! The expiry timeline, for administrators: how many certificates expire in each of the
//! next 13 weeks, server and client apart, drawn on the server as an inline SVG, and the
//! lists of those expiring within 7 and 30 days.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use mutual_ca::store::{CertificateRecord, Query as StoreQuery, Store, StoreError};
use time::{Duration, OffsetDateTime};

use super::decoder::problem;
use super::{Markup, Section, Viewer, page, refused, server_timing, when};
use crate::auth::Admin;
use crate::error::ApiError;
use crate::state::AppState;

const WEEKS: usize = 13;
/// Certificates listed under each of "within 7 days" and "within 30 days"; the heading
/// gives the count and links the inventory's filter for the rest.
const LISTED: u32 = 100;

pub(super) async fn page_handler(
    admin: Result<Admin, ApiError>,
    State(state): State<Arc<AppState>>,
) -> Response {
    let viewer = Viewer::of(admin);
    if !viewer.is_admin() {
        return refused("Expiry timeline", Section::Timeline, &viewer);
    }
    let started = std::time::Instant::now();
    let now = OffsetDateTime::now_utc();
    let mut body = Markup::new();
    body.raw("<h1>Expiry timeline</h1>");
    let status = match render(&mut body, &state.store, now).await {
        Ok(()) => StatusCode::OK,
        Err(e) => {
            let refusal = ApiError::internal("reading the inventory", &e);
            body.append(problem(&refusal.body.message));
            refusal.status
        }
    };
    let mut response = page(status, "Expiry timeline", Section::Timeline, &viewer, body);
    server_timing(&mut response, &[("timeline", started.elapsed())]);
    response
}

/// The profiles the chart counts, and which bar each is counted in.
const SIDES: [(&str, usize); 4] = [
    ("server", 0),
    ("server-client", 0),
    ("client", 1),
    ("admin", 1),
];

fn side(profile: &str) -> Option<usize> {
    SIDES
        .iter()
        .find(|(name, _)| *name == profile)
        .map(|(_, side)| *side)
}

async fn render(m: &mut Markup, store: &Store, now: OffsetDateTime) -> Result<(), StoreError> {
    // Counted by the database, per week and profile, from its indexes: no row read.
    let mut counts = [[0u64; 2]; WEEKS];
    let profiles = SIDES.map(|(profile, _)| profile);
    for count in store
        .expiry_counts(now, Duration::weeks(1), WEEKS as u32, &profiles)
        .await?
    {
        let week = usize::try_from(count.bucket)
            .unwrap_or(WEEKS - 1)
            .min(WEEKS - 1);
        if let Some(side) = side(&count.profile) {
            counts[week][side] += count.count;
        }
    }
    chart(m, &counts, now);
    for (days, id, heading) in [
        (7, "within-7", "Expiring within 7 days"),
        (30, "within-30", "Expiring within 30 days"),
    ] {
        let total = store.expiring_count(now, Duration::days(days)).await?;
        let mut query = StoreQuery::new(now);
        query.expiring_within = Some(Duration::days(days));
        query.limit = LISTED;
        let page = store.list(&query).await?;
        m.raw("<h2 id=\"")
            .raw(id)
            .raw("\">")
            .raw(heading)
            .raw(": ")
            .text(total)
            .raw("</h2>");
        list(m, &page.records);
        if total > page.records.len() as u64 {
            m.raw("<p>The first ")
                .text(page.records.len())
                .raw(" shown; <a href=\"/inventory?expiring=")
                .text(days)
                .raw("\">all ")
                .text(total)
                .raw(" in the inventory</a>.</p>");
        }
    }
    Ok(())
}

fn chart(m: &mut Markup, counts: &[[u64; 2]; WEEKS], now: OffsetDateTime) {
    const WIDTH: u64 = 680;
    const HEIGHT: u64 = 240;
    const TOP: u64 = 20;
    const BOTTOM: u64 = 40;
    const LEFT: u64 = 40;
    let plot = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT) / WEEKS as u64;
    let most = counts.iter().map(|w| w[0] + w[1]).max().unwrap_or(0).max(1);
    let total: u64 = counts.iter().map(|w| w[0] + w[1]).sum();
    m.raw("<figure class=\"chart\"><svg viewBox=\"0 0 680 240\" role=\"img\" aria-labelledby=\"chart-title\">")
        .raw("<title id=\"chart-title\">Certificates expiring per week over the next 13 weeks: ")
        .text(total)
        .raw(" in all</title>");
    m.raw("<text x=\"4\" y=\"")
        .text(TOP + 4)
        .raw("\">")
        .text(most)
        .raw("</text>");
    m.raw("<text x=\"4\" y=\"")
        .text(TOP + plot)
        .raw("\">0</text>");
    for (week, [server, client]) in counts.iter().enumerate() {
        let x = LEFT + week as u64 * slot + 4;
        let bar = slot - 8;
        let server_h = server * plot / most;
        let client_h = client * plot / most;
        let base = TOP + plot;
        for (class, height, y, count, what) in [
            ("server", server_h, base - server_h, server, "server"),
            (
                "client",
                client_h,
                base - server_h - client_h,
                client,
                "client",
            ),
        ] {
            if *count == 0 {
                continue;
            }
            m.raw("<rect class=\"")
                .raw(class)
                .raw("\" x=\"")
                .text(x)
                .raw("\" y=\"")
                .text(y)
                .raw("\" width=\"")
                .text(bar)
                .raw("\" height=\"")
                .text(height.max(1))
                .raw("\"><title>Week ")
                .text(week + 1)
                .raw(": ")
                .text(count)
                .raw(" ")
                .raw(what)
                .raw("</title></rect>");
        }
        let start = now + Duration::weeks(week as i64);
        m.raw("<text x=\"")
            .text(x)
            .raw("\" y=\"")
            .text(base + 16)
            .raw("\">")
            .text(format!("{:02}-{:02}", u8::from(start.month()), start.day()))
            .raw("</text>");
    }
    m.raw("</svg><figcaption>Per week from today: <span class=\"ok\">■</span> client (client, admin), ")
        .raw("<span class=\"legend-server\">■</span> server (server, server-client).</figcaption></figure>");
    m.raw("<div class=\"table-wrap\" tabindex=\"0\"><table><caption>The same figures</caption><thead><tr>")
        .raw("<th scope=\"col\">Week from</th><th scope=\"col\">Server</th><th scope=\"col\">Client</th></tr></thead><tbody>");
    for (week, [server, client]) in counts.iter().enumerate() {
        m.raw("<tr><td>")
            .text(when(now + Duration::weeks(week as i64)))
            .raw("</td><td>")
            .text(server)
            .raw("</td><td>")
            .text(client)
            .raw("</td></tr>");
    }
    m.raw("</tbody></table></div>");
}

fn list(m: &mut Markup, records: &[CertificateRecord]) {
    if records.is_empty() {
        m.raw("<p>None.</p>");
        return;
    }
    m.raw("<ul>");
    for record in records {
        m.raw("<li><a href=\"/inventory/")
            .text(record.fingerprint_sha256.replace(':', ""))
            .raw("\">")
            .text(&record.subject)
            .raw("</a> (")
            .text(&record.profile)
            .raw(") — ")
            .text(when(record.not_after))
            .raw("</li>");
    }
    m.raw("</ul>");
}
