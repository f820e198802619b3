//! One request: spoofed identity headers removed, a route chosen, the client admitted or
//! refused by it, and if admitted the request passed upstream with the verified identity
//! in headers — over a pooled keep-alive connection, WebSocket upgrades included.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Request, Response, StatusCode, Version};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// A client's request body, read to its end even when the gateway answers first (a 413
/// from Content-Length, a refusal): over HTTP/2 the client then reads the answer instead of
/// a reset stream (see mutual-net).
pub(crate) type ClientBody = mutual_net::Drained<Incoming>;

use crate::access_log::{ConnectionLog, RequestLine, Timestamp, Verdict};
use crate::judge::Admitted;
use crate::load::Generation;
use crate::recorder::{Entry, Stage};
use crate::refusal::Refusal;
use crate::rules::{Access, Route};
use crate::state::Shared;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Body = BoxBody<Bytes, BoxError>;
pub(crate) type Upstreams = Client<HttpConnector, Body>;

pub(crate) fn upstreams(idle: std::time::Duration) -> Upstreams {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.enforce_http(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(idle)
        .build(connector)
}

/// What the handshake established about the client, for every request on the connection.
#[derive(Debug, Clone)]
pub(crate) enum ClientCert {
    None,
    Admitted(Arc<Admitted>),
    Refused(Arc<Refusal>),
}

/// One TLS connection's facts, shared by its requests.
pub(crate) struct Connection {
    pub(crate) remote: SocketAddr,
    pub(crate) listener: SocketAddr,
    /// The client's address for X-Forwarded-For.
    pub(crate) forwarded_for: HeaderValue,
    pub(crate) log: ConnectionLog,
    pub(crate) client: ClientCert,
    /// The listener's judge: which CAs it trusts, for the advice in a 496.
    pub(crate) judge: Arc<crate::judge::Judge>,
    pub(crate) generation: Arc<Generation>,
    pub(crate) shared: Arc<Shared>,
    /// The worker's pool of upstream connections.
    pub(crate) upstreams: Upstreams,
}

impl Connection {
    fn log(&self, line: &RequestLine<'_>) {
        self.shared.write_log_line(&line.render(&self.log));
    }
}

pub(crate) async fn handle(
    conn: Arc<Connection>,
    mut request: Request<ClientBody>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let spoofed = crate::identity::strip_spoofed(request.headers_mut());
    let host = request_host(&request);
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let method = request.method().clone();
    let accept = request.headers().get(header::ACCEPT).cloned();

    let routes = &conn.generation.routes;
    let decision = match routes.find(host.as_deref(), &path) {
        None => Err(Box::new(Refusal::no_route(
            host.as_deref().unwrap_or(""),
            &path,
        ))),
        Some(route) => {
            admit(route, &conn.client, &conn.judge.accepted_cas).map(|admitted| (route, admitted))
        }
    };
    let (route, admitted) = match decision {
        Ok(found) => found,
        Err(refusal) => {
            let response = refusal.response(accept.as_ref());
            let status = response.status();
            let entry = Entry {
                time: time::OffsetDateTime::now_utc(),
                stage: Stage::Request,
                remote: conn.remote,
                listener: conn.listener,
                method: Some(method.to_string()),
                path: Some(path.clone()),
                refusal: *refusal,
            };
            conn.log(&RequestLine {
                time: Timestamp::now(),
                event: "request",
                method: method.as_str(),
                host: host.as_deref(),
                path: &path,
                status: status.as_u16(),
                route: entry.refusal.route.as_deref(),
                verdict: Verdict::Refused,
                code: Some(entry.refusal.code),
                spoofed_headers_removed: spoofed,
                upstream_ms: None,
                ms: RequestLine::since(started),
            });
            conn.shared.recorder.record(entry);
            return Ok(response.map(|b| b.map_err(|never| match never {}).boxed()));
        }
    };

    let verdict = if matches!(route.access, Access::Public) {
        Verdict::Public
    } else {
        Verdict::Admitted
    };
    let limits = &conn.generation.config.limits;
    let response = forward(&conn, route, admitted.as_deref(), request, limits).await;
    let (status, upstream_ms) = match &response {
        Ok((r, ms)) => (r.status(), Some(*ms)),
        Err(r) => (r.status(), None),
    };
    conn.log(&RequestLine {
        time: Timestamp::now(),
        event: "request",
        method: method.as_str(),
        host: host.as_deref(),
        path: &path,
        status: status.as_u16(),
        route: Some(&route.name),
        verdict,
        code: None,
        spoofed_headers_removed: spoofed,
        upstream_ms,
        ms: RequestLine::since(started),
    });
    route.metrics.count(status);
    Ok(match response {
        Ok((response, _)) => response,
        Err(response) => response,
    })
}

/// Whether the route lets this client through; the refusal says why not.
fn admit(
    route: &Route,
    client: &ClientCert,
    accepted_cas: &[String],
) -> Result<Option<Arc<Admitted>>, Box<Refusal>> {
    match (&route.access, client) {
        (Access::Public, ClientCert::Admitted(a)) => Ok(Some(a.clone())),
        (Access::Public, _) => Ok(None),
        (_, ClientCert::None) => {
            let mut refusal = Refusal::no_certificate(accepted_cas);
            refusal.route = Some(route.name.clone());
            Err(Box::new(refusal))
        }
        (_, ClientCert::Refused(refusal)) => {
            let mut refusal = Box::new((**refusal).clone());
            refusal.route = Some(route.name.clone());
            Err(refusal)
        }
        (_, ClientCert::Admitted(admitted)) => {
            if route.admits(&admitted.identity) {
                Ok(Some(admitted.clone()))
            } else {
                Err(Box::new(Refusal::not_allowed(
                    admitted.presented.clone(),
                    &route.name,
                )))
            }
        }
    }
}

/// The request sent upstream; `Ok` with the upstream's answer (and how long it took in
/// ms), `Err` with the gateway's own answer (413, 502, 504).
async fn forward(
    conn: &Connection,
    route: &Route,
    admitted: Option<&Admitted>,
    mut request: Request<ClientBody>,
    limits: &crate::config::Limits,
) -> Result<(Response<Body>, f64), Response<Body>> {
    if let Some(length) = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && length > limits.max_body
    {
        return Err(body_too_large(Some(length), limits.max_body));
    }
    let upgrade = is_upgrade(request.headers());
    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));

    let (mut parts, body) = request.into_parts();
    let original_host = parts.headers.get(header::HOST).cloned().or_else(|| {
        parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    remove_hop_by_hop(&mut parts.headers, upgrade);
    if let Some(host) = &original_host {
        parts.headers.insert(header::HOST, host.clone());
        parts
            .headers
            .insert(HeaderName::from_static("x-forwarded-host"), host.clone());
    }
    append_forwarded_for(&mut parts.headers, &conn.forwarded_for);
    parts.headers.insert(
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_static("https"),
    );
    if let Some(admitted) = admitted {
        admitted
            .headers
            .apply(&mut parts.headers, route.forward_pem);
    }
    let mut uri = http::uri::Parts::from(route.upstream.clone());
    uri.path_and_query = parts.uri.path_and_query().cloned();
    parts.uri = match http::Uri::from_parts(uri) {
        Ok(uri) => uri,
        Err(e) => {
            return Err(plain_error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                &format!("the request's path cannot be forwarded: {e}"),
            ));
        }
    };
    // Clients may speak HTTP/2; upstreams get HTTP/1.1 keep-alive.
    parts.version = Version::HTTP_11;
    let limit = usize::try_from(limits.max_body).unwrap_or(usize::MAX);
    let body = Limited::new(body, limit).boxed();
    let upstream_request = Request::from_parts(parts, body);

    let asked = Instant::now();
    let answered = tokio::time::timeout(
        limits.request_timeout,
        conn.upstreams.request(upstream_request),
    )
    .await;
    let upstream_ms = asked.elapsed().as_secs_f64() * 1000.0;
    route.metrics.upstream_seconds.record(upstream_ms / 1000.0);
    let mut response = match answered {
        Err(_) => {
            return Err(plain_error(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                &format!(
                    "the upstream {} did not answer within {} s",
                    route.upstream,
                    limits.request_timeout.as_secs()
                ),
            ));
        }
        // A body without Content-Length (chunked, or HTTP/2 without the header) is
        // measured as it streams upstream; crossing the limit aborts the upstream request,
        // and the client is told why rather than blaming the upstream with a 502.
        Ok(Err(e)) if exceeded_body_limit(&e) => {
            return Err(body_too_large(None, limits.max_body));
        }
        Ok(Err(e)) => {
            tracing::warn!(route = %route.name, upstream = %route.upstream, error = %e, "upstream request failed");
            return Err(plain_error(
                StatusCode::BAD_GATEWAY,
                "upstream_unreachable",
                &format!(
                    "the upstream {} could not be reached: {}",
                    route.upstream,
                    error_chain(&e)
                ),
            ));
        }
        Ok(Ok(response)) => response,
    };

    if response.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_upgrade) = client_upgrade
    {
        let upstream_upgrade = hyper::upgrade::on(&mut response);
        tokio::spawn(async move {
            match tokio::try_join!(client_upgrade, upstream_upgrade) {
                Ok((client, upstream)) => {
                    let mut client = TokioIo::new(client);
                    let mut upstream = TokioIo::new(upstream);
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
                Err(e) => tracing::debug!(error = %e, "an upgraded connection did not start"),
            }
        });
    } else {
        remove_hop_by_hop(response.headers_mut(), false);
    }
    Ok((
        response.map(|b| b.map_err(BoxError::from).boxed()),
        upstream_ms,
    ))
}

fn body_too_large(length: Option<u64>, max_body: u64) -> Response<Body> {
    let length = length.map_or_else(String::new, |l| format!(" ({l} bytes)"));
    plain_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        &format!("the request body{length} is larger than this gateway accepts ({max_body} bytes)"),
    )
}

/// Whether the upstream request failed because the body [`Limited`] wraps crossed its limit.
fn exceeded_body_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub(crate) fn plain_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({"status": status.as_u16(), "error": code, "message": message});
    let mut response = Response::new(
        Full::new(Bytes::from(body.to_string() + "\n"))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn request_host(request: &Request<ClientBody>) -> Option<String> {
    let raw = request.uri().host().map(str::to_owned).or_else(|| {
        request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
    })?;
    Some(strip_port(&raw).to_ascii_lowercase())
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// RFC 9110 §7.6.1: hop-by-hop fields are the connection's, not the message's.
fn remove_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in named {
        if !(keep_upgrade && name == header::UPGRADE) {
            headers.remove(name);
        }
    }
    for name in [
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
    ] {
        headers.remove(name);
    }
    headers.remove(header::CONNECTION);
    if keep_upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(header::UPGRADE);
    }
}

/// `ip`: the client's address as a header value, made once per connection.
fn append_forwarded_for(headers: &mut HeaderMap, ip: &HeaderValue) {
    let name = HeaderName::from_static("x-forwarded-for");
    let value = match headers.get(&name).and_then(|v| v.to_str().ok()) {
        Some(earlier) => ip
            .to_str()
            .ok()
            .and_then(|ip| HeaderValue::from_str(&format!("{earlier}, {ip}")).ok()),
        None => Some(ip.clone()),
    };
    if let Some(value) = value {
        headers.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_do_not_cross() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret"),
        );
        headers.insert("x-secret", HeaderValue::from_static("1"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        remove_hop_by_hop(&mut headers, false);
        assert_eq!(headers.len(), 1, "{headers:?}");
    }

    #[test]
    fn upgrades_keep_their_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert!(is_upgrade(&headers));
        remove_hop_by_hop(&mut headers, true);
        assert_eq!(headers[header::UPGRADE], "websocket");
        assert_eq!(headers[header::CONNECTION], "upgrade");
    }

    #[test]
    fn ports_are_not_part_of_the_host() {
        assert_eq!(strip_port("api.example:8443"), "api.example");
        assert_eq!(strip_port("[::1]:8443"), "::1");
        assert_eq!(strip_port("api.example"), "api.example");
    }
}
