//! The flight recorder: the last refused handshakes and requests, each with the decoded
//! certificate and the diagnosis, for `/debug/refusals` — the answer to "why was this
//! device refused ten minutes ago?".

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;

use crate::refusal::Refusal;

/// Where the refusal happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Stage {
    Handshake,
    Request,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Entry {
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) time: OffsetDateTime,
    pub(crate) stage: Stage,
    pub(crate) remote: SocketAddr,
    pub(crate) listener: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) path: Option<String>,
    #[serde(flatten)]
    pub(crate) refusal: Refusal,
}

pub(crate) struct Recorder {
    kept: usize,
    entries: Mutex<VecDeque<Entry>>,
}

impl Recorder {
    pub(crate) fn new(kept: usize) -> Self {
        Self {
            kept,
            entries: Mutex::new(VecDeque::with_capacity(kept.min(1024))),
        }
    }

    pub(crate) fn record(&self, entry: Entry) {
        if self.kept == 0 {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.kept {
                entries.pop_front();
            }
            entries.push_back(entry);
        }
    }

    /// Newest first.
    pub(crate) fn newest_first(&self) -> Vec<Entry> {
        self.entries
            .lock()
            .map(|entries| entries.iter().rev().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_n_newest_first() {
        let recorder = Recorder::new(2);
        for path in ["/a", "/b", "/c"] {
            recorder.record(Entry {
                time: OffsetDateTime::UNIX_EPOCH,
                stage: Stage::Request,
                remote: "127.0.0.1:1".parse().unwrap(),
                listener: "127.0.0.1:2".parse().unwrap(),
                method: Some("GET".into()),
                path: Some(path.into()),
                refusal: Refusal::no_route("h", path),
            });
        }
        let paths: Vec<_> = recorder
            .newest_first()
            .into_iter()
            .map(|e| e.path.unwrap())
            .collect();
        assert_eq!(paths, ["/c", "/b"]);
    }
}
