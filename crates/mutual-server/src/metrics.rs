//! `GET /metrics` in the Prometheus text format: the inventory counted at scrape time
//! (certificates by profile and status, expiring within 7 and 30 days), and what the
//! service did since it started (issuance and OCSP latency histograms, revocations).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

pub(crate) const ISSUANCE_SECONDS: &str = "mutual_issuance_seconds";
pub(crate) const OCSP_SECONDS: &str = "mutual_ocsp_response_seconds";
pub(crate) const REVOCATIONS: &str = "mutual_revocations_total";

/// Latency buckets: from a cached OCSP answer (tens of µs) to an RSA-4096 key (seconds).
const BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0,
];

/// The process-wide recorder: `metrics` has one global recorder, installed on first use.
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics shows the inventory only");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the recorder and describes the metrics, so they appear from the first scrape.
pub(crate) fn init() {
    if handle().is_none() {
        return;
    }
    metrics::describe_histogram!(
        ISSUANCE_SECONDS,
        metrics::Unit::Seconds,
        "Time to issue a certificate (plan, rehearse, lint, sign, record), by endpoint"
    );
    metrics::describe_histogram!(
        OCSP_SECONDS,
        metrics::Unit::Seconds,
        "Time to answer an OCSP request"
    );
    metrics::describe_counter!(
        REVOCATIONS,
        "Certificates revoked through the service, by reason"
    );
}

/// A certificate issued through `endpoint` in `elapsed`.
pub(crate) fn issued(endpoint: &'static str, elapsed: Duration) {
    metrics::histogram!(ISSUANCE_SECONDS, "endpoint" => endpoint).record(elapsed.as_secs_f64());
}

pub(crate) fn ocsp_answered(elapsed: Duration) {
    metrics::histogram!(OCSP_SECONDS).record(elapsed.as_secs_f64());
}

pub(crate) fn revoked(reason: &'static str) {
    metrics::counter!(REVOCATIONS, "reason" => reason).increment(1);
}

pub(crate) async fn scrape(State(state): State<Arc<AppState>>) -> Response {
    let mut text = String::new();
    match state.store.census(time::OffsetDateTime::now_utc()).await {
        Ok(census) => {
            text.push_str(
                "# HELP mutual_certificates Certificates in the inventory, by profile and status\n",
            );
            text.push_str("# TYPE mutual_certificates gauge\n");
            for (profile, status, count) in &census.by_profile_status {
                text.push_str(&format!(
                    "mutual_certificates{{profile=\"{}\",status=\"{status}\"}} {count}\n",
                    escape(profile)
                ));
            }
            text.push_str("# HELP mutual_certificates_expiring Valid certificates whose notAfter is within the window\n");
            text.push_str("# TYPE mutual_certificates_expiring gauge\n");
            text.push_str(&format!(
                "mutual_certificates_expiring{{within=\"7d\"}} {}\n",
                census.expiring_7_days
            ));
            text.push_str(&format!(
                "mutual_certificates_expiring{{within=\"30d\"}} {}\n",
                census.expiring_30_days
            ));
        }
        Err(e) => {
            tracing::error!(error = %crate::error::with_causes(&e), "counting the inventory for /metrics failed");
            text.push_str("# the inventory could not be counted; see the service log\n");
        }
    }
    if let Some(handle) = handle() {
        text.push_str(&handle.render());
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// A label value as the text format needs it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
