//! `mutual bench http`: a bounded load generator for the service's endpoints (and any
//! other HTTP server beside it, such as `openssl ocsp -port`): N connections, each sending
//! the same request back to back for a fixed time, HTTP/1.1 keep-alive or one connection
//! per request (as relying parties fetching OCSP mostly do), over plain TCP or TLS with an
//! optional client certificate.
//!
//! On a machine where the generator shares the cores with the server, requests per second
//! say as much about the generator as the server; `--server-pid` adds the server's CPU
//! time per request (from /proc/PID/stat, the process and its children), which does not.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cli::{BenchHttpArgs, ReportFormat};
use crate::exit::{BadInput, ExitStatus};

#[derive(Debug, Serialize)]
struct Report {
    url: String,
    connections: u32,
    new_connection_per_request: bool,
    seconds: f64,
    requests: u64,
    requests_per_second: f64,
    /// Answers whose status was not the expected one, and transport errors.
    unexpected: u64,
    errors: u64,
    latency_p50_us: f64,
    latency_p99_us: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_cpu_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_cpu_us_per_request: Option<f64>,
}

struct Target {
    host: String,
    port: u16,
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls_pki_types::ServerName<'static>,
    )>,
    request: Vec<u8>,
    close: bool,
    expect: u16,
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    unexpected: u64,
    errors: u64,
}

pub(crate) fn run(args: &BenchHttpArgs) -> anyhow::Result<ExitStatus> {
    let target = Arc::new(target(args)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let warmup = Duration::from_secs_f64(args.warmup);
    let duration = Duration::from_secs_f64(args.duration);
    if duration.is_zero() {
        return Err(BadInput("--duration must be more than 0".to_owned()).into());
    }
    runtime.block_on(load(&target, args.connections, warmup));
    let cpu_before = args.server_pid.map(cpu_seconds).transpose()?;
    let started = Instant::now();
    let tally = runtime.block_on(load(&target, args.connections, duration));
    let seconds = started.elapsed().as_secs_f64();
    let cpu = match (args.server_pid, cpu_before) {
        (Some(pid), Some(before)) => Some(cpu_seconds(pid)? - before),
        _ => None,
    };
    let mut latencies = tally.latencies_us;
    latencies.sort_unstable();
    let requests = latencies.len() as u64;
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        f64::from(latencies[index.min(latencies.len() - 1)])
    };
    let report = Report {
        url: args.url.clone(),
        connections: args.connections,
        new_connection_per_request: args.close,
        seconds,
        requests,
        requests_per_second: requests as f64 / seconds,
        unexpected: tally.unexpected,
        errors: tally.errors,
        latency_p50_us: percentile(0.5),
        latency_p99_us: percentile(0.99),
        server_cpu_seconds: cpu,
        server_cpu_us_per_request: cpu
            .filter(|_| requests > 0)
            .map(|c| c * 1e6 / requests as f64),
    };
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Text => {
            println!(
                "{}: {} requests in {:.1} s over {} connection(s){}: {:.0}/s, latency p50 {:.0} µs, p99 {:.0} µs",
                report.url,
                report.requests,
                report.seconds,
                report.connections,
                if args.close {
                    ", one per request"
                } else {
                    ", kept alive"
                },
                report.requests_per_second,
                report.latency_p50_us,
                report.latency_p99_us
            );
            if let (Some(cpu), Some(per)) =
                (report.server_cpu_seconds, report.server_cpu_us_per_request)
            {
                println!("  server CPU {cpu:.2} s: {per:.1} µs per request");
            }
            if report.unexpected + report.errors > 0 {
                println!(
                    "  {} answers without status {}, {} transport errors",
                    report.unexpected, args.expect_status, report.errors
                );
            }
        }
    }
    Ok(
        if report.requests == 0 || report.unexpected + report.errors > 0 {
            ExitStatus::Negative
        } else {
            ExitStatus::Success
        },
    )
}

fn target(args: &BenchHttpArgs) -> anyhow::Result<Target> {
    let bad = |m: String| BadInput(format!("`{}`: {m}", args.url));
    let (scheme, rest) = args
        .url
        .split_once("://")
        .ok_or_else(|| bad("expected http://HOST:PORT/PATH or https://...".to_owned()))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (
            h.trim_start_matches('[').trim_end_matches(']').to_owned(),
            p.parse::<u16>().map_err(|_| bad(format!("port `{p}`")))?,
        ),
        None => (
            authority.to_owned(),
            if scheme == "https" { 443 } else { 80 },
        ),
    };
    let tls = match scheme {
        "http" => None,
        "https" => Some(tls(args, &host)?),
        other => return Err(bad(format!("scheme `{other}`: expected http or https")).into()),
    };
    let body = match &args.body {
        Some(path) => std::fs::read(path)
            .map_err(|e| BadInput(format!("--body `{}`: {e}", path.display())))?,
        None => Vec::new(),
    };
    let method = if args.body.is_some() { "POST" } else { "GET" };
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: mutual-bench\r\n");
    if args.body.is_some() {
        request.push_str(&format!(
            "Content-Type: {}\r\nContent-Length: {}\r\n",
            args.content_type,
            body.len()
        ));
    }
    if args.close {
        request.push_str("Connection: close\r\n");
    }
    request.push_str("\r\n");
    let mut request = request.into_bytes();
    request.extend_from_slice(&body);
    Ok(Target {
        host,
        port,
        tls,
        request,
        close: args.close,
        expect: args.expect_status,
    })
}

fn tls(
    args: &BenchHttpArgs,
    host: &str,
) -> anyhow::Result<(
    tokio_rustls::TlsConnector,
    rustls_pki_types::ServerName<'static>,
)> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let ca = args
        .ca_cert
        .as_deref()
        .ok_or_else(|| BadInput("https needs --ca-cert ROOT.pem".to_owned()))?;
    for der in pem_certificates(ca)? {
        roots.add(der.into()).context("--ca-cert")?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    let config = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => {
            let chain = pem_certificates(cert)?
                .into_iter()
                .map(Into::into)
                .collect();
            let key_pem = std::fs::read(key)
                .map_err(|e| BadInput(format!("--key `{}`: {e}", key.display())))?;
            let key_der = mutual_x509::pem::parse(&key_pem)
                .map_err(|e| BadInput(format!("--key `{}`: {e}", key.display())))?
                .into_iter()
                .find(|b| b.label == "PRIVATE KEY")
                .ok_or_else(|| {
                    BadInput(format!(
                        "--key `{}`: expected a PRIVATE KEY block",
                        key.display()
                    ))
                })?;
            builder.with_client_auth_cert(
                chain,
                rustls_pki_types::PrivateKeyDer::Pkcs8(key_der.der.into()),
            )?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(BadInput("--cert and --key go together".to_owned()).into()),
    };
    let mut config = config;
    if !args.resume {
        config.resumption = rustls::client::Resumption::disabled();
    }
    let name = rustls_pki_types::ServerName::try_from(host.to_owned())
        .map_err(|_| BadInput(format!("`{host}` is not a TLS server name")))?;
    Ok((tokio_rustls::TlsConnector::from(Arc::new(config)), name))
}

fn pem_certificates(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).map_err(|e| BadInput(format!("`{}`: {e}", path.display())))?;
    let certificates: Vec<Vec<u8>> = mutual_x509::pem::parse(&bytes)
        .map_err(|e| BadInput(format!("`{}`: {e}", path.display())))?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| b.der)
        .collect();
    if certificates.is_empty() {
        return Err(BadInput(format!("`{}`: no CERTIFICATE block", path.display())).into());
    }
    Ok(certificates)
}

async fn load(target: &Arc<Target>, connections: u32, duration: Duration) -> Tally {
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let target = target.clone();
            tokio::spawn(async move { connection(&target, deadline).await })
        })
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        if let Ok(tally) = task.await {
            total.latencies_us.extend(tally.latencies_us);
            total.unexpected += tally.unexpected;
            total.errors += tally.errors;
        }
    }
    total
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn connect(target: &Target) -> std::io::Result<Box<dyn Stream>> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port)).await?;
    tcp.set_nodelay(true)?;
    match &target.tls {
        None => Ok(Box::new(tcp)),
        Some((connector, name)) => Ok(Box::new(connector.connect(name.clone(), tcp).await?)),
    }
}

async fn connection(target: &Target, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut stream: Option<Box<dyn Stream>> = None;
    let mut buffer = Vec::with_capacity(16 * 1024);
    while Instant::now() < deadline {
        let started = Instant::now();
        if stream.is_none() {
            match connect(target).await {
                Ok(s) => stream = Some(s),
                Err(_) => {
                    tally.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(s) = stream.as_mut() else { continue };
        match exchange(s.as_mut(), &target.request, &mut buffer).await {
            Ok((status, keep_alive)) => {
                let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                tally.latencies_us.push(micros);
                if status != target.expect {
                    tally.unexpected += 1;
                }
                if target.close || !keep_alive {
                    stream = None;
                }
            }
            Err(_) => {
                tally.errors += 1;
                stream = None;
            }
        }
    }
    tally
}

/// Sends one request and reads one response; (status, whether the connection stays open).
async fn exchange(
    stream: &mut dyn Stream,
    request: &[u8],
    buffer: &mut Vec<u8>,
) -> std::io::Result<(u16, bool)> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    stream.write_all(request).await?;
    buffer.clear();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(invalid("closed before the headers"));
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = std::str::from_utf8(&buffer[..header_end]).map_err(|_| invalid("headers"))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("status line"))?;
    let mut length = None;
    let mut keep_alive = true;
    for line in head.lines().skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close")
            {
                keep_alive = false;
            }
        }
    }
    match length {
        Some(length) => {
            let mut have = buffer.len() - header_end;
            while have < length {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(invalid("closed in the body"));
                }
                have += n;
            }
        }
        None => {
            // No length: the body runs to the end of the connection.
            keep_alive = false;
            while stream.read(&mut chunk).await? > 0 {}
        }
    }
    Ok((status, keep_alive))
}

/// CPU time (user + system) of `pid` and its live children, in seconds.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let ticks = clock_ticks();
    let mut total = 0u64;
    let read = |pid: &str| -> Option<(u64, u32)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name may hold spaces; fields resume after its closing parenthesis.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        let ppid = fields.get(1)?.parse().ok()?;
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime, ppid))
    };
    let (own, _) = read(&pid.to_string())
        .ok_or_else(|| BadInput(format!("--server-pid {pid}: no such process")))?;
    total += own;
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.bytes().all(|b| b.is_ascii_digit())
            && let Some((time, ppid)) = read(name)
            && ppid == pid
        {
            total += time;
        }
    }
    Ok(total as f64 / ticks)
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
