//! The CA's OCSP responder (`mutual_ca::ocsp::Responder::respond`) on raw bytes as a
//! request, with a real (empty) SQLite store: whatever arrives, an OCSP response goes back.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mutual_ca::ocsp::Responder;
use mutual_ca::store::Store;

struct State {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    store: Store,
    responder: Responder,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let store = runtime
            .block_on(Store::open_sqlite(&dir.path().join("fuzz.sqlite")))
            .expect("a store");
        let ca = include_bytes!("../fixtures/ocsp/issuer.der");
        let key = mutual_ca::key::read_key(include_str!("../fixtures/ocsp/issuer.key.pem"), None)
            .expect("the fixture key");
        let responder = Responder::new(ca, "00", ca, key, time::Duration::hours(1))
            .expect("a responder");
        State {
            _dir: dir,
            runtime,
            store,
            responder,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let state = state();
    let now = time::macros::datetime!(2026-12-01 0:00 UTC);
    let response = state
        .runtime
        .block_on(state.responder.respond(data, &state.store, now));
    assert!(!response.is_empty());
});
