//! What outlives a reload, shared by every worker: the current [`Generation`] (swapped
//! whole, so a connection keeps the one it started with), the flight recorder and the log.

use std::io::Write;
use std::sync::{Arc, Mutex, RwLock};

use crate::load::Generation;
use crate::recorder::Recorder;

pub(crate) struct Shared {
    current: RwLock<Arc<Generation>>,
    pub(crate) recorder: Recorder,
    log: Mutex<std::io::Stdout>,
}

impl Shared {
    pub(crate) fn new(generation: Generation, refusals_kept: usize) -> Self {
        Self {
            current: RwLock::new(Arc::new(generation)),
            recorder: Recorder::new(refusals_kept),
            log: Mutex::new(std::io::stdout()),
        }
    }

    pub(crate) fn current(&self) -> Arc<Generation> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn replace(&self, generation: Generation) {
        let generation = Arc::new(generation);
        match self.current.write() {
            Ok(mut current) => *current = generation,
            Err(poisoned) => *poisoned.into_inner() = generation,
        }
    }

    /// One JSON line on standard output.
    pub(crate) fn log(&self, record: &serde_json::Value) {
        let mut line = record.to_string();
        line.push('\n');
        self.write_log_line(line.as_bytes());
    }

    /// `line` ends with a newline; written whole, in one call.
    pub(crate) fn write_log_line(&self, line: &[u8]) {
        if let Ok(mut out) = self.log.lock() {
            let _ = out.write_all(line);
        }
    }
}

/// Resolves once the shutdown flag is up. (The guard `wait_for` returns is not `Send`, so
/// it is dropped here, inside, rather than held by the caller's `select!`.)
pub(crate) async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}
