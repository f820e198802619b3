//! `gateway.toml` as `mutual gateway` reads it (`Config::parse`), the duration and size
//! values inside it, and the route rules' wildcard matching: any text either parses or is
//! refused with a message, and matching a pattern against text always finishes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mutual_gateway::config::{Config, parse_duration, parse_size};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(text) {
        Ok(config) => {
            let _ = config.files();
        }
        Err(message) => assert!(!message.is_empty()),
    }
    let _ = parse_duration(text);
    let _ = parse_size(text);
    // The first line is a pattern, the rest the text it is matched against.
    if let Some((pattern, subject)) = text.split_once('\n') {
        let _ = mutual_gateway::glob_matches(pattern, subject, false);
        let _ = mutual_gateway::glob_matches(pattern, subject, true);
    }
});
