//! `openssl s_server` as a peer for tests: started on a free port, ready before it is returned,
//! killed when dropped.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::Server;
use crate::tools::require_tool;

/// A running `openssl s_server -www` on 127.0.0.1; the process is killed on drop.
#[derive(Debug)]
pub struct SServer {
    server: Server,
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
        self.server.port()
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port()))
    }

    /// What `s_server` has written to stdout and stderr so far.
    pub fn output(&self) -> String {
        self.server.output()
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
        // Ready once the port accepts a connection.
        let server = Server::start(
            None,
            |port| self.command(&program, port),
            |server| {
                let address = SocketAddr::from(([127, 0, 0, 1], server.port()));
                TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
            },
        );
        SServer { server }
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
