//! A real `mutual gateway` on free loopback ports (its listener and admin port), and the
//! upstream it forwards to: a small HTTP/1.1 server that answers every request with what
//! it received (method, path, version, headers, body) as JSON and remembers it, so a test
//! can prove what reached the backend — and what never did. It answers `Upgrade` requests
//! with 101 and then echoes raw bytes, and holds requests for `/slow...` until the test
//! calls [`Upstream::release`], so that a request can be kept in flight on purpose.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::port::free_port;
use crate::process::Server;

/// One request as the upstream saw it.
#[derive(Debug, Clone, Serialize)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    /// As on the request line: `HTTP/1.1`.
    pub version: String,
    /// Names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Decoded (content-length or chunked).
    pub body: String,
}

impl SeenRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of the headers whose name starts with `prefix`.
    pub fn headers_starting(&self, prefix: &str) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .cloned()
            .collect()
    }
}

/// The echo upstream; stops accepting when dropped.
#[derive(Debug)]
pub struct Upstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    connections: Arc<Mutex<usize>>,
    released: Arc<Gate>,
}

/// Opened once by [`Upstream::release`]; `/slow` requests wait for it.
#[derive(Debug, Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

/// The longest a `/slow` request waits for [`Upstream::release`]: a test that forgets to
/// release does not hang forever.
const SLOW_AT_MOST: Duration = Duration::from_secs(60);

impl Gate {
    fn wait(&self) {
        let deadline = Instant::now() + SLOW_AT_MOST;
        let mut open = self.open.lock().expect("the upstream's gate");
        while !*open {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            open = self
                .opened
                .wait_timeout(open, left)
                .expect("the upstream's gate")
                .0;
        }
    }

    fn open(&self) {
        *self.open.lock().expect("the upstream's gate") = true;
        self.opened.notify_all();
    }
}

impl Upstream {
    pub fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the upstream");
        let addr = listener.local_addr().expect("the upstream's address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let released = Arc::new(Gate::default());
        let (s, c, r) = (seen.clone(), connections.clone(), released.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                *c.lock().expect("the upstream's record") += 1;
                let (seen, released) = (s.clone(), r.clone());
                thread::spawn(move || serve_connection(stream, &seen, &released));
            }
        });
        Upstream {
            addr,
            seen,
            connections,
            released,
        }
    }

    /// Lets every `/slow` request, waiting or still to come, be answered.
    pub fn release(&self) {
        self.released.open();
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.seen.lock().expect("the upstream's record").clone()
    }

    /// How many TCP connections the gateway opened to it (keep-alive pooling keeps this low).
    pub fn connections(&self) -> usize {
        *self.connections.lock().expect("the upstream's record")
    }
}

fn serve_connection(stream: TcpStream, seen: &Mutex<Vec<SeenRequest>>, released: &Gate) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(write) = stream.try_clone() else {
        return;
    };
    let mut write = write;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let version = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.to_ascii_lowercase())
        };
        let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            read_chunked(&mut reader)
        } else {
            let length = header("content-length").and_then(|v| v.parse().ok());
            let mut body = vec![0; length.unwrap_or(0)];
            reader.read_exact(&mut body).ok().map(|()| body)
        };
        // A body cut short (the gateway gave up on it) is not a request that arrived.
        let Some(body) = body else {
            return;
        };
        let request = SeenRequest {
            method,
            path,
            version,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let upgrade = request.header("upgrade").is_some();
        seen.lock()
            .expect("the upstream's record")
            .push(request.clone());
        if upgrade {
            // A WebSocket-like upgrade: 101, then echo raw bytes back until closed.
            let _ = write.write_all(
                b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n",
            );
            let mut buffer = [0u8; 4096];
            loop {
                match reader.read(&mut buffer) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if write.write_all(&buffer[..n]).is_err() {
                            return;
                        }
                    }
                }
            }
        }
        if request.path.starts_with("/slow") {
            released.wait();
        }
        let body = serde_json::to_string(&request).unwrap_or_default();
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if write.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// A chunked body (RFC 9112 §7.1), decoded; `None` if it ends early or is malformed.
fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        if reader.read_line(&mut size).ok()? == 0 {
            return None;
        }
        let size = size.trim_end().split(';').next()?.trim();
        let size = usize::from_str_radix(size, 16).ok()?;
        if size == 0 {
            // Trailer fields, if any, up to the empty line.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).ok()? == 0 {
                    return None;
                }
                if line.trim_end().is_empty() {
                    return Some(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).ok()?;
        let mut end = [0u8; 2];
        reader.read_exact(&mut end).ok()?;
        if &end != b"\r\n" {
            return None;
        }
    }
}

/// A running `mutual gateway`; killed when dropped.
#[derive(Debug)]
pub struct MutualGateway {
    server: Server,
    admin_port: u16,
}

impl MutualGateway {
    /// `binary gateway --listen 127.0.0.1:PORT --admin-listen 127.0.0.1:PORT2 ARGS...`.
    pub fn start(binary: &Path, args: &[&str]) -> MutualGateway {
        let admin = std::cell::Cell::new(0);
        let server = Server::start(
            None,
            |port| {
                let admin_port = free_port();
                admin.set(admin_port);
                let mut command = Command::new(binary);
                command
                    .arg("gateway")
                    .arg("--listen")
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("--admin-listen")
                    .arg(format!("127.0.0.1:{admin_port}"))
                    .args(args);
                let shown = format!(
                    "mutual gateway --listen 127.0.0.1:{port} {}",
                    args.join(" ")
                );
                (command, shown)
            },
            |server| server.output().contains("Gateway listening"),
        );
        MutualGateway {
            server,
            admin_port: admin.get(),
        }
    }

    /// `binary gateway --config FILE`, where `write_config(port, admin_port)` writes FILE
    /// for the free ports chosen.
    pub fn start_with_config(
        binary: &Path,
        config: &Path,
        write_config: impl Fn(u16, u16),
    ) -> MutualGateway {
        let admin = std::cell::Cell::new(0);
        let server = Server::start(
            None,
            |port| {
                let admin_port = free_port();
                admin.set(admin_port);
                write_config(port, admin_port);
                let mut command = Command::new(binary);
                command.arg("gateway").arg("--config").arg(config);
                let shown = format!("mutual gateway --config {}", config.display());
                (command, shown)
            },
            |server| server.output().contains("Gateway listening"),
        );
        MutualGateway {
            server,
            admin_port: admin.get(),
        }
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    /// `https://localhost:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port())
    }

    /// GET on the admin port; (status, body).
    pub fn admin(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.admin_port))
            .expect("connecting to the admin port");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
        )
        .expect("asking the admin port");
        let mut text = String::new();
        stream
            .read_to_string(&mut text)
            .expect("reading the admin answer");
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (status, body.to_owned())
    }

    /// Everything it printed: the JSON log lines and the banner.
    pub fn output(&self) -> String {
        self.server.output()
    }

    /// The JSON log lines with `"event"` equal to `event`.
    pub fn events(&self, event: &str) -> Vec<serde_json::Value> {
        self.output()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event"] == event)
            .collect()
    }

    /// SIGTERM, and the exit status if it stopped within `within`.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        self.server.terminate(within)
    }

    /// SIGTERM without waiting: the gateway stops accepting and drains; see [`Self::wait`].
    pub fn send_terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
    }

    /// The exit status, if it exits within `within`.
    pub fn wait(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        self.server.wait(within)
    }

    /// SIGHUP: reload.
    pub fn hangup(&self) {
        let _ = Command::new("kill")
            .args(["-HUP", &self.pid().to_string()])
            .status();
    }
}
