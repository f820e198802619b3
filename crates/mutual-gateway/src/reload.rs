//! Reloading without dropping a connection: on SIGHUP, when a file the configuration
//! names (or the configuration itself) changes, and every `revocation.refresh` to fetch
//! CRLs again. A configuration that does not load is logged, problem by problem, and the
//! running one stays.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::config::Config;
use crate::metrics::RELOADS;
use crate::state::Shared;

/// How often the files are looked at.
const POLL: Duration = Duration::from_secs(1);

pub(crate) async fn watch(
    config_path: Option<PathBuf>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut seen = stamps(&config_path, &shared.current().config);
    let mut poll = tokio::time::interval(POLL);
    let refresh = shared.current().config.revocation.refresh;
    let mut refetch = tokio::time::interval(refresh.max(Duration::from_secs(1)));
    refetch.tick().await;
    loop {
        let why = tokio::select! {
            _ = crate::state::stopped(&mut stop) => return,
            Some(()) = async {
                match hangup.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            } => "SIGHUP",
            _ = poll.tick() => {
                let now = stamps(&config_path, &shared.current().config);
                if now == seen {
                    continue;
                }
                "a file changed"
            }
            _ = refetch.tick() => {
                if !shared.current().config.revocation.crl.iter().any(|c| c.contains("://")) {
                    continue;
                }
                "CRL refresh"
            }
        };
        reload(&config_path, &shared, why).await;
        seen = stamps(&config_path, &shared.current().config);
    }
}

async fn reload(config_path: &Option<PathBuf>, shared: &Shared, why: &str) {
    let current = shared.current();
    let config = match config_path {
        Some(path) => match Config::load(path) {
            Ok(config) => config,
            Err(e) => {
                failed(shared, why, vec![e.to_string()]);
                return;
            }
        },
        None => current.config.clone(),
    };
    let old: Vec<_> = current.config.listeners.iter().map(|l| l.listen).collect();
    let new: Vec<_> = config.listeners.iter().map(|l| l.listen).collect();
    if old != new {
        failed(
            shared,
            why,
            vec!["the listen addresses changed; that needs a restart (the running configuration stays)".to_owned()],
        );
        return;
    }
    match crate::load::load(&config, time::OffsetDateTime::now_utc()).await {
        Ok(generation) => {
            crate::metrics::crls_loaded(&generation.crls);
            let crls: Vec<_> = generation
                .crls
                .iter()
                .map(|c| serde_json::json!({"issuer": c.issuer, "number": c.number, "revoked": c.revoked}))
                .collect();
            shared.replace(generation);
            metrics::counter!(RELOADS, "outcome" => "loaded").increment(1);
            shared.log(&serde_json::json!({
                "time": crate::access_log::Timestamp::now(),
                "event": "reloaded",
                "why": why,
                "crls": crls,
            }));
        }
        Err(problems) => failed(
            shared,
            why,
            problems.iter().map(ToString::to_string).collect(),
        ),
    }
}

fn failed(shared: &Shared, why: &str, problems: Vec<String>) {
    metrics::counter!(RELOADS, "outcome" => "failed").increment(1);
    shared.log(&serde_json::json!({
        "time": crate::access_log::Timestamp::now(),
        "event": "reload_failed",
        "why": why,
        "problems": problems,
        "note": "the running configuration stays in force",
    }));
}

/// Modification time and length of every file that makes the configuration.
fn stamps(
    config_path: &Option<PathBuf>,
    config: &Config,
) -> HashMap<PathBuf, Option<(SystemTime, u64)>> {
    config_path
        .iter()
        .cloned()
        .chain(config.files())
        .map(|path| {
            let stamp = std::fs::metadata(&path)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())));
            (path, stamp)
        })
        .collect()
}
