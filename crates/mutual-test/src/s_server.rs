//! `openssl s_server` as a peer for tests: started on a free port, ready before it is returned,
//! killed when dropped.

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::port::free_port;
use crate::tools::require_tool;

/// How long `openssl s_server` gets to start accepting connections.
const STARTUP: Duration = Duration::from_secs(10);
/// How many fresh ports to try when another process takes the one we picked.
const PORT_ATTEMPTS: usize = 3;

/// A running `openssl s_server -www` on 127.0.0.1; the process is killed on drop.
#[derive(Debug)]
pub struct SServer {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

/// Options for [`SServer`]; start it with [`SServerBuilder::start`].
#[derive(Clone, Debug)]
pub struct SServerBuilder {
    cert: PathBuf,
    key: PathBuf,
    cert_chain: Option<PathBuf>,
    client_ca: Option<(u32, PathBuf)>,
    args: Vec<String>,
}

impl SServer {
    /// A server presenting the certificate `cert` with private key `key`.
    pub fn builder(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> SServerBuilder {
        SServerBuilder {
            cert: cert.into(),
            key: key.into(),
            cert_chain: None,
            client_ca: None,
            args: Vec::new(),
        }
    }

    /// The port it listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// What `s_server` has written to stdout and stderr so far.
    pub fn output(&self) -> String {
        fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        // Already exited is fine; there is nothing else to do about a failure here.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SServerBuilder {
    /// Also send the certificates in this PEM file after `cert` (`-cert_chain`).
    pub fn cert_chain(mut self, path: impl Into<PathBuf>) -> Self {
        self.cert_chain = Some(path.into());
        self
    }

    /// Require a client certificate that chains to the CAs in `ca_file`, at most `depth`
    /// certificates deep (`-Verify DEPTH -verify_return_error -CAfile CA_FILE`).
    pub fn require_client_certificate(mut self, depth: u32, ca_file: impl Into<PathBuf>) -> Self {
        self.client_ca = Some((depth, ca_file.into()));
        self
    }

    /// Pass `arg` to `s_server` as well, e.g. `-tls1_2`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Starts `s_server` and waits until it accepts TCP connections; panics with its output
    /// if it exits or is not ready within 10 s.
    pub fn start(&self) -> SServer {
        let program = require_tool("openssl");
        for attempt in 1..=PORT_ATTEMPTS {
            let port = free_port();
            let (mut command, shown) = self.command(&program, port);
            let log = tempfile::NamedTempFile::new().expect("creating a log file for s_server");
            let stdout = log.reopen().expect("opening the s_server log");
            let stderr = log.reopen().expect("opening the s_server log");
            let child = command
                .stdin(Stdio::null())
                .stdout(stdout)
                .stderr(stderr)
                .spawn()
                .unwrap_or_else(|error| panic!("starting `{shown}`: {error}"));
            let mut server = SServer { child, port, log };
            match wait_until_ready(&mut server) {
                Ok(()) => return server,
                // Another process took the port between free_port() and bind: try a new one.
                Err(_) if attempt < PORT_ATTEMPTS && server.output().contains("in use") => {}
                Err(exit) => panic!("`{shown}` {exit}; its output:\n{}", server.output()),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn command(&self, program: &Path, port: u16) -> (Command, String) {
        let mut args: Vec<String> = vec![
            "s_server".into(),
            "-accept".into(),
            format!("127.0.0.1:{port}"),
            "-cert".into(),
            path_arg(&self.cert),
            "-key".into(),
            path_arg(&self.key),
        ];
        if let Some(chain) = &self.cert_chain {
            args.extend(["-cert_chain".into(), path_arg(chain)]);
        }
        if let Some((depth, ca_file)) = &self.client_ca {
            args.extend([
                "-Verify".into(),
                depth.to_string(),
                "-verify_return_error".into(),
                "-CAfile".into(),
                path_arg(ca_file),
            ]);
        }
        args.extend(self.args.iter().cloned());
        args.push("-www".into());
        let shown = format!("openssl {}", args.join(" "));
        let mut command = Command::new(program);
        command.args(&args);
        (command, shown)
    }
}

fn path_arg(path: &Path) -> String {
    path.to_str()
        .unwrap_or_else(|| panic!("`{}` is not UTF-8", path.display()))
        .to_owned()
}

/// `Ok` once the port accepts a connection; `Err` says how the server failed to get there.
fn wait_until_ready(server: &mut SServer) -> Result<(), String> {
    let deadline = Instant::now() + STARTUP;
    let address = server.address();
    loop {
        if let Some(status) = server.child.try_wait().ok().flatten() {
            return Err(format!("exited with {status} before accepting connections"));
        }
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "did not accept connections on {address} within {STARTUP:?}"
            ));
        }
        thread::sleep(Duration::from_millis(25));
    }
}
