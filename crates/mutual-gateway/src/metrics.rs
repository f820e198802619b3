//! `/metrics` on the admin port: handshakes by outcome and diagnosis code, requests by
//! route and status, upstream latency, and which CRL (number, thisUpdate) each issuer's
//! revocations come from — proof that a revocation has reached the edge.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::load::LoadedCrl;

pub(crate) const HANDSHAKES: &str = "mutual_gateway_handshakes_total";
pub(crate) const REQUESTS: &str = "mutual_gateway_requests_total";
pub(crate) const UPSTREAM_SECONDS: &str = "mutual_gateway_upstream_seconds";
pub(crate) const CRL_NUMBER: &str = "mutual_gateway_crl_number";
pub(crate) const CRL_THIS_UPDATE: &str = "mutual_gateway_crl_this_update_seconds";
pub(crate) const CRL_LOADED: &str = "mutual_gateway_crl_loaded_seconds";
pub(crate) const RELOADS: &str = "mutual_gateway_reloads_total";

const BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The process-wide recorder (`metrics` has one), installed on first use.
pub(crate) fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics is empty");
                    None
                }
            }
        })
        .as_ref()
}

pub(crate) fn init() {
    if handle().is_none() {
        return;
    }
    metrics::describe_counter!(
        HANDSHAKES,
        "TLS handshakes by listener, outcome (admitted, refused, failed) and diagnosis code"
    );
    metrics::describe_counter!(REQUESTS, "Requests by route and status");
    metrics::describe_histogram!(
        UPSTREAM_SECONDS,
        metrics::Unit::Seconds,
        "Time to the upstream's response headers, by route"
    );
    metrics::describe_gauge!(
        CRL_NUMBER,
        "The CRL number of the CRL loaded for each issuer"
    );
    metrics::describe_gauge!(
        CRL_THIS_UPDATE,
        metrics::Unit::Seconds,
        "thisUpdate of the CRL loaded for each issuer (Unix time)"
    );
    metrics::describe_gauge!(
        CRL_LOADED,
        metrics::Unit::Seconds,
        "When the CRL for each issuer was loaded (Unix time)"
    );
    metrics::describe_counter!(RELOADS, "Configuration reloads by outcome");
}

/// Records which CRLs are in force.
pub(crate) fn crls_loaded(crls: &[LoadedCrl]) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    for crl in crls {
        let number = crl
            .number
            .as_deref()
            .and_then(|n| n.parse::<u64>().ok())
            .map_or(-1.0, |n| n as f64);
        metrics::gauge!(CRL_NUMBER, "issuer" => crl.issuer.clone(), "source" => crl.source.clone())
            .set(number);
        metrics::gauge!(CRL_THIS_UPDATE, "issuer" => crl.issuer.clone(), "source" => crl.source.clone())
            .set(crl.this_update.unix_timestamp() as f64);
        metrics::gauge!(CRL_LOADED, "issuer" => crl.issuer.clone(), "source" => crl.source.clone())
            .set(now);
    }
}

pub(crate) fn render() -> String {
    handle().map(PrometheusHandle::render).unwrap_or_default()
}
