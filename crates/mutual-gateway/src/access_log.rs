//! The access log: one JSON line per request on standard output — who (the verified
//! identity), what, and the verdict. What does not change between a connection's
//! requests (addresses, identity) is rendered once per connection, so that a request
//! costs one small serialisation and one write.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Instant;

use serde::Serialize;

use crate::proxy::ClientCert;

/// A connection's constant members, as JSON text without braces.
#[derive(Debug)]
pub(crate) struct ConnectionLog {
    members: String,
}

impl ConnectionLog {
    pub(crate) fn new(remote: SocketAddr, listener: SocketAddr, client: &ClientCert) -> Self {
        let client = match client {
            ClientCert::Admitted(a) => serde_json::json!({
                "subject": a.identity.subject,
                "serial": a.identity.serial,
                "fingerprint_sha256": a.identity.fingerprint_sha256,
                "warnings": a.warnings,
            }),
            ClientCert::Refused(r) => serde_json::json!({
                "refused": r.code,
                "subject": r.certificate.as_ref().map(|c| &c.subject),
            }),
            ClientCert::None => serde_json::Value::Null,
        };
        let members =
            format!("\"remote\":\"{remote}\",\"listener\":\"{listener}\",\"client\":{client}");
        Self { members }
    }
}

/// The verdict on one request.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    Admitted,
    Public,
    Refused,
}

#[derive(Serialize)]
pub(crate) struct RequestLine<'a> {
    pub(crate) time: Timestamp,
    pub(crate) event: &'static str,
    pub(crate) method: &'a str,
    pub(crate) host: Option<&'a str>,
    pub(crate) path: &'a str,
    pub(crate) status: u16,
    pub(crate) route: Option<&'a str>,
    pub(crate) verdict: Verdict,
    pub(crate) code: Option<&'static str>,
    pub(crate) spoofed_headers_removed: usize,
    pub(crate) upstream_ms: Option<f64>,
    pub(crate) ms: f64,
}

impl RequestLine<'_> {
    pub(crate) fn since(started: Instant) -> f64 {
        started.elapsed().as_secs_f64() * 1000.0
    }

    /// The line, the connection's members folded in, newline-terminated.
    pub(crate) fn render(&self, connection: &ConnectionLog) -> Vec<u8> {
        let mut line = Vec::with_capacity(384 + connection.members.len());
        if serde_json::to_writer(&mut line, self).is_err() || line.pop() != Some(b'}') {
            return Vec::new();
        }
        line.push(b',');
        line.extend_from_slice(connection.members.as_bytes());
        line.extend_from_slice(b"}\n");
        line
    }
}

/// Now, as RFC 3339 UTC with microseconds, written without the general formatter: the
/// `time` of every log line the gateway writes.
pub(crate) struct Timestamp(pub(crate) time::OffsetDateTime);

impl Timestamp {
    pub(crate) fn now() -> Self {
        Self(time::OffsetDateTime::now_utc())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut text = String::with_capacity(27);
        let _ = write!(
            text,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        );
        serializer.serialize_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object_with_the_connection_members() {
        let connection = ConnectionLog::new(
            "127.0.0.1:5000".parse().unwrap(),
            "127.0.0.1:8443".parse().unwrap(),
            &ClientCert::None,
        );
        let line = RequestLine {
            time: Timestamp(time::macros::datetime!(2026-11-23 04:05:06.000007 UTC)),
            event: "request",
            method: "GET",
            host: Some("api"),
            path: "/a\"b",
            status: 200,
            route: Some("default"),
            verdict: Verdict::Admitted,
            code: None,
            spoofed_headers_removed: 0,
            upstream_ms: Some(1.5),
            ms: 2.0,
        }
        .render(&connection);
        assert_eq!(line.last(), Some(&b'\n'));
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(value["time"], "2026-11-23T04:05:06.000007Z");
        assert_eq!(value["path"], "/a\"b");
        assert_eq!(value["remote"], "127.0.0.1:5000");
        assert!(value["client"].is_null());
    }
}
